package file

import (
	"encoding/json"
	"fmt"
)

// Lookup returns the entry stored under key and whether there is one. It walks only
// the structure of the outer object: the other entries are skipped, not decoded, so
// a get from a file of a thousand records costs little more than from a file of one.
// The entry returned is checked to be valid JSON; the rest of the file is not (Read
// and Update check the whole file, and Update refuses to overwrite a broken one).
func (s *Store) Lookup(key string) (json.RawMessage, bool, error) {
	data, err := s.readFile()
	if err != nil {
		return nil, false, err
	}
	raw, found, ok := lookup(data, key)
	if !ok {
		return nil, false, fmt.Errorf("%s is not a valid JSON object; fix or move it aside", s.path)
	}
	return raw, found, nil
}

// lookup finds key among the members of the JSON object in data. ok is false when
// the outer structure is broken.
func lookup(data []byte, key string) (raw []byte, found, ok bool) {
	i := skipSpace(data, 0)
	if i == len(data) {
		return nil, false, true // an empty file holds nothing
	}
	if data[i] != '{' {
		return nil, false, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil, false, skipSpace(data, i+1) == len(data)
	}
	for i < len(data) {
		if data[i] != '"' {
			return nil, false, false
		}
		kend, escaped := skipString(data, i)
		if kend < 0 {
			return nil, false, false
		}
		match := false
		if escaped {
			var k string
			match = json.Unmarshal(data[i:kend], &k) == nil && k == key
		} else {
			match = string(data[i+1:kend-1]) == key
		}
		i = skipSpace(data, kend)
		if i == len(data) || data[i] != ':' {
			return nil, false, false
		}
		vstart := skipSpace(data, i+1)
		vend := skipValue(data, vstart)
		if vend < 0 {
			return nil, false, false
		}
		if match {
			v := data[vstart:vend]
			return v, true, json.Valid(v)
		}
		i = skipSpace(data, vend)
		if i == len(data) {
			return nil, false, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return nil, false, skipSpace(data, i+1) == len(data)
		default:
			return nil, false, false
		}
	}
	return nil, false, false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at data[i] ('"'),
// or -1, and whether it holds an escape.
func skipString(data []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// skipValue returns the index just past the value that starts at data[i], or -1.
// Nested objects and arrays are skipped by depth, strings by their quotes; the
// value's own validity is checked by the caller if it is used.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		end, _ := skipString(data, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, _ := skipString(data, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(data) && data[j] != ',' && data[j] != '}' && data[j] != ']' &&
		data[j] != ' ' && data[j] != '\t' && data[j] != '\n' && data[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}
