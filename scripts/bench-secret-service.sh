#!/usr/bin/env bash
# bench-secret-service.sh [RUNS]
#
# Whole-process pairs, in one run against one private gnome-keyring (started by
# with-secret-service.sh): `mcpcred --store keyring get` and `store` of an MCP token
# against `secret-tool lookup` and `secret-tool store` of a secret of the same size,
# first in an almost empty collection, then with 1,000 other items in it. Prints
# scripts/benchproc pair lines (see its doc; scripts/bench.sh formats them). RUNS
# defaults to 30. BENCHPROC and MCPCRED_BIN name prebuilt binaries (else built here).
#
# Every store writes a new value (@SEQ@, see benchproc): mcpcred skips a store
# identical to what is kept, so a constant input would measure no write at all.
# Both sides get their stdin from a file, secret-tool its secret, mcpcred its
# request; lookup and get read a request the same way.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ "${1-}" != --inner ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/mcpcred-bench.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	export CGO_ENABLED=0
	if [ -z "${BENCHPROC-}" ]; then
		(cd "$here/.." && go build -trimpath -o "$work/benchproc" ./scripts/benchproc)
		BENCHPROC=$work/benchproc
	fi
	if [ -z "${MCPCRED_BIN-}" ]; then
		(cd "$here/.." && go build -trimpath -o "$work/mcpcred" ./cmd/mcpcred)
		MCPCRED_BIN=$work/mcpcred
	fi
	"$here/with-secret-service.sh" "$0" --inner "$work" "${1:-30}" "$BENCHPROC" "$MCPCRED_BIN"
	exit
fi

work=$2 runs=$3 bp=$4 bin=$5
mkdir -p "$work/home"
export MCPCRED_HOME="$work/home" MCPCRED_TIMEOUT=5s

tok=$(printf '%*s' 900 '' | tr ' ' z)
printf 'server_name=bench\nurl=https://bench.test/mcp\n' >"$work/get"
printf 'server_name=bench\nurl=https://bench.test/mcp\nclient_id=bench-client\naccess_token=@SEQ@-%s\nrefresh_token=bench-refresh\nscope=a b\nexpires_in=3600\n' "$tok" >"$work/store"
# The JSON Codex keeps in the keyring for the same token, as secret-tool's secret.
printf '{"server_name":"bench","server_url":"https://bench.test/mcp","client_id":"bench-client","access_token":"@SEQ@-%s","expires_at":1893456000000,"refresh_token":"bench-refresh","scopes":["a","b"]}' "$tok" >"$work/ststore"
: >"$work/empty"

# Seed both items once.
"$bin" --store keyring store <"$work/store"
secret-tool store --label=bench service bench-st username bench <"$work/ststore"

pairs() { # pairs LABEL
	"$bp" pair -runs "$runs" -name "Secret Service get, $1 / secret-tool lookup" -stdin "$work/get" -peer-stdin "$work/empty" -- \
		"$bin" --store keyring get ::: secret-tool lookup service bench-st username bench
	"$bp" pair -runs "$runs" -name "Secret Service store, $1 / secret-tool store" -stdin "$work/store" -peer-stdin "$work/ststore" -- \
		"$bin" --store keyring store ::: secret-tool store --label=bench service bench-st username bench
}

pairs "1 item"
# 1,000 other items. secret-tool keeps this script free of anything but the tools
# under test.
for i in $(seq 1000); do
	printf 'filler-%s' "$i" | secret-tool store --label="filler $i" service bench-filler username "user-$i"
done
pairs "1,000 items"
