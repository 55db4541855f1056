#!/usr/bin/env bash
# Whole-process benchmarks of mcpcred against the peer tools it stands in for,
# measured in one run on one machine: every row of issue 16's table. Not a test:
# nothing here passes or fails on a number.
#
#   scripts/bench.sh [RUNS]     (RUNS samples of each side per repetition, default 30)
#
# Each row is a pair run by scripts/benchproc: mcpcred and its peer alternate, one
# fresh process at a time, each fed its stdin from a file the same way; the median
# of each side is taken per repetition, and the row shows the median of the three
# ratios mcpcred / peer with the lowest and highest (the spread), the medians in ms
# and the median peak RSS. Lower is better; a ratio under 1 means mcpcred is faster.
#
# Rows: file get at 1, 1,000, 10,000 and 100,000 records and file store at 10,000
# against `git credential-store` (records of a realistic size: a 900-byte access
# token, the same as git's password; each get asks for the record the tool finds
# last); `mcpcred version` against a Go hello-world
# built the same way; `get` in auto mode on a D-Bus that accepts and never answers,
# 20 gets in a row against one --timeout plus 20 file gets; then Secret Service
# get and store against secret-tool on a private gnome-keyring
# (scripts/bench-secret-service.sh); then the encrypted store's get against the
# plain file's (scripts/bench-encrypted.sh). Takes a few minutes. `mcpcred headers` has
# its own, scripts/bench-headers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
work=$(mktemp -d)
hang=
cleanup() {
	[ -z "$hang" ] || kill "$hang" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

command -v git >/dev/null || { echo "bench: git is needed" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then # GNU time, for peak RSS (see benchproc)
	[ "$(id -u)" = 0 ] || { echo "bench: GNU time is missing (apt-get install time)" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends time >&2 ||
		{ apt-get -q update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends time >&2; }
fi
# The binaries as the README's install line builds them for Linux: without cgo, so
# statically linked (the dynamic loader alone costs about 0.8 ms a process).
export CGO_ENABLED=0
go build -trimpath -o "$work/mcpcred" ./cmd/mcpcred
go build -trimpath -o "$work/benchproc" ./scripts/benchproc
mkdir -p "$work/hello"
cat >"$work/hello/main.go" <<'GO'
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
GO
printf 'module hello\n\ngo 1.26\n' >"$work/hello/go.mod"
(cd "$work/hello" && go build -trimpath -o "$work/hello-bin" .)

bp="$work/benchproc"
mc="$work/mcpcred"
pair() { "$bp" pair -runs "$runs" "$@"; }
tokbytes=900

for n in 1 1000 10000 100000; do
	home="$work/home$n" gitfile="$work/git-credentials-$n"
	mkdir -p "$home"
	"$bp" fill -n "$n" -token-bytes "$tokbytes" "$home/.credentials.json" "$gitfile"
	# Each side's worst case: for mcpcred the record whose key sorts last (its
	# scan stops at the entry), for git the last line.
	last=$(for ((i = 1; i <= (n < 9 ? n : 9); i++)); do printf 's%d|\n' "$i"; done | LC_ALL=C sort | tail -n 1 | tr -dc 0-9)
	printf 'server_name=s%d\nurl=https://mcp%d.example.test/mcp\n' "$last" "$last" >"$work/get$n"
	printf 'protocol=https\nhost=host%d.example.test\n' "$n" >"$work/gitget$n"
	r=$runs
	[ "$n" -lt 100000 ] || r=$(((runs + 9) / 10))
	"$bp" pair -runs "$r" -name "file get, $n records" -stdin "$work/get$n" -peer-stdin "$work/gitget$n" -- \
		"$mc" --store file --home "$home" get ::: git credential-store --file "$gitfile" get
	if [ "$n" = 10000 ]; then
		# A new token on every store (@SEQ@): an unchanged record is not rewritten.
		tok=$(printf '%*s' "$tokbytes" '' | tr ' ' y)
		{
			printf 'server_name=s%d\nurl=https://mcp%d.example.test/mcp\nclient_id=client-%d\n' "$n" "$n" "$n"
			printf 'access_token=@SEQ@-%s\nrefresh_token=refresh-%d\nexpires_in=3600\nscope=read write\n' "$tok" "$n"
		} >"$work/store$n"
		printf 'protocol=https\nhost=host%d.example.test\nusername=user%d\npassword=@SEQ@-%s\n' "$n" "$n" "$tok" >"$work/gitstore$n"
		pair -name "file store, $n records" -stdin "$work/store$n" -peer-stdin "$work/gitstore$n" -- \
			"$mc" --store file --home "$home" store ::: git credential-store --file "$gitfile" store
	fi
done >"$work/results.tsv"

pair -name "version / Go hello-world" -- "$mc" version ::: "$work/hello-bin" >>"$work/results.tsv"

# A session bus that accepts and never answers. 20 auto gets in a row (one sample)
# against one --timeout plus 20 file gets of the same record. The remembered
# keyring failure is removed before each sample, so each pays its first timeout.
timeout=1s
"$bp" hangbus "$work/hung.sock" &
hang=$!
for _ in $(seq 50); do [ -S "$work/hung.sock" ] && break; sleep 0.1; done
DBUS_SESSION_BUS_ADDRESS="unix:path=$work/hung.sock" "$bp" pair -name "20 auto gets, hung bus / $timeout + 20 file gets" \
	-runs 1 -warmup 0 -batch 20 -plus "$timeout" -reset "$work/home1/mcp-oauth-locks/keyring-unanswered.json" -stdin "$work/get1" -peer-stdin "$work/get1" -- \
	"$mc" --timeout "$timeout" --home "$work/home1" get ::: "$mc" --timeout "$timeout" --store file --home "$work/home1" get \
	>>"$work/results.tsv"
kill "$hang"
hang=

report() {
	awk -F'\t' '
		BEGIN { printf "%-50s %7s %13s %10s %10s %9s %9s\n", "case (mcpcred / peer)", "ratio", "spread", "ms", "peer ms", "RSS KiB", "peer KiB" }
		{ printf "%-50s %6.2fx %6.2f-%-6.2f %10.2f %10.2f %9d %9d\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$1"
}
echo "mcpcred benchmark: $runs interleaved runs per side, 3 repetitions; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
report "$work/results.tsv"

if [ "${BENCH_SECRET_SERVICE:-1}" = 1 ]; then
	echo
	BENCHPROC="$bp" MCPCRED_BIN="$mc" scripts/bench-secret-service.sh "$runs" >"$work/ss.tsv"
	report "$work/ss.tsv" | tail -n +2
fi

echo
scripts/bench-encrypted.sh "$runs"
