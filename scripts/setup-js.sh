#!/usr/bin/env bash
# Installs what JavaScript plugins build with: Node.js (Debian's package, when
# missing and this user is root) and the JS SDK's pinned npm packages
# (guest-sdk/js/package-lock.json: ComponentizeJS and its engine) into
# guest-sdk/js/node_modules. Offline once installed.
#
# Quiet when node_modules is already up to date: the lock file's sha256 is kept
# in guest-sdk/js/node_modules/.floe-lock.sha256.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sdk="$repo/guest-sdk/js"
stamp="$sdk/node_modules/.floe-lock.sha256"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup-js: installing Node.js and npm (Debian packages)" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
        echo "setup-js: Node.js (>= 18) and npm are needed to build JavaScript plugins" >&2
        exit 1
    fi
fi

want="$(sha256sum "$sdk/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi
echo "setup-js: installing the JS SDK's pinned packages (npm ci)" >&2
(cd "$sdk" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" > "$stamp"
