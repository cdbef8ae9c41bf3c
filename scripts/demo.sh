#!/usr/bin/env bash
# The README's first command: install what is missing, build the demos, run them: samples/hello
# (two coroutines wait at once), then samples/fetch_all (the seed's concurrent web fetching:
# 20 URLs of an embedded HTTP server, each answered after 100 ms, fetched one after the other and
# then all at once with gather). Extra arguments go to fetch_all (e.g. --count 1000 --skip-sequential).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target hello fetch_all >/dev/null
build/release/samples/hello
echo
exec build/release/samples/fetch_all "$@"
