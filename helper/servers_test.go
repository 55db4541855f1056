package helper

import "testing"

func TestDefaultServerName(t *testing.T) {
	for in, want := range map[string]string{
		"https://mcp.linear.app/mcp":         "linear",
		"https://mcp.linear.app/sse":         "linear",
		"https://api.githubcopilot.com/mcp/": "githubcopilot",
		"https://mcp.notion.com/mcp":         "notion",
		"https://mcp.example.co.uk/mcp":      "example",
		"https://example.com/mcp":            "example",
		"https://mcp.com/":                   "mcp",
		"https://Tools.Example.COM/mcp":      "tools",
		"http://127.0.0.1:18080/mcp":         "localhost-18080",
		"http://localhost:8080/mcp":          "localhost-8080",
		"http://10.0.0.5:3000/mcp":           "10-0-0-5-3000",
		"http://[::1]:9000/mcp":              "localhost-9000",
		"https://my_host.example.com/mcp":    "my_host",
		"https://xn--bcher-kva.example/mcp":  "xn--bcher-kva",
	} {
		if got := DefaultServerName(in); got != want {
			t.Errorf("DefaultServerName(%q) = %q, want %q", in, got, want)
		}
	}
}
