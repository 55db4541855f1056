package helper_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/mcpcred/mcpcred/backends/memory"
	"github.com/mcpcred/mcpcred/helper"
	"github.com/mcpcred/mcpcred/helper/helpertest"
)

func TestConformanceMemory(t *testing.T) {
	helpertest.Run(t, memory.New())
}

// A store of what the file already holds writes nothing: the file is not
// replaced (same inode), so Codex's own bytes and modification time stay.
func TestIdenticalFileStoreWritesNothing(t *testing.T) {
	e := helpertest.New(t, memory.New(), helper.File)
	tok := helpertest.Sample()
	e.SaveFile(tok)
	before, err := os.Stat(e.Helper.Tokens.Path())
	if err != nil {
		t.Fatal(err)
	}
	same := *tok
	e.SaveFile(&same)
	after, err := os.Stat(e.Helper.Tokens.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Fatal("storing the same record again replaced the file")
	}
	same.AccessToken = "changed"
	e.SaveFile(&same)
	if changed, _ := os.Stat(e.Helper.Tokens.Path()); os.SameFile(before, changed) {
		t.Fatal("a changed record did not replace the file")
	}
}

// ServerNames reads names from the store keys alone: with every keyring item
// failing on read, it still names both stores' records for the URL, and only those.
func TestServerNamesReadsNoRecord(t *testing.T) {
	kr := memory.New()
	e := helpertest.New(t, kr, helper.Auto)
	url := "https://mcp.example.test/mcp"
	for _, name := range []string{"b|with-bar", "a"} {
		tok := helpertest.Sample()
		tok.ServerName, tok.URL = name, url
		e.SaveKeyring(tok)
		kr.SetError(tok.Key(), errors.New("reading this record is not allowed"))
	}
	inFile := helpertest.Sample()
	inFile.ServerName, inFile.URL = "c", url
	e.SaveFile(inFile)
	other := helpertest.Sample()
	other.ServerName, other.URL = "d", "https://other.test/mcp"
	e.SaveFile(other)

	got, err := e.Helper.ServerNames(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b|with-bar", "c"}; !slices.Equal(got, want) {
		t.Fatalf("ServerNames = %q, want %q", got, want)
	}
}
