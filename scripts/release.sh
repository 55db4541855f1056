#!/usr/bin/env bash
# release.sh: build the release archives of mcpcred and their SHA256SUMS.
#
#   scripts/release.sh [-o DIR] [OS/ARCH...]
#
# For each OS/ARCH (default: every one of scripts/platforms.sh this host can
# build, see darwin below) it builds cmd/mcpcred with -trimpath, -buildvcs=false
# and the version stamped into the binary (-X main.buildVersion), and writes
# DIR/mcpcred_VERSION_OS_ARCH.tar.gz (.zip for windows) holding, under a top
# directory of the same name: the binary, README.md, docs/*.md, LICENSE if there
# is one, the man page mcpcred.1 and completions/{mcpcred.bash,_mcpcred,mcpcred.fish}.
# Then DIR/SHA256SUMS lists every mcpcred_* archive in DIR, this run's and any put
# there before (sha256sum's format, sorted by name). DIR defaults to dist/.
#
# VERSION is `git describe --tags --dirty`; with no tag, a Go pseudo-version
# (v0.0.0-YYYYMMDDhhmmss-COMMIT[-dirty]). MCPCRED_VERSION overrides it.
#
# Reproducible: the same commit gives the same bytes, whatever the checkout path,
# build cache, umask or time zone. Every archive entry has the commit time
# (SOURCE_DATE_EPOCH, default `git log -1 --format=%ct`), owner 0/0, fixed modes,
# sorted names; gzip carries no name or time (scripts/archive writes both formats
# with Go's archive packages, so no tar or zip flavour matters).
#
# darwin: the Keychain backend needs cgo, and a darwin cgo build needs Apple's SDK,
# so darwin archives are built with CGO_ENABLED=1 on a Mac only (the release
# workflow's macOS job). On any other host the default list leaves darwin out and
# says so, and asking for darwin/... fails: a darwin binary without the Keychain
# would silently keep tokens in a file. Every other target is built with
# CGO_ENABLED=0 (static, no libc).
#
# The man page and completions come from the binary itself (`mcpcred man`,
# `mcpcred completion bash|zsh|fish`), run on this host; the script fails if
# either prints nothing, or the bash completion does not parse.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
	echo "release: $*" >&2
	exit 1
}

out=dist
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	-o) out=${2:?-o needs a directory}; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) die "unknown flag $1" ;;
	*/*) targets+=("$1"); shift ;;
	*) die "$1: want OS/ARCH, e.g. linux/amd64" ;;
	esac
done

. scripts/platforms.sh
hostos=$(go env GOHOSTOS)
if [ ${#targets[@]} -eq 0 ]; then
	for p in "${platforms[@]}"; do
		if [ "${p%/*}" = darwin ] && [ "$hostos" != darwin ]; then
			echo "release: skipping $p: darwin archives need cgo for the Keychain, so they are built on a Mac" >&2
			continue
		fi
		targets+=("$p")
	done
fi
for t in "${targets[@]}"; do
	[[ " ${platforms[*]} " == *" $t "* ]] || die "$t is not one of scripts/platforms.sh: ${platforms[*]}"
	if [ "${t%/*}" = darwin ] && [ "$hostos" != darwin ]; then
		die "$t: darwin archives need cgo (the Keychain) and Apple's SDK: build them on macOS"
	fi
done

if [ -n "${MCPCRED_VERSION:-}" ]; then
	version=$MCPCRED_VERSION
elif ! version=$(git describe --tags --dirty 2>/dev/null); then
	version=v0.0.0-$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)-$(git rev-parse --short=12 HEAD)
	git diff --quiet HEAD || version+=-dirty
fi
[[ $version =~ ^[A-Za-z0-9._+-]+$ ]] || die "version $version: only letters, digits and ._+- may appear in file names"
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The docs: generated once, by a binary for this host.
docfiles=()
for f in LICENSE LICENSE.md LICENSE.txt; do
	[ -f "$f" ] && docfiles+=("$f=$f")
done
docfiles+=(README.md=README.md)
for f in docs/*.md; do
	docfiles+=("$f=$f")
done
# The host's binary writes the man page, which names the version. It and the
# archive tool are built as the linux/amd64 target is (CGO_ENABLED=0,
# -trimpath), so on such a host they share its compiled packages: with an empty
# build cache (test.sh's second build) the standard library is compiled once
# per target, not once more for tools.
CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-X main.buildVersion=$version" \
	-o "$work/host-mcpcred" ./cmd/mcpcred
CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$work/archive" ./scripts/archive
mkdir -p "$work/docs"
"$work/host-mcpcred" man >"$work/docs/mcpcred.1" || die "mcpcred man failed"
head -c 2 "$work/docs/mcpcred.1" | grep -q '^\.' || die "mcpcred man printed no roff (first line: $(head -1 "$work/docs/mcpcred.1"))"
for sh in bash:mcpcred.bash zsh:_mcpcred fish:mcpcred.fish; do
	"$work/host-mcpcred" completion "${sh%%:*}" >"$work/docs/${sh#*:}" || die "mcpcred completion ${sh%%:*} failed"
	[ -s "$work/docs/${sh#*:}" ] || die "mcpcred completion ${sh%%:*} printed nothing"
	docfiles+=("completions/${sh#*:}=$work/docs/${sh#*:}")
done
bash -n "$work/docs/mcpcred.bash" || die "the bash completion does not parse"
docfiles+=("mcpcred.1=$work/docs/mcpcred.1")

echo "release: mcpcred $version, entries dated $(date -u -d "@$epoch" +%FT%TZ 2>/dev/null || echo "@$epoch"), into $out/" >&2
for t in "${targets[@]}"; do
	os=${t%/*} arch=${t#*/}
	name=mcpcred_${version#v}_${os}_${arch}
	exe=mcpcred ext=.tar.gz cgo=0
	[ "$os" = windows ] && exe=mcpcred.exe ext=.zip
	[ "$os" = darwin ] && cgo=1
	echo "release: $t -> $name$ext" >&2
	mkdir -p "$work/$t"
	GOOS=$os GOARCH=$arch CGO_ENABLED=$cgo go build -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.buildVersion=$version" -o "$work/$t/$exe" ./cmd/mcpcred
	"$work/archive" -o "$out/$name$ext" -mtime "$epoch" -dir "$name" -x "$exe" \
		"$exe=$work/$t/$exe" "${docfiles[@]}"
done

# SHA256SUMS covers every archive in DIR, not only this run's: the release
# workflow puts the Mac's darwin archives into DIR before the Linux run, whose
# SHA256SUMS then lists all of them.
(
	cd "$out"
	shopt -s nullglob
	archives=(mcpcred_*.tar.gz mcpcred_*.zip)
	[ ${#archives[@]} -gt 0 ] || exit 0
	if command -v sha256sum >/dev/null; then
		LC_ALL=C sha256sum "${archives[@]}"
	else
		LC_ALL=C shasum -a 256 "${archives[@]}"
	fi | LC_ALL=C sort -k2 >SHA256SUMS.tmp
	mv SHA256SUMS.tmp SHA256SUMS
)
echo "release: ok: $out/SHA256SUMS" >&2
