package main

// buildVersion is the version of a release build: scripts/release.sh stamps it
// from the git tag with -ldflags "-X main.buildVersion=...". It is empty in a
// `go build` or `go install`, where version() falls back to the module version Go
// records in the binary.
var buildVersion string
