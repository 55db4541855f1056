#!/usr/bin/env bash
# crossbuild.sh: build and vet mcpcred for every OS it supports, from Linux.
#
#   scripts/crossbuild.sh            (from anywhere in the module)
#
# For every OS/arch of scripts/platforms.sh (linux, darwin, windows, freebsd and
# openbsd on amd64 and arm64), with CGO_ENABLED=0: `go build ./...` and
# `go vet ./...` (tests included). darwin
# without cgo leaves out the Keychain backend (its files need cgo), so the script
# also runs scripts/darwin-typecheck, which type-checks the darwin cgo build
# (arm64 and amd64) with go/types. Every step runs; the script fails if any did,
# listing them.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
failed=()
step() {
	local name=$1
	shift
	if ! "$@"; then
		failed+=("$name")
	fi
}
. scripts/platforms.sh
for p in "${platforms[@]}"; do
	echo "crossbuild: $p" >&2
	export GOOS=${p%/*} GOARCH=${p#*/} CGO_ENABLED=0
	step "build $p" go build ./...
	step "vet $p" go vet ./...
done
unset GOOS GOARCH CGO_ENABLED
echo "crossbuild: darwin cgo type-check" >&2
step "darwin-typecheck" go run ./scripts/darwin-typecheck
if ((${#failed[@]})); then
	echo "crossbuild: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "crossbuild: ok" >&2
