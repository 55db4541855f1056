#!/usr/bin/env bash
# setup-chromium.sh: make sure a headless-capable Chromium is installed, for the
# browser tests of `mcpcred login` (cmd/mcpcred/login_test.go).
#
# Installs Debian's `chromium` package with apt-get when no chromium binary is on
# PATH (as root, or with password-less sudo). Prints the binary's path on stdout.
# Exit status 0 when chromium is there at the end, 1 otherwise.
#
# The tests find the binary through MCPCRED_TEST_CHROMIUM, else `chromium` or
# `chromium-browser` on PATH.
set -u

find_chromium() {
	if [ -n "${MCPCRED_TEST_CHROMIUM-}" ] && [ -x "$MCPCRED_TEST_CHROMIUM" ]; then
		echo "$MCPCRED_TEST_CHROMIUM"
		return 0
	fi
	for c in chromium chromium-browser; do
		if p=$(command -v "$c" 2>/dev/null); then
			echo "$p"
			return 0
		fi
	done
	return 1
}

if find_chromium; then
	exit 0
fi

sudo=
if [ "$(id -u)" != 0 ]; then
	if sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		echo "setup-chromium.sh: chromium is missing and this user cannot apt-get install it (not root, no password-less sudo)" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup-chromium.sh: installing chromium with apt-get" >&2
if ! $sudo apt-get install -y -q --no-install-recommends chromium fonts-liberation >&2; then
	$sudo apt-get update -q >&2 || true
	$sudo apt-get install -y -q --no-install-recommends chromium fonts-liberation >&2 || {
		echo "setup-chromium.sh: apt-get install chromium failed" >&2
		exit 1
	}
fi
find_chromium || {
	echo "setup-chromium.sh: chromium installed but not found on PATH" >&2
	exit 1
}
