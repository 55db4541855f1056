# platforms.sh: the OS/arch pairs mcpcred is built for, sourced by crossbuild.sh
# and release.sh so both build the same list.
# shellcheck disable=SC2034 # used by the scripts that source this file
platforms=(
	linux/amd64 linux/arm64
	darwin/amd64 darwin/arm64
	windows/amd64 windows/arm64
	freebsd/amd64 freebsd/arm64
	openbsd/amd64 openbsd/arm64
)
