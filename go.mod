module github.com/mcpcred/mcpcred

go 1.26.8

require (
	filippo.io/age v1.3.2
	github.com/BurntSushi/toml v1.6.0
	github.com/danieljoos/wincred v1.2.3
	github.com/docker/docker-credential-helpers v0.9.13
	github.com/godbus/dbus/v5 v5.2.4
	github.com/keybase/go-keychain v0.0.1
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/oauth2 v0.38.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require (
	filippo.io/hpke v0.4.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/tools v0.49.0 // indirect
)
