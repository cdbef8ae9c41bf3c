#!/usr/bin/env bash
# The README's first command: install what is missing, build the main demo, run it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target hello >/dev/null
exec build/release/samples/hello
