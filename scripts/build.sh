#!/usr/bin/env bash
# Configures (once) and builds tapegrad in Release into build/ (or build-sanitize/ with
# --sanitize: AddressSanitizer + UndefinedBehaviorSanitizer). Fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
options=(-DCMAKE_BUILD_TYPE=Release)
if [[ ${1:-} == --sanitize ]]; then
  build_dir=build-sanitize
  options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEGRAD_SANITIZE=ON -DTAPEGRAD_BUILD_BENCH=OFF)
fi
if command -v ccache >/dev/null; then options+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S . -B "$build_dir" "${options[@]}" >/dev/null
fi
cmake --build "$build_dir" -j "$(nproc)"
