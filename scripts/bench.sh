#!/usr/bin/env bash
# Whole-process benchmarks of mcpcred against the peer tools, measured in the same
# run on the same machine, printed as medians and ratios. Not a test: nothing here
# passes or fails on a number.
#
#   scripts/bench.sh [RUNS]
#
# Cases: `get` and `store` on the file store against `git credential-store`, with 1
# and 1,000 records. Further sections (Secret Service, headers, the encrypted
# store) run when their
# scripts exist.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v git >/dev/null || { echo "bench: git is needed" >&2; exit 1; }
# The binary as the README's install line builds it for Linux: without cgo, so
# statically linked (the dynamic loader alone costs about 0.8 ms a process). The
# scripts called at the end build theirs the same way.
export CGO_ENABLED=0
go build -trimpath -o "$work/mcpcred" ./cmd/mcpcred
go build -o "$work/benchproc" ./scripts/benchproc
bench() { "$work/benchproc" -runs "$runs" "$@"; }

req() { printf 'server_name=s%d\nurl=https://mcp%d.example.test/mcp\n' "$1" "$1"; }
storereq() { req "$1"; printf 'client_id=client-%d\naccess_token=access-token-%d-abcdefghijklmnopqrstuvwxyz\nrefresh_token=refresh-%d\nexpires_in=3600\nscope=read write\n' "$1" "$1" "$1"; }
gitreq() { printf 'protocol=https\nhost=host%d.example.test\n' "$1"; }
gitstorereq() { gitreq "$1"; printf 'username=user%d\npassword=access-token-%d-abcdefghijklmnopqrstuvwxyz\n' "$1" "$1"; }

for n in 1 1000; do
	home="$work/home$n" gitfile="$work/git-credentials-$n"
	mkdir -p "$home"
	# Fill both stores with n records through each tool's own store.
	for ((i = 1; i <= n; i++)); do
		storereq "$i" | "$work/mcpcred" --store file --home "$home" store
		gitstorereq "$i" | git credential-store --file "$gitfile" store
	done
	req "$n" >"$work/get$n" && storereq "$n" >"$work/store$n"
	gitreq "$n" >"$work/gitget$n" && gitstorereq "$n" >"$work/gitstore$n"
	bench -name "mcpcred get, $n records" -stdin "$work/get$n" -- "$work/mcpcred" --store file --home "$home" get
	bench -name "git credential-store get, $n records" -stdin "$work/gitget$n" -- git credential-store --file "$gitfile" get
	bench -name "mcpcred store, $n records" -stdin "$work/store$n" -- "$work/mcpcred" --store file --home "$home" store
	bench -name "git credential-store store, $n records" -stdin "$work/gitstore$n" -- git credential-store --file "$gitfile" store
done >"$work/results.tsv"

awk -F'\t' '
	{ name[NR] = $1; med[$1] = $2; p95[$1] = $3; rss[$1] = $4 }
	END {
		printf "%-44s %10s %10s %10s\n", "case", "median ms", "p95 ms", "RSS KiB"
		for (i = 1; i <= NR; i++) printf "%-44s %10.2f %10.2f %10d\n", name[i], med[name[i]], p95[name[i]], rss[name[i]]
		print ""
		print "ratios (mcpcred / git credential-store, median):"
		for (i = 1; i <= NR; i++) if (name[i] ~ /^mcpcred/) {
			peer = name[i]; sub(/^mcpcred/, "git credential-store", peer)
			printf "  %-40s %.2fx\n", name[i], med[name[i]] / med[peer]
		}
	}' "$work/results.tsv"

for extra in scripts/bench-secret-service.sh scripts/bench-headers.sh scripts/bench-encrypted.sh; do
	if [ -x "$extra" ]; then
		echo
		"$extra" "$runs"
	fi
done
