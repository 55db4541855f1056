package wincred

import (
	"bytes"
	"testing"
)

// TestMemStore runs every scenario against the in-memory stand-in, on any OS.
func TestMemStore(t *testing.T) {
	st := newMemStore()
	runConformance(t, st)
	runScenarios(t, st)
	if len(st.creds) != 0 {
		t.Errorf("%d credentials left behind", len(st.creds))
	}
}

func TestUTF16(t *testing.T) {
	for _, s := range []string{"", "a", "é", "🔑", `{"a":"b"}`, "\uffff"} {
		b := encodeUTF16LE(s)
		if !bytes.Equal(b, utf16le(s)) {
			t.Fatalf("encode %q = %x", s, b)
		}
		got, err := decodeUTF16LE(b)
		if err != nil || string(got) != s {
			t.Fatalf("decode %x = %q, %v", b, got, err)
		}
	}
	for _, b := range [][]byte{{'a'}, {0x00, 0xd8}, {0x00, 0xdc, 'a', 0}, {0x00, 0xd8, 'a', 0}} {
		if _, err := decodeUTF16LE(b); err == nil {
			t.Errorf("decode %x: no error", b)
		}
	}
}

func TestLooksUTF16LE(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{utf16le(`{"a":1}`), true},
		{utf16le("é"), true},
		{[]byte(`{"a":12}`), false}, // even-length UTF-8: no zero byte
		{[]byte("ab"), false},
		{utf16le("日本"), false},        // no zero byte: taken as bytes (documented)
		{[]byte{'a', 0, 0, 0}, false}, // a NUL character
		{[]byte{'a', 0, 'b'}, false},
		{[]byte{0x00, 0xd8, 'a', 0}, false}, // unpaired surrogate
		{nil, false},
	} {
		if got := looksUTF16LE(tc.b); got != tc.want {
			t.Errorf("looksUTF16LE(%x) = %v, want %v", tc.b, got, tc.want)
		}
	}
}

func TestPartTarget(t *testing.T) {
	main := "Acct.Svc"
	for _, tc := range []struct {
		target string
		gen    string
		i      int
		ok     bool
	}{
		{partTarget(main, "0123abcd", 1), "0123abcd", 1, true},
		{"acct.svc#0123ABCD-64", "0123abcd", 64, true},
		{"acct.svc#0123abcd-65", "", 0, false},
		{"acct.svc#0123abcd-0", "", 0, false},
		{"acct.svc#0123abcd-01", "", 0, false},
		{"acct.svc#0123abc-1", "", 0, false},
		{"acct.svc#0123abcg-1", "", 0, false},
		{"acct.svc#0123abcd", "", 0, false},
		{"acct.svcx#0123abcd-1", "", 0, false},
		{"acct.sv", "", 0, false},
	} {
		gen, i, ok := parsePartTarget(main, tc.target)
		if gen != tc.gen || i != tc.i || ok != tc.ok {
			t.Errorf("parsePartTarget(%q) = %q, %d, %v", tc.target, gen, i, ok)
		}
	}
	if n := len(partTarget("", "0123abcd", MaxParts)); n != partSuffixMax {
		t.Errorf("longest suffix is %d, partSuffixMax %d", n, partSuffixMax)
	}
}

func TestManifest(t *testing.T) {
	m := newManifest("0123abcd", bigSecret(2*MaxBlob+1))
	if m.Parts != 3 {
		t.Fatalf("parts = %d", m.Parts)
	}
	got, err := parseManifest(m.encode())
	if err != nil || got != m {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{
		``, `{}`, `[]`,
		`{"v":2,"gen":"0123abcd","parts":3,"len":5121,"sha256":"` + m.SHA256 + `"}`,
		`{"v":1,"gen":"0123abcX","parts":3,"len":5121,"sha256":"` + m.SHA256 + `"}`,
		`{"v":1,"gen":"0123abcd","parts":65,"len":5121,"sha256":"` + m.SHA256 + `"}`,
		`{"v":1,"gen":"0123abcd","parts":3,"len":5120,"sha256":"` + m.SHA256 + `"}`,
		`{"v":1,"gen":"0123abcd","parts":3,"len":7681,"sha256":"` + m.SHA256 + `"}`,
		`{"v":1,"gen":"0123abcd","parts":3,"len":5121,"sha256":"00"}`,
	} {
		if _, err := parseManifest([]byte(bad)); err == nil {
			t.Errorf("parseManifest(%s): no error", bad)
		}
	}
}
