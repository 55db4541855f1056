package codexsecrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInUse(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		want         bool
		reason       string
	}{
		{"no config", "", defaultSecrets, "not set"},
		{"feature on", "[features]\nsecret_auth_storage = true\n", true, "secret_auth_storage = true"},
		{"feature off", "[features]\nsecret_auth_storage = false\n", false, "secret_auth_storage = false"},
		{"feature on, keyring", "mcp_oauth_credentials_store = \"keyring\"\n[features]\nsecret_auth_storage = true\n", true, "secret_auth_storage = true"},
		{"feature on, file", "mcp_oauth_credentials_store = \"file\"\n[features]\nsecret_auth_storage = true\n", false, `"file"`},
		{"other settings", "model = \"o3\"\n[mcp_servers.x]\nurl = \"https://x.test\"\n[features]\nother = true\n", defaultSecrets, "not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			if tc.config != "" {
				if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(tc.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			d, err := InUse(home)
			if err != nil || d.Secrets != tc.want || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("InUse = %+v, %v; want Secrets %v and a reason with %q", d, err, tc.want, tc.reason)
			}
		})
	}
	for _, bad := range []string{
		"[features]\nsecret_auth_storage = \"SECRET-yes\"\n",
		"mcp_oauth_credentials_store = \"SECRET-vault\"\n",
		"[mcp_servers.x]\nhttp_headers = { Authorization = \"Bearer SECRET-token\" \n",
	} {
		home := t.TempDir()
		if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := InUse(home)
		if err == nil || !strings.Contains(err.Error(), "config.toml") {
			t.Errorf("InUse of %q: %v, want an error naming config.toml", bad, err)
		} else if strings.Contains(err.Error(), "SECRET-token") || strings.Contains(err.Error(), "SECRET-yes") {
			t.Errorf("InUse error quotes the file: %v", err)
		}
	}
}
