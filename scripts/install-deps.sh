#!/usr/bin/env bash
# Installs, with apt-get, whatever corio's build needs and this Debian 12 machine lacks.
# Runs as root, or through sudo. Does nothing when everything is already there.
set -euo pipefail

# strace: the fault-injection tests (tests/io/reactor_inject.sh, reliability.md T-02, T-04).
# node-llhttp: the HTTP parser's sources (cmake/llhttp.cmake). libclang-rt-14-dev: libFuzzer
# (scripts/fuzz.sh). nginx-light, curl, wrk, python3: real HTTP peers the interop tests start.
# mold: the linker scripts/test.sh uses for its four builds (faster than ld.bfd).
packages=(cmake ninja-build g++ clang libgtest-dev libgmock-dev libbenchmark-dev libspdlog-dev strace
          node-llhttp libclang-rt-14-dev nginx-light curl wrk python3 mold)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
