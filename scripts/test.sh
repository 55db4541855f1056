#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian 12 machine and
# runs every test. CI (.ci/run) runs exactly this; so can a developer.
#
#   scripts/test.sh
#
# What it installs when missing (apt-get, as root or with password-less sudo): git,
# util-linux's flock, dbus and gnome-keyring and libsecret-tools (a private Secret
# Service), KeePassXC (a second Secret Service provider), python3-keyring (another
# tool's items), gcc, pkg-config and libsecret-1-dev (git 2.39's
# git-credential-libsecret, which the tests build from the source Debian's git
# package ships, and docker's own Secret Service helper, built from its module),
# wine64 and a MinGW compiler (the Windows backend's tests as Windows binaries),
# podman and docker-registry (a real registry login on loopback), groff, zsh and
# fish (the man page and completions), unzip, Node's packages for the test
# authorization server, and Chromium (the login flow). Each step says what it
# runs. Under CI=true a test whose real component is missing fails instead of
# skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf "\n== %s  [%s]\n" "$*" "$(date +%T)"; }

apt_install() {
	local missing=()
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo -n)
	echo "installing ${missing[*]}"
	if [ ! -f /tmp/mcpcred-apt-updated ]; then
		"${sudo[@]}" apt-get update -qq
		touch /tmp/mcpcred-apt-updated
	fi
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

step "packages"
# Everything the tests run, in one apt-get (the scripts below would install their
# own parts when run alone): git; flock; a private D-Bus bus, gnome-keyring and
# libsecret's secret-tool; Wine and MinGW for the Windows tests; Chromium for the
# login flow; gcc and libsecret-1-dev to build docker-credential-secretservice
# (backends/dockertest, cgo), podman and docker-registry to log in to a registry
# on loopback; groff to render the man page, zsh and fish to load the
# completions, unzip to list a zip archive; Node for the test authorization
# server, unless one is installed.
packages=(git util-linux ca-certificates dbus-daemon dbus-bin gnome-keyring libsecret-tools
	keepassxc python3-keyring python3-secretstorage gcc libc6-dev pkg-config libsecret-1-dev
	wine64 gcc-mingw-w64-x86-64-win32 chromium fonts-liberation
	podman docker-registry groff-base zsh fish unzip)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
apt_install "${packages[@]}"

step "test components: the OAuth authorization server (npm ci) and Chromium"
scripts/setup-oauth-as.sh
scripts/setup-chromium.sh >/dev/null

step "format and static checks"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi
go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# with_ss runs a command under a private Secret Service (gnome-keyring, or the
# provider given with --provider), and once more if that provider crashed under it
# (exit 86, its log printed above; KeePassXC 2.7.4 has been seen to segfault too). gnome-keyring 42 can
# abort when clients with short-lived connections follow each other closely
# ("gkd_secret_service_get_pkcs11_session: assertion 'client' failed", an
# upstream bug: Debian #1147303, GNOME gnome-keyring#144); a credential helper is
# exactly such a client. A second crash fails the run.
with_ss() {
	local rc=0
	scripts/with-secret-service.sh "$@" || rc=$?
	if [ "$rc" -eq 86 ]; then
		echo "test.sh: the Secret Service provider crashed under the tests (upstream bug, see above); running this step once more" >&2
		rc=0
		scripts/with-secret-service.sh "$@" || rc=$?
	fi
	return "$rc"
}

# The TestStartedLocked* tests need a collection that starts locked, every other
# keyring test an unlocked one: each run selects its own, and a test in the wrong
# run fails under CI instead of skipping.
unlocked=(-skip '^TestStartedLocked')
locked=(-run '^TestStartedLocked')

step "unit, transcript and real-process tests, against a real gnome-keyring"
# -p 1: packages share one gnome-keyring, and the backend's TestLocked locks its
# collection for a moment; other packages' keyring tests must not run then.
with_ss go test -count=1 -p 1 "${unlocked[@]}" ./...

step "a Secret Service whose collection starts locked"
with_ss --locked go test -count=1 "${locked[@]}" ./backends/secretservice/ ./cmd/mcpcred/

step "the same against KeePassXC (offscreen, no display): the backend's suites, the helper suite, git, locked"
# The backend package holds the keyring conformance suite, the helper suite,
# duplicates (python keyring), prompts and locking; cmd/mcpcred's tests run the
# binary on it, and drive real git with mcpcred and with git 2.39's libsecret
# helper.
with_ss --provider keepassxc go test -count=1 -p 1 "${unlocked[@]}" ./backends/secretservice/ ./cmd/mcpcred/
with_ss --provider keepassxc --locked go test -count=1 "${locked[@]}" ./backends/secretservice/ ./cmd/mcpcred/

step "Windows: the Credential Manager backend, the file store and the helper as Windows binaries under Wine"
scripts/wine-test.sh -count=1 ./backends/wincred/ ./backends/file/ ./helper/ ./protocol/
# Apart: Wine's CredEnumerate fails ("Key deleted") when another process deletes a
# credential meanwhile, so Codex's secrets tests do not run next to wincred's List.
step "Windows: the age-file stores and Codex's secrets file under Wine"
scripts/wine-test.sh -count=1 ./backends/agefile/ ./backends/codexsecrets/ ./backends/encrypted/

step "every OS builds and vets; the macOS Keychain backend type-checks with cgo"
scripts/crossbuild.sh

step "release archives are reproducible: two builds, byte for byte"
# The second build runs from a copy of the tree at another path, with an empty Go
# build cache, another umask and time zone, so nothing but the sources can make
# the bytes agree. Two targets (a tar.gz and a zip) keep it short.
rel=$(mktemp -d)
trap 'rm -rf "$rel"' EXIT
export MCPCRED_VERSION=v0.0.0-reproducible SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
mkdir "$rel/src"
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
	[ -f "$f" ] && printf '%s\0' "$f"
done | tar -c --null -T - | tar -x -C "$rel/src"
scripts/release.sh -o "$rel/a" linux/amd64 windows/arm64
(cd "$rel/src" && umask 077 && TZ=Asia/Kolkata GOCACHE="$rel/gocache" \
	scripts/release.sh -o "$rel/b" linux/amd64 windows/arm64)
diff -r "$rel/a" "$rel/b"
cat "$rel/a/SHA256SUMS"
# The version is stamped into the binary (-X main.buildVersion).
name=mcpcred_0.0.0-reproducible_linux_amd64
tar -xzf "$rel/a/$name.tar.gz" -C "$rel" "$name/mcpcred"
got=$("$rel/$name/mcpcred" version)
[ "$got" = "mcpcred v0.0.0-reproducible" ] || { echo "release binary: 'mcpcred version' printed '$got'" >&2; exit 1; }
# The man page and completions are in every archive.
for entry in mcpcred.1 completions/mcpcred.bash completions/_mcpcred completions/mcpcred.fish; do
	tar -tzf "$rel/a/$name.tar.gz" "$name/$entry" >/dev/null
	unzip -l "$rel/a/mcpcred_0.0.0-reproducible_windows_arm64.zip" "mcpcred_0.0.0-reproducible_windows_arm64/$entry" >/dev/null
done
chmod -R u+w "$rel" && rm -rf "$rel"
unset MCPCRED_VERSION SOURCE_DATE_EPOCH
trap - EXIT

step "fuzzing the wire format and the file lookup (a short run each)"
# -fuzzminimizetime: Go minimizes every new interesting input, which for inputs of
# a few KB can take the whole run; a second each keeps the fuzzer fuzzing.
fuzz() { go test -run '^$' -fuzz "^$1\$" -fuzztime "$3" -fuzzminimizetime 1s "$2"; }
fuzz FuzzRead ./protocol/ 15s
fuzz FuzzReadJSON ./protocol/ 10s
fuzz FuzzLookup ./backends/file/ 10s

echo
echo "all tests passed"
