package file

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

// putAndRead runs Put on a store whose file holds doc (no file when doc is nil) and
// returns the file's bytes after it.
func putAndRead(t *testing.T, doc []byte, key string, entry []byte, keep func([]byte) bool) (out []byte, changed bool, err error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, ".credentials.json")
	if doc != nil {
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := New(path, filepath.Join(dir, "locks", "file-store.lock"), time.Second)
	changed, err = s.Put(key, entry, keep)
	out, rerr := os.ReadFile(path)
	if rerr != nil && doc != nil {
		t.Fatal(rerr)
	}
	return out, changed, err
}

// encodeWith is the reference: a full decode, the change, a full encode.
func encodeWith(doc []byte, key string, entry []byte) ([]byte, bool) {
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(doc)) > 0 {
		if json.Unmarshal(doc, &m) != nil || m == nil {
			return nil, false
		}
	}
	m[key] = entry
	out, err := Encode(m)
	if err != nil {
		return nil, false // a key that is not UTF-8
	}
	return out, true
}

// Put splices into files in the exact format and falls back to a full rewrite for
// the rest; either way the file is what a full decode, change and encode gives.
func TestPutMatchesFullEncode(t *testing.T) {
	for _, chunk := range []int{readChunk, 3} {
		t.Run(fmt.Sprintf("window %d", chunk), func(t *testing.T) {
			old := readChunk
			readChunk = chunk
			t.Cleanup(func() { readChunk = old })
			testPutMatchesFullEncode(t)
		})
	}
}

func testPutMatchesFullEncode(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keyAlphabet := []string{"a", "b", "|", "0", "z", "é", "ü", "\u2028", "<", "&", " ", "\"", "\\", "\n"}
	randKey := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(keyAlphabet[rng.IntN(len(keyAlphabet))])
		}
		return b.String()
	}
	for i := range 400 {
		m := map[string]json.RawMessage{}
		for range rng.IntN(6) {
			m[randKey()] = json.RawMessage(fmt.Sprintf(`{"n":%d,"s":"v\"}{%d","a":[1,{"x":null}]}`, rng.IntN(100), i))
		}
		var doc []byte
		switch {
		case len(m) == 0 && i%3 == 0:
			doc = nil // no file
		case len(m) == 0 && i%3 == 1:
			doc = []byte(" \n")
		default:
			doc, _ = Encode(m)
			if i%5 == 0 { // someone pretty-printed it
				var b bytes.Buffer
				json.Indent(&b, doc, "", "  ")
				doc = b.Bytes()
			}
		}
		key := randKey()
		if i%4 == 0 && len(m) > 0 {
			key = slices.Sorted(func(yield func(string) bool) {
				for k := range m {
					if !yield(k) {
						return
					}
				}
			})[rng.IntN(len(m))]
		}
		entry := []byte(fmt.Sprintf(`{ "new" : %d }`, i))
		want, _ := encodeWith(doc, key, []byte(fmt.Sprintf(`{"new":%d}`, i)))
		got, changed, err := putAndRead(t, doc, key, entry, nil)
		if err != nil || !changed {
			t.Fatalf("Put(%q) into %q: changed %v, %v", key, doc, changed, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Put(%q) into %q:\n got %s\nwant %s", key, doc, got, want)
		}
	}
}

func TestPutKeep(t *testing.T) {
	doc := []byte(`{"a":{"v":1},"b":{"v":2}}`)
	var seen string
	got, changed, err := putAndRead(t, doc, "b", []byte(`{"v":3}`), func(old []byte) bool {
		seen = string(old)
		return true
	})
	if err != nil || changed || !bytes.Equal(got, doc) || seen != `{"v":2}` {
		t.Fatalf("keep: changed %v, %v, file %s, keep saw %s", changed, err, got, seen)
	}
	got, changed, err = putAndRead(t, doc, "b", []byte(`{"v":3}`), func([]byte) bool { return false })
	if err != nil || !changed || string(got) != `{"a":{"v":1},"b":{"v":3}}` {
		t.Fatalf("replace: changed %v, %v, file %s", changed, err, got)
	}
}

func TestPutRefusesBadInput(t *testing.T) {
	for _, c := range []struct{ doc, key, entry string }{
		{`{"a":1}`, "k", `{"x":`},        // entry not JSON
		{`{"a":1}`, "k\xff", `{}`},       // key not UTF-8
		{`{"a":1`, "k", `{}`},            // file not an object: Update refuses it
		{`{"a":1} x`, "k", `{}`},         //
		{`[{"a":1}]`, "k", `{}`},         //
		{`{"b":1,"a":2,}`, "k", `{}`},    //
		{`{"a":1,"a":2,"b":`, "k", `{}`}, //
	} {
		got, changed, err := putAndRead(t, []byte(c.doc), c.key, []byte(c.entry), nil)
		if err == nil || changed || string(got) != c.doc {
			t.Errorf("Put(%q, %q) into %q: changed %v, err %v, file now %q", c.key, c.entry, c.doc, changed, err, got)
		}
	}
}

// Put agrees with a full decode and encode on every file a full decode accepts; on
// a file it does not, Put refuses, or (when only an entry's content is broken)
// carries every other entry byte for byte.
func FuzzPut(f *testing.F) {
	f.Add([]byte(`{"a":{"x":[1,{"y":"}]"}]},"c":"q\"uote"}`), "b", []byte(`{"v":1}`))
	f.Add([]byte(`{"a":1}`), "a", []byte(`[ 1 , 2 ]`))
	f.Add([]byte("{\n \"a\": 1\n}"), "0", []byte(`"s"`))
	f.Add([]byte(`{"a":tru,"c":{"d":[}}`), "b", []byte(`null`))
	f.Add([]byte(`{"\u00e9":1}`), "é", []byte(`2`))
	f.Add([]byte(``), "k", []byte(`{}`))
	f.Fuzz(func(t *testing.T, doc []byte, key string, entry []byte) {
		if len(doc)%2 == 1 { // half the time through small windows
			old := readChunk
			readChunk = 5
			defer func() { readChunk = old }()
		}
		var compact bytes.Buffer
		if json.Compact(&compact, entry) != nil {
			return
		}
		got, changed, err := putAndRead(t, doc, key, entry, nil)
		want, valid := encodeWith(doc, key, compact.Bytes())
		if valid {
			if err != nil || !changed || !bytes.Equal(got, want) {
				t.Fatalf("Put(%q, %q) into %q: changed %v, err %v\n got %q\nwant %q", key, entry, doc, changed, err, got, want)
			}
			return
		}
		if !utf8.ValidString(key) && err == nil {
			t.Fatalf("Put accepted key %q", key)
		}
		if err != nil {
			if !bytes.Equal(got, doc) {
				t.Fatalf("a failed Put changed the file: %q -> %q", doc, got)
			}
			return
		}
		if raw, found, _ := lookup(got, key); !found || !bytes.Equal(raw, compact.Bytes()) {
			t.Fatalf("Put(%q, %q) into %q gave %q, which holds %q under the key", key, entry, doc, got, raw)
		}
		w := &window{buf: doc, eof: true}
		for i, st := openObject(doc); st == done && i < len(doc) && doc[i] != '}'; {
			m, st := scanMember(w.buf, i)
			if st != done {
				break
			}
			if !m.keyIs(doc, key) {
				var k string
				json.Unmarshal(doc[m.keyStart:m.keyEnd], &k)
				if raw, found, _ := lookup(got, k); !found || !bytes.Equal(raw, doc[m.valStart:m.valEnd]) {
					t.Fatalf("Put(%q) into %q lost entry %q: now %q", key, doc, k, got)
				}
			}
			if m.last {
				break
			}
			i = m.next
		}
	})
}

// Reading in windows, however small and however the reads are cut, finds what a
// scan of the whole file finds.
func FuzzLookupWindowed(f *testing.F) {
	f.Add([]byte(`{"a":{"x":[1,{"y":"}]"}]},"b":"q\"uo\\\\\"te", "c" : [ 1 , 2 ] }`), "c", uint8(1))
	f.Add([]byte(`  {}  `), "a", uint8(3))
	f.Add([]byte(`{"a":1`), "a", uint8(2))
	f.Fuzz(func(t *testing.T, doc []byte, key string, chunk uint8) {
		raw, found, ok := lookup(doc, key)
		for _, wrap := range []func(io.Reader) io.Reader{
			func(r io.Reader) io.Reader { return r },
			iotest.OneByteReader,
			iotest.HalfReader,
			iotest.DataErrReader,
		} {
			w := &window{r: wrap(bytes.NewReader(doc)), buf: make([]byte, 0, 1+int(chunk))}
			wraw, wfound, wok := w.lookup(key)
			if w.err != nil || wok != ok || wfound != found || !bytes.Equal(wraw, raw) {
				t.Fatalf("windowed(%d) lookup(%q, %q) = %q, %v, %v (err %v); whole = %q, %v, %v", 1+int(chunk), doc, key, wraw, wfound, wok, w.err, raw, found, ok)
			}
		}
	})
}

// A get from a file much larger than a window holds a window and the largest
// entry it passes (here one of 12 KiB), not the file.
func TestLookupLargeFileInWindows(t *testing.T) {
	old := readChunk
	readChunk = 4096
	t.Cleanup(func() { readChunk = old })
	m := map[string]json.RawMessage{}
	for i := range 2000 {
		m[fmt.Sprintf("k%05d", i)] = json.RawMessage(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("p", 200)))
	}
	m["big"] = json.RawMessage(`{"pad":"` + strings.Repeat("b", 3*4096) + `"}`) // larger than a window
	data, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	_, path, lockPath := paths(t)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := New(path, lockPath, time.Second)
	for _, k := range []string{"big", "k00000", "k01999", "k01000"} {
		raw, found, err := s.Lookup(k)
		if err != nil || !found || !bytes.Equal(raw, m[k]) {
			t.Fatalf("Lookup(%q) = %.40q, %v, %v", k, raw, found, err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		w := &window{r: f, buf: make([]byte, 0, readChunk)}
		w.lookup(k)
		f.Close()
		if limit := 2 * (readChunk + len(m["big"])); cap(w.buf) > limit {
			t.Errorf("Lookup(%q) in a %d-byte file held %d bytes; want at most %d", k, len(data), cap(w.buf), limit)
		}
	}
	if _, found, err := s.Lookup("zzz"); found || err != nil {
		t.Fatalf("Lookup(zzz) = %v, %v", found, err)
	}
}
