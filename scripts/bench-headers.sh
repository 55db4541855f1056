#!/usr/bin/env bash
# bench-headers.sh [RUNS]: `mcpcred headers` against `mcpcred get`, whole
# processes, with hyperfine (Debian's package, installed when missing).
#
# Both read one valid token (an hour to live: no refresh, no network) from the
# file store; get reads its request from a file, headers reads nothing. Target:
# headers costs what get costs, plus under 1 ms. Also shown: headers without
# --server (the name found by listing the store) and with the default auto store
# and no keyring reachable. Not a test: nothing fails on a number.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}

if ! command -v hyperfine >/dev/null; then
	sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo -n)
	echo "bench-headers: installing hyperfine" >&2
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends hyperfine >/dev/null ||
		{ "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends hyperfine >/dev/null; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -trimpath -o "$work/mcpcred" ./cmd/mcpcred
bin="$work/mcpcred" home="$work/home" url=https://mcp.example.test/mcp
printf 'server_name=bench\nurl=%s\n' "$url" >"$work/get.req"
{
	cat "$work/get.req"
	printf 'client_id=client-1\naccess_token=access-token-abcdefghijklmnopqrstuvwxyz0123456789\n'
	printf 'refresh_token=refresh-1\nexpires_in=3600\nscope=mcp:tools\ntoken_endpoint=https://as.example.test/token\nresource=%s\n' "$url"
} | "$bin" --store file --home "$home" store
"$bin" --store file --home "$home" headers --url "$url" --server bench </dev/null >/dev/null

# No keyring for the auto case: a bus address that does not exist.
export DBUS_SESSION_BUS_ADDRESS="unix:path=$work/no-bus"

# get needs its request on stdin, which hyperfine 1.15 cannot give without a
# shell: get and headers both run under an explicit sh -c (no shell correction),
# so their difference is mcpcred's own; the rows without sh are headers alone.
hyperfine -N --style none --warmup 20 --runs "$runs" --export-csv "$work/r.csv" \
	-n "sh -c get (file)" "sh -c '$bin --store file --home $home get <$work/get.req'" \
	-n "sh -c headers --server (file)" "sh -c '$bin --store file --home $home headers --url $url --server bench </dev/null'" \
	-n "headers --server (file)" "$bin --store file --home $home headers --url $url --server bench" \
	-n "headers without --server (file)" "$bin --store file --home $home headers --url $url" \
	-n "headers --server (auto; no keyring)" "$bin --home $home headers --url $url --server bench" \
	>/dev/null 2>"$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }

echo "mcpcred headers vs get: $runs runs each (hyperfine -N; one valid token in the file store)"
awk -F, 'NR > 1 {
		name = $1; gsub(/"/, "", name); med[NR] = $4 * 1000
		printf "  %-38s mean %6.2f ms +- %5.2f   median %6.2f ms\n", name, $2 * 1000, $3 * 1000, med[NR]
	}
	END {
		printf "  headers minus get, both under sh -c (median): %+.2f ms (target: under +1 ms)\n", med[3] - med[2]
	}' "$work/r.csv"
