#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, with clang, AddressSanitizer and libFuzzer's coverage) in
# build-fuzz/ and runs each for a bounded time (default 20 s each), starting from the committed
# seeds in fuzz/corpus/<target>/. New inputs the fuzzer finds go to build-fuzz/corpus/, not into
# the repository. A crash, a leak, a single allocation over 64 MB or an input that takes over
# 10 s stops the run with the input that did it; the script then fails.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}

if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
  cmake -S fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
cmake --build build-fuzz -j "$(nproc)"  # fuzz_checkpoint only with clang 16 or later: see fuzz/

for target in idx cmudict vocabulary checkpoint; do
  if [[ ! -x build-fuzz/fuzz_$target ]]; then
    echo "fuzz: $target not built by this clang (see fuzz/CMakeLists.txt)"
    continue
  fi
  mkdir -p "build-fuzz/corpus/$target"
  echo "fuzz: $target for ${seconds} s"
  ASAN_OPTIONS=detect_leaks=1 "build-fuzz/fuzz_$target" -max_total_time="$seconds" \
    -malloc_limit_mb=64 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/crash-$target-" \
    "build-fuzz/corpus/$target" "fuzz/corpus/$target" 2>&1 | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==|SUMMARY|.*Test unit written)" || true
  # libFuzzer's exit status is lost in the pipe: an artifact is the evidence of a failure.
  if compgen -G "build-fuzz/crash-$target-*" >/dev/null; then
    echo "fuzz: $target failed; the input is in $(ls build-fuzz/crash-$target-*)" >&2
    exit 1
  fi
done
