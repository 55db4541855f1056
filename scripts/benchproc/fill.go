package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/helper"
)

func fill(args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	n := fs.Int("n", 1000, "records")
	tokenBytes := fs.Int("token-bytes", 40, "length of each access token and password")
	fs.Parse(args)
	if fs.NArg() != 2 || *n < 1 {
		return fmt.Errorf("usage: benchproc fill -n N -token-bytes B MCPCRED_FILE GIT_FILE")
	}
	expiry := time.Now().Add(365 * 24 * time.Hour).Truncate(time.Millisecond)
	entries := make(map[string]json.RawMessage, *n)
	gitf, err := os.OpenFile(fs.Arg(1), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(gitf)
	for i := 1; i <= *n; i++ {
		secret := token(i, *tokenBytes)
		t := &helper.Token{
			ServerName:   fmt.Sprintf("s%d", i),
			URL:          fmt.Sprintf("https://mcp%d.example.test/mcp", i),
			ClientID:     fmt.Sprintf("client-%d", i),
			AccessToken:  secret,
			RefreshToken: fmt.Sprintf("refresh-%d", i),
			Expiry:       expiry,
			Scope:        "read write",
		}
		entries[t.Key()] = t.FileJSON()
		fmt.Fprintf(w, "https://user%d:%s@host%d.example.test\n", i, secret, i)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := gitf.Close(); err != nil {
		return err
	}
	data, err := file.Encode(entries)
	if err != nil {
		return err
	}
	return os.WriteFile(fs.Arg(0), data, 0o600)
}

// token is a URL-safe secret of length n that differs per record.
func token(i, n int) string {
	s := fmt.Sprintf("access-token-%d-", i)
	return (s + strings.Repeat("x", max(0, n-len(s))))[:max(n, len(s))]
}
