package protocol

import "strings"

// Message is a request or a response: ordered key/value pairs. See the package doc.
type Message struct {
	ents []entry
	idx  map[string]int // key -> index in ents, built once ents grows past indexAt
}

// entry is one key. A deleted key stays as a tombstone so that it keeps its
// position and indexes stay valid.
type entry struct {
	key  string
	val  string   // scalar key: the value, when set
	list []string // list key: the values; none means absent
	set  bool     // scalar key: present
}

// Below this many keys a linear scan beats a map.
const indexAt = 16

// NewMessage returns an empty message.
func NewMessage() *Message { return &Message{} }

// IsList reports whether key is a list key: one that ends in "[]".
func IsList(key string) bool { return strings.HasSuffix(key, "[]") }

func (e *entry) present() bool { return e.set || len(e.list) > 0 }

func (m *Message) find(key string) int {
	if m.idx != nil {
		if i, ok := m.idx[key]; ok {
			return i
		}
		return -1
	}
	for i := range m.ents {
		if m.ents[i].key == key {
			return i
		}
	}
	return -1
}

// slot returns the entry for key, adding it at the end if it was never seen.
func (m *Message) slot(key string) *entry {
	if i := m.find(key); i >= 0 {
		return &m.ents[i]
	}
	m.ents = append(m.ents, entry{key: key})
	n := len(m.ents)
	if m.idx != nil {
		m.idx[key] = n - 1
	} else if n > indexAt {
		m.idx = make(map[string]int, 2*n)
		for i := range m.ents {
			m.idx[m.ents[i].key] = i
		}
	}
	return &m.ents[n-1]
}

// Get returns the value of key and whether key is present. For a list key it
// returns the last value.
func (m *Message) Get(key string) (string, bool) {
	if m == nil {
		return "", false
	}
	i := m.find(key)
	if i < 0 {
		return "", false
	}
	e := &m.ents[i]
	if n := len(e.list); n > 0 {
		return e.list[n-1], true
	}
	return e.val, e.set
}

// Values returns a copy of the values of key in order: all of them for a list key,
// the one value of a present scalar key, nil for an absent key.
func (m *Message) Values(key string) []string {
	if m == nil {
		return nil
	}
	i := m.find(key)
	if i < 0 {
		return nil
	}
	e := &m.ents[i]
	if len(e.list) > 0 {
		return append([]string(nil), e.list...)
	}
	if e.set {
		return []string{e.val}
	}
	return nil
}

// Set makes key hold exactly value: for a scalar key, the value (which may be "");
// for a list key, the one-value list {value}, or no list at all if value is "".
func (m *Message) Set(key, value string) {
	if IsList(key) {
		if value == "" {
			m.Del(key)
			return
		}
		e := m.slot(key)
		e.list = append(e.list[:0], value)
		return
	}
	e := m.slot(key)
	e.val, e.set = value, true
}

// Add applies one kv line: for a list key it appends value, or clears the list if
// value is ""; for a scalar key it is Set (the last value wins).
func (m *Message) Add(key, value string) {
	if !IsList(key) {
		e := m.slot(key)
		e.val, e.set = value, true
		return
	}
	if value == "" {
		m.Del(key)
		return
	}
	e := m.slot(key)
	e.list = append(e.list, value)
}

// Del removes key and all its values.
func (m *Message) Del(key string) {
	if i := m.find(key); i >= 0 {
		m.ents[i] = entry{key: key}
	}
}

// Keys returns the present keys in the order they were first added.
func (m *Message) Keys() []string {
	if m == nil {
		return nil
	}
	keys := make([]string, 0, len(m.ents))
	for i := range m.ents {
		if m.ents[i].present() {
			keys = append(keys, m.ents[i].key)
		}
	}
	return keys
}

// Len returns the number of present keys.
func (m *Message) Len() int {
	if m == nil {
		return 0
	}
	n := 0
	for i := range m.ents {
		if m.ents[i].present() {
			n++
		}
	}
	return n
}

// String returns the keys only, never a value, so that a message printed by
// mistake with %v, %s or %+v leaks no secret.
func (m Message) String() string {
	keys := m.Keys()
	for i, k := range keys {
		keys[i] = quoteKey(k)
	}
	return "protocol.Message{" + strings.Join(keys, ", ") + "}"
}

// GoString is String, for %#v.
func (m Message) GoString() string { return m.String() }
