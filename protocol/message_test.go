package protocol

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestMessageAPI(t *testing.T) {
	var m Message // the zero value is ready to use
	if m.Len() != 0 || len(m.Keys()) != 0 {
		t.Fatal("zero message not empty")
	}
	m.Set("a", "1")
	m.Set("b[]", "x")
	m.Add("b[]", "y")
	m.Add("c", "1")
	m.Add("c", "2") // scalar Add: last wins
	if v, ok := m.Get("c"); !ok || v != "2" {
		t.Errorf("Get(c) = %q, %v", v, ok)
	}
	if v, ok := m.Get("b[]"); !ok || v != "y" {
		t.Errorf("Get(b[]) = %q, %v; want the last value", v, ok)
	}
	if got := m.Values("b[]"); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("Values(b[]) = %q", got)
	}
	m.Values("b[]")[0] = "changed" // a copy
	if got := m.Values("b[]"); got[0] != "x" {
		t.Error("Values returned the message's own slice")
	}
	if got := m.Values("a"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("Values(a) = %q", got)
	}
	if got := m.Values("nope"); got != nil {
		t.Errorf("Values(nope) = %q", got)
	}
	if got := m.Keys(); !slices.Equal(got, []string{"a", "b[]", "c"}) {
		t.Errorf("Keys = %q", got)
	}
	m.Set("b[]", "z") // replaces the whole list
	if got := m.Values("b[]"); !slices.Equal(got, []string{"z"}) {
		t.Errorf("after Set, Values(b[]) = %q", got)
	}
	m.Del("a")
	if _, ok := m.Get("a"); ok || m.Len() != 2 {
		t.Errorf("Del(a) left it: %v", m.Keys())
	}
	m.Set("a", "") // back, empty, at its first position
	if got := m.Keys(); !slices.Equal(got, []string{"a", "b[]", "c"}) {
		t.Errorf("Keys = %q", got)
	}
	if v, ok := m.Get("a"); !ok || v != "" {
		t.Errorf("Get(a) = %q, %v; want present and empty", v, ok)
	}
	m.Set("b[]", "")
	if _, ok := m.Get("b[]"); ok || m.Values("b[]") != nil {
		t.Error(`Set(b[], "") did not clear`)
	}
	m.Del("never")

	var nilMsg *Message
	if _, ok := nilMsg.Get("a"); ok || nilMsg.Keys() != nil || nilMsg.Values("a") != nil || nilMsg.Len() != 0 {
		t.Error("nil message not empty")
	}
}

func TestMessageManyKeys(t *testing.T) {
	// Past indexAt keys the map index takes over; it must agree with the scan.
	m := NewMessage()
	const n = 3 * indexAt
	for i := range n {
		m.Set("k"+strconv.Itoa(i), strconv.Itoa(i))
		m.Add("l"+strconv.Itoa(i)+"[]", "x")
	}
	for i := 0; i < n; i += 2 {
		m.Del("k" + strconv.Itoa(i))
		m.Add("l"+strconv.Itoa(i)+"[]", "")
	}
	m.Set("k0", "again")
	m.Set("new", "v")
	var want []string
	for i := range n {
		if i == 0 {
			want = append(want, "k0=again")
		} else if i%2 == 1 {
			want = append(want, "k"+strconv.Itoa(i)+"="+strconv.Itoa(i), "l"+strconv.Itoa(i)+"[]=x")
		}
	}
	want = append(want, "new=v")
	if got := dump(m); !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if m.Len() != len(want) {
		t.Errorf("Len = %d, want %d", m.Len(), len(want))
	}
}

func TestMessageStringHidesValues(t *testing.T) {
	m := NewMessage()
	m.Set("password", secret)
	m.Add("state[]", secret)
	m.Set("\x1b", "x")
	for _, s := range []string{fmt.Sprint(m), fmt.Sprintf("%v %+v %#v %s", m, *m, m, m), m.String()} {
		if strings.Contains(s, secret) || strings.Contains(s, "\x1b") {
			t.Errorf("formatted message %q shows a value or a raw control character", s)
		}
		if !strings.Contains(s, `"password"`) {
			t.Errorf("formatted message %q does not name its keys", s)
		}
	}
}
