#!/usr/bin/env bash
# The set-up-and-test command: installs what is missing, builds, and runs every test through
# CTest. With --sanitize, the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh "$@"
build_dir=build
if [[ ${1:-} == --sanitize ]]; then
  build_dir=build-sanitize
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
