#!/usr/bin/env bash
# bench-encrypted.sh [RUNS]: `mcpcred get` from the unlocked encrypted store
# against `get` from the plain file store, whole processes, at 1 and 1,000
# records. Target (issue 14): within 1.5x of the plain file store, with no scrypt
# on the read path. Not a test: nothing fails on a number.
#
# Rows, each on a machine with no reachable keyring (a D-Bus address that does
# not exist), so that auto falls back at once:
#   file:       --store file get (the plain Codex-format file)
#   auto/plain: auto get, falling back to the plain file (no passphrase set)
#   auto/enc:   auto get, falling back to the unlocked encrypted store
# The cases run interleaved, in rounds of RUNS/5 runs each, so that the machine's
# drift hits them alike; each row is the median of its rounds' medians.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
rounds=5
per=$(((runs + rounds - 1) / rounds))
work=$(mktemp -d)
export CGO_ENABLED=0
go build -trimpath -o "$work/mcpcred" ./cmd/mcpcred
go build -o "$work/benchproc" ./scripts/benchproc
bin="$work/mcpcred"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$work/no-bus"
unset MCPCRED_STORE MCPCRED_PROFILE MCPCRED_HOME
encs=()
cleanup() {
	for h in "${encs[@]}"; do "$bin" --home "$h" lock >/dev/null 2>&1 || true; done
	rm -rf "$work"
}
trap cleanup EXIT

req() { printf 'server_name=s%d\nurl=https://mcp%d.example.test/mcp\n' "$1" "$1"; }
storereq() { req "$1"; printf 'client_id=client-%d\naccess_token=access-token-%d-abcdefghijklmnopqrstuvwxyz\nrefresh_token=refresh-%d\nexpires_in=3600\nscope=read write\n' "$1" "$1" "$1"; }

for n in 1 1000; do
	plain="$work/plain$n" enc="$work/enc$n"
	mkdir -p "$plain" "$enc"
	for ((i = 1; i <= n; i++)); do storereq "$i"; echo; done >"$work/fill$n"
	# One process per record would take minutes at 1,000; the file is the same
	# whichever way it is filled, so fill one store and copy it.
	for ((i = 1; i <= n; i++)); do storereq "$i" | "$bin" --store file --home "$plain" store; done
	cp "$plain/.credentials.json" "$enc/.credentials.json"
	encs+=("$enc")
	echo "bench passphrase" | "$bin" --home "$enc" unlock --migrate --ttl 1h >/dev/null
	req "$n" >"$work/get$n"
	for ((r = 1; r <= rounds; r++)); do
		"$work/benchproc" -runs "$per" -name "file $n" -stdin "$work/get$n" -- "$bin" --store file --home "$plain" get
		"$work/benchproc" -runs "$per" -name "auto/plain $n" -stdin "$work/get$n" -- "$bin" --home "$plain" get
		"$work/benchproc" -runs "$per" -name "auto/enc $n" -stdin "$work/get$n" -- "$bin" --home "$enc" get
	done
done >"$work/r.tsv"

echo "mcpcred get: encrypted store vs plain file, $rounds interleaved rounds of $per runs (no keyring reachable)"
awk -F'\t' '
	{ k = $1; n[k]++; v[k, n[k]] = $2; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
	function median(k,   i, j, t, a) {
		for (i = 1; i <= n[k]; i++) a[i] = v[k, i]
		for (i = 1; i <= n[k]; i++) for (j = i + 1; j <= n[k]; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((n[k] + 1) / 2)]
	}
	END {
		printf "%-22s %10s\n", "case (records)", "median ms"
		for (i = 1; i <= m; i++) { med[order[i]] = median(order[i]); printf "%-22s %10.2f\n", order[i], med[order[i]] }
		print ""
		for (r = 1; r <= 2; r++) {
			s = r == 1 ? "1" : "1000"
			printf "  auto/enc / file, %5s records:       %.2fx (target 1.5x)\n", s, med["auto/enc " s] / med["file " s]
			printf "  auto/enc / auto/plain, %5s records: %.2fx\n", s, med["auto/enc " s] / med["auto/plain " s]
		}
	}' "$work/r.tsv"
