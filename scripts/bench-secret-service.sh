#!/usr/bin/env bash
# bench-secret-service.sh [RUNS]
#
# Whole-process timings, in one run against one private gnome-keyring (started by
# with-secret-service.sh): `mcpcred --store keyring get` and `store` of an MCP token
# against `secret-tool lookup` and `secret-tool store` of a secret of the same size,
# first in an almost empty collection, then with 1,000 other items in it. Prints the
# medians (hyperfine) and the ratio mcpcred / secret-tool. RUNS defaults to 50.
#
# Every store writes a new value (the access token is the current time in ns):
# mcpcred skips a store identical to what is kept, so a constant input would
# measure no write at all. Both sides pay the same `date` and `printf` in sh.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ "${1-}" != --inner ]; then
	if ! command -v hyperfine >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || { echo "bench: hyperfine is missing (apt-get install hyperfine)" >&2; exit 125; }
		DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update >&2
		DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends hyperfine >&2
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/mcpcred-bench.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	(cd "$here/.." && go build -o "$work/mcpcred" ./cmd/mcpcred)
	"$here/with-secret-service.sh" "$0" --inner "$work" "${1:-50}"
	exit
fi

work=$2
runs=$3
bin="$work/mcpcred"
home="$work/home"
mkdir -p "$home"
export MCPCRED_HOME="$home" MCPCRED_TIMEOUT=5s

# The commands hyperfine runs (with sh -c). Each store sends a JSON of the same size.
mcp_get="printf 'server_name=bench\nurl=https://bench.test/mcp\n' | $bin --store keyring get >/dev/null"
mcp_store="printf 'server_name=bench\nurl=https://bench.test/mcp\nclient_id=bench-client\naccess_token=%s\nrefresh_token=bench-refresh\nscope=a b\n' \$(date +%s%N) | $bin --store keyring store"
st_get="secret-tool lookup service bench-st username bench >/dev/null"
st_store=$(cat <<'CMD'
printf '{"server_name":"bench","url":"https://bench.test/mcp","client_id":"bench-client","token_response":{"access_token":"%s","token_type":"bearer","refresh_token":"bench-refresh","scope":"a b"}}' $(date +%s%N) | secret-tool store --label=bench service bench-st username bench target default application rust-keyring
CMD
)

# Seed both items once.
sh -c "$mcp_store"
sh -c "$st_store"
sh -c "$mcp_get"
sh -c "$st_get"

median() { # median FILE INDEX: the INDEXth "median" of a hyperfine JSON export, in ms
	awk -v want="$2" '/"median":/ { n++; if (n == want) { gsub(/[",]/, "", $2); printf "%.2f", $2 * 1000 } }' "$1"
}

bench() { # bench LABEL
	local label=$1 json="$work/$1.json"
	hyperfine --shell=sh --warmup 3 --runs "$runs" --style none --export-json "$json" \
		-n "mcpcred get" "$mcp_get" -n "secret-tool lookup" "$st_get" \
		-n "mcpcred store" "$mcp_store" -n "secret-tool store" "$st_store" >/dev/null
	local g s gs ss
	g=$(median "$json" 1)
	s=$(median "$json" 2)
	gs=$(median "$json" 3)
	ss=$(median "$json" 4)
	printf '%-28s %10s %14s %8s\n' "$label" "mcpcred" "secret-tool" "ratio"
	printf '%-28s %8s ms %11s ms %8s\n' "  get / lookup (median)" "$g" "$s" "$(awk -v a="$g" -v b="$s" 'BEGIN{printf "%.2f", a/b}')"
	printf '%-28s %8s ms %11s ms %8s\n' "  store (median)" "$gs" "$ss" "$(awk -v a="$gs" -v b="$ss" 'BEGIN{printf "%.2f", a/b}')"
}

echo "runs per command: $runs; whole processes; private gnome-keyring $(gnome-keyring-daemon --version 2>/dev/null | head -n 1)"
bench "empty collection"

# 1,000 other items, written straight over D-Bus by one process would be faster;
# secret-tool keeps this script free of anything but the tools under test.
for i in $(seq 1000); do
	printf 'filler-%s' "$i" | secret-tool store --label="filler $i" service bench-filler username "user-$i"
done
bench "with 1,000 other items"
