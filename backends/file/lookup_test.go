package file

import (
	"bytes"
	"encoding/json"
	"testing"
)

// Lookup agrees with a full decode on every key of every well-formed object, and
// finds nothing where a full decode finds nothing.
func TestLookupAgreesWithDecode(t *testing.T) {
	for _, doc := range []string{
		``, `  `, `{}`, ` { } `,
		`{"a":1}`,
		`{"a":{"x":[1,{"y":"}]"}]},"b":"q\"uote","c\\u0041":null, "d" : [ ] ,"e":true}`,
		`{"k|1":{"s":"{\"not\":\"a key\"}"},"k|2":{"s":"\\"}}`,
		"{\n  \"p\": {\n    \"x\": 1\n  }\n}",
		`{"é":"ü","\u00e9x":2}`,
	} {
		var m map[string]json.RawMessage
		if doc != "" && doc != "  " {
			if err := json.Unmarshal([]byte(doc), &m); err != nil {
				t.Fatalf("test document %q: %v", doc, err)
			}
		}
		for k, want := range m {
			got, found, ok := lookup([]byte(doc), k)
			if !ok || !found || string(got) != string(want) {
				t.Errorf("lookup(%q, %q) = %q, %v, %v; want %q", doc, k, got, found, ok, want)
			}
		}
		for _, k := range []string{"zz", "not", "x", "y"} {
			if _, in := m[k]; in {
				continue
			}
			if _, found, ok := lookup([]byte(doc), k); found || !ok {
				t.Errorf("lookup(%q, %q): found %v, ok %v; want a clean miss", doc, k, found, ok)
			}
		}
	}
}

func TestLookupRefusesBrokenStructure(t *testing.T) {
	for _, doc := range []string{
		`[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1}x`, `{"a":"unterminated}`, `{"a":{"b":1}`, `null`,
	} {
		if _, _, ok := lookup([]byte(doc), "zz"); ok {
			t.Errorf("lookup(%q) accepted a broken document", doc)
		}
	}
	// The entry returned is itself checked.
	if _, found, ok := lookup([]byte(`{"a":{"b":tru}}`), "a"); !found || ok {
		t.Errorf("an invalid entry was returned as valid")
	}
}

func FuzzLookup(f *testing.F) {
	f.Add([]byte(`{"a":{"x":[1,{"y":"}]"}]},"b":"q\"uote"}`), "b")
	f.Fuzz(func(t *testing.T, doc []byte, key string) {
		raw, found, ok := lookup(doc, key)
		var m map[string]json.RawMessage
		if json.Unmarshal(doc, &m) != nil || m == nil {
			return // Lookup may accept or refuse what a full decode refuses
		}
		want, in := m[key]
		if !ok {
			t.Fatalf("lookup refused a valid object %q", doc)
		}
		if in != found || (found && string(raw) != string(want) && !hasDuplicateKeys(doc)) {
			t.Fatalf("lookup(%q, %q) = %q, %v; decode = %q, %v", doc, key, raw, found, want, in)
		}
	})
}

// hasDuplicateKeys: a full decode keeps the last of duplicated keys, Lookup the first.
func hasDuplicateKeys(doc []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(doc))
	seen := map[string]bool{}
	depth := 0
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
			expectKey = v == '{' && depth == 1
			continue
		case string:
			if depth == 1 && expectKey {
				if seen[v] {
					return true
				}
				seen[v] = true
				expectKey = false
				continue
			}
		}
		if depth == 1 {
			expectKey = true
		}
	}
}
