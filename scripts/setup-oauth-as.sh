#!/usr/bin/env bash
# setup-oauth-as.sh: install the test authorization server's packages
# (testdata/oauth-as: oidc-provider, pinned by package-lock.json) with `npm ci`.
#
# The Go tests that need the server (helper/oauth, cmd/mcpcred) start and stop
# it themselves with `node`; without node or these packages they skip locally
# and fail under CI=true. Needs node >= 20 and npm on PATH; reaches only the npm
# registry. Safe to run again: npm ci starts from the lock file each time.
set -eu
dir=$(cd "$(dirname "$0")/../testdata/oauth-as" && pwd)
for c in node npm; do
	command -v "$c" >/dev/null 2>&1 || { echo "setup-oauth-as: $c is not installed (apt-get install nodejs npm)" >&2; exit 1; }
done
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error >&2
node -e 'import("oidc-provider").then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1) })' ||
	{ echo "setup-oauth-as: oidc-provider does not load in $dir" >&2; exit 1; }
