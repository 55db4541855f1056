#!/usr/bin/env bash
# wine-test.sh: run Go tests as Windows binaries under Wine, on Debian 12 amd64.
#
#   scripts/wine-test.sh [go test flags] [packages]     (default: ./...)
#   e.g. scripts/wine-test.sh -count=1 ./backends/wincred ./backends/native
#
# Runs `GOOS=windows GOARCH=amd64 go test -exec wine64 ARGS...` from the current
# directory and exits with its status. Needs no X server. What it takes care of:
#   - installs wine64 and gcc-mingw-w64-x86-64-win32 (no recommends) when missing,
#     as root or through sudo; WINE_TEST_NO_INSTALL=1 makes that exit 3 instead;
#   - a Wine prefix, built once and reused (WINEPREFIX, default
#     ${XDG_CACHE_HOME:-~/.cache}/mcpcred-wine-test/prefix), under a lock, so
#     concurrent runs share it; its credential store persists between runs;
#   - Wine 8 has no bcryptprimitives.dll, without which every Go >= 1.22 binary
#     dies at start-up: a stand-in exporting ProcessPrng
#     (scripts/wine-bcryptprimitives.c) is built and put into the prefix;
#   - a persistent wineserver (wineserver64 -p), started here and stopped at the
#     end by the last run using it: each test binary then starts in ~0.1 s instead
#     of ~1-2 s. WINE_TEST_LINGER=N instead leaves it (and Wine's services) running
#     N seconds after the last Wine process, which saves ~2-3 s on the next run;
#   - Wine's services (services.exe, rpcss, ...) are started once with stdio on
#     /dev/null before the tests: started by a test binary they would inherit go
#     test's output pipe and make it wait out WaitDelay and FAIL;
#   - os.RemoveAll (so t.TempDir's cleanup) fails under Wine 8 with "Invalid
#     function": Go deletes through NtSetInformationFile(FileDispositionInformationEx),
#     which Wine 8 does not implement (STATUS_NOT_IMPLEMENTED), and Go falls back
#     to the older call only for other statuses. The tests are built with an
#     -overlay of internal/syscall/windows/at_windows.go that adds that status to
#     the fallback's list (the behaviour Windows itself has before 10 1607). Set
#     WINE_TEST_REMOVEALL_FIX=0 to build without it. If this Go's source no longer
#     has the expected line, the overlay is skipped with a warning.
# Tests can tell they run under Wine by MCPCRED_WINE=1 in their environment.
# WINEDEBUG defaults to -all.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${WINE_TEST_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/mcpcred-wine-test}
export WINEPREFIX=${WINEPREFIX:-$cache/prefix}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEARCH=win64
# No Mono or Gecko installer dialogs while the prefix is built.
export WINEDLLOVERRIDES="mscoree,mshtml=${WINEDLLOVERRIDES:+;$WINEDLLOVERRIDES}"
unset DISPLAY WAYLAND_DISPLAY
wine=/usr/lib/wine/wine64
server=/usr/lib/wine/wineserver64
cc=x86_64-w64-mingw32-gcc
shim_src=$here/wine-bcryptprimitives.c

say() { echo "wine-test: $*" >&2; }

# --- 1. packages --------------------------------------------------------------
missing=()
[[ -x $wine && -x $server ]] || missing+=(wine64)
command -v "$cc" >/dev/null || missing+=(gcc-mingw-w64-x86-64-win32)
if ((${#missing[@]})); then
	if [[ -n ${WINE_TEST_NO_INSTALL:-} ]]; then
		say "not installed: ${missing[*]}"
		exit 3
	fi
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600)
	say "installing ${missing[*]}"
	if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >&2; then
		"${apt[@]}" update >&2
		"${apt[@]}" install --no-install-recommends "${missing[@]}" >&2
	fi
fi

# --- 2. the prefix, built once ------------------------------------------------
mkdir -p "$cache" "$WINEPREFIX"
exec 8>"$cache/setup.lock"
flock 8
stamp="$("$wine" --version) shim:$(sha256sum <"$shim_src" | cut -c1-16)"
if [[ $(cat "$WINEPREFIX/.mcpcred-stamp" 2>/dev/null) != "$stamp" ]]; then
	say "building the Wine prefix $WINEPREFIX"
	"$server" -k 2>/dev/null || true
	"$wine" wineboot --init </dev/null >/dev/null 2>&1
	"$server" -w
	"$cc" -O2 -s -shared -o "$cache/bcryptprimitives.dll" "$shim_src" -ladvapi32
	cp "$cache/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
	echo "$stamp" >"$WINEPREFIX/.mcpcred-stamp"
fi
flock -u 8

# --- 3. the os.RemoveAll overlay ----------------------------------------------
overlay=()
if [[ ${WINE_TEST_REMOVEALL_FIX:-1} != 0 ]]; then
	at=$(go env GOROOT)/src/internal/syscall/windows/at_windows.go
	line='	case STATUS_INVALID_INFO_CLASS, // the operating system doesn'"'"'t support FileDispositionInformationEx'
	if [[ -f $at ]] && grep -qxF "$line" "$at"; then
		mkdir -p "$cache/overlay"
		patched=$cache/overlay/at_windows.go
		tmp=$(mktemp "$cache/overlay/tmp.XXXXXX")
		# 0xC0000002 is STATUS_NOT_IMPLEMENTED, Wine 8's answer.
		awk -v line="$line" '$0 == line { print "\tcase STATUS_INVALID_INFO_CLASS, NTStatus(0xC0000002), // Wine 8: STATUS_NOT_IMPLEMENTED (scripts/wine-test.sh)"; next } { print }' "$at" >"$tmp"
		mv -f "$tmp" "$patched"
		printf '{"Replace":{"%s":"%s"}}\n' "$at" "$patched" >"$cache/overlay/overlay.json"
		overlay=(-overlay="$cache/overlay/overlay.json")
	else
		say "warning: $at has changed; building without the os.RemoveAll fix (t.TempDir cleanup may fail)"
	fi
fi

# --- 4. a persistent server and Wine's services ---------------------------------
# Every run holds run.lock shared; the last one out stops the server.
exec 9>"$cache/run.lock"
flock -s 9
linger=${WINE_TEST_LINGER:-}
# shellcheck disable=SC2317 # called by the EXIT trap
stop_server() {
	flock -u 9
	if [[ -z $linger ]] && flock -n -x 9; then
		"$server" -k 2>/dev/null || true
	fi
}
trap stop_server EXIT
"$server" -p"$linger" 2>/dev/null || true # already running: nothing to do
"$wine" cmd.exe /c exit 0 </dev/null >/dev/null 2>&1

# --- 5. the tests -------------------------------------------------------------
(($#)) || set -- ./...
set +e
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 MCPCRED_WINE=1 go test -exec "$wine" "${overlay[@]}" "$@"
rc=$?
set -e
exit "$rc"
