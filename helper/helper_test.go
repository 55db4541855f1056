package helper_test

import (
	"os"
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
