#!/usr/bin/env bash
# Installs the C headers librdkafka (built from source by the rdkafka crate)
# needs, when they are missing: OpenSSL (TLS and SASL to brokers) and zlib.
# Needs root and apt-get; otherwise says what is missing.
set -euo pipefail

missing=()
[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v make >/dev/null || missing+=(make)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "floe's build needs ${missing[*]} (Debian package names); install them and run again" >&2
    exit 1
fi
