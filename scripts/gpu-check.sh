#!/usr/bin/env bash
# The GPU check: one short scripted run for a session that is lent a machine with an NVIDIA GPU
# (README, "CUDA"). The GPU machine has the CUDA toolkit, CMake and PyTorch but none of Debian's
# packages and no network, so it runs in two steps:
#
#   scripts/gpu-check.sh --prepare   here, on the Debian development machine: downloads the .deb
#                                    files of what the build needs (scripts/setup.sh's list, less
#                                    the tools and the G2P dictionary) into .gpu-deps/ (ignored
#                                    by git; about 46 MB, mostly Fashion-MNIST)
#   scripts/gpu-check.sh             there, through the device tool with carry [".gpu-deps"]:
#                                    unpacks them under /tmp (not over /), builds fresh with CUDA,
#                                    runs the whole suite, the large-grid cases, a short
#                                    fashion_mlp training on each device, bench_workloads
#                                    --device cuda and, where PyTorch sees the GPU, the comparison
#
# It stops, saying why, at the first sign that the GPU is not really used: no GPU, a driver too
# old for the CUDA 13 runtime (then every CUDA test exits 77 and CTest shows "Skipped", never a
# failure), or a CUDA test skipped. Logs go to $OUT (the device tool's folder) or gpu-check/;
# summary.txt says what ran and what each step took. About 8 minutes on an H200 with 16 cores.
# Options: --skip-emulated leaves out the cuda_emulated/ tests (the CPU emulator runs them on
# every machine; about a minute here), --epochs N for fashion_mlp (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

deps=.gpu-deps
if [[ ${1:-} == --prepare ]]; then
  # What the build and the checks need at build and run time. apt-get download fetches no
  # dependencies, so the run-time libraries the -dev packages pull in are named too.
  mapfile -t wanted < <(sed -n '/^packages=(/,/^)/p' scripts/setup.sh | sed 's/#.*//;s/packages=(//;s/)//' |
    tr -s ' ' '\n' | grep -v -x -e '' -e cmake -e 'g++' -e make -e pkg-config -e pocketsphinx-en-us)
  wanted+=(libopenblas0-openmp libgfortran5 libquadmath0 libstb0 zlib1g)
  mkdir -p "$deps"
  rm -f "$deps"/*.deb
  (cd "$deps" && apt-get download "${wanted[@]}")
  du -sh "$deps"
  echo "gpu-check: now run scripts/gpu-check.sh on the GPU machine, carrying $deps"
  exit 0
fi

skip_emulated=0
epochs=2
while (($#)); do
  case $1 in
    --skip-emulated) skip_emulated=1 ;;
    --epochs) epochs=$2; shift ;;
    *) echo "gpu-check: unknown option '$1' (--prepare, --skip-emulated, --epochs N)" >&2; exit 2 ;;
  esac
  shift
done

out=${OUT:-gpu-check}
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
say() { echo "gpu-check: $*" | tee -a "$summary"; }
fail() { say "STOPPED: $*"; exit 1; }
step() { say "$1 (at ${SECONDS}s)"; }

# ---- the GPU and its driver ----
command -v nvidia-smi >/dev/null || fail "no nvidia-smi: this machine has no NVIDIA driver"
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1) ||
  fail "nvidia-smi sees no GPU"
driver=$(echo "$gpu" | cut -d, -f2 | tr -d ' ')
say "GPU: $gpu; $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
nvcc=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[[ -x $nvcc ]] || fail "no nvcc (looked on PATH and in /usr/local/cuda/bin)"
cuda_version=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
say "nvcc: CUDA $cuda_version ($nvcc)"
# CUDA 13.x needs a driver of the 580 series or newer (CUDA's release notes, "CUDA Driver").
if [[ ${cuda_version%%.*} -ge 13 && ${driver%%.*} -lt 580 ]]; then
  fail "driver $driver is older than CUDA $cuda_version needs (580 or newer): every CUDA test" \
    "would exit 77 and show as Skipped. Build with an older toolkit or use another machine"
fi

# ---- the carried dependencies, unpacked under /tmp ----
ls "$deps"/*.deb >/dev/null 2>&1 || fail "no $deps/*.deb: run scripts/gpu-check.sh --prepare" \
  "on the development machine and carry $deps"
prefix=/tmp/gpu-deps
rm -rf "$prefix"
for package in "$deps"/*.deb; do dpkg -x "$package" "$prefix"; done
lib=$prefix/usr/lib/x86_64-linux-gnu
# libopenblas needs libgfortran, which the image may lack; where it does, only that and
# libquadmath go on the library path (nothing carried may shadow the system's own for PyTorch).
if ! ldconfig -p | grep -q 'libgfortran\.so\.5 '; then
  mkdir -p "$prefix/runtime"
  ln -sf "$lib"/libgfortran.so.5* "$lib"/libquadmath.so.0* "$prefix/runtime/"
  export LD_LIBRARY_PATH=$prefix/runtime${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# zlib's headers only where the system has none (its libz.so link points outside the prefix).
zlib=()
if [[ ! -f /usr/include/zlib.h ]]; then
  zlib=(-DZLIB_INCLUDE_DIR="$prefix/usr/include"
    -DZLIB_LIBRARY="$(ls "$prefix"/{usr/,}lib/x86_64-linux-gnu/libz.so.1.* 2>/dev/null | head -1)")
fi

# ---- a fresh build with CUDA ----
step "configure and build (Release, CUDA on, sm_90)"
build=build-gpu
rm -rf "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_CUDA=ON \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DTAPEGRAD_OPENBLAS_OPENMP="$lib/openblas-openmp/libopenblas.so" \
  -DTAPEGRAD_CBLAS_INCLUDE_DIR="$prefix/usr/include/x86_64-linux-gnu/openblas-openmp" \
  -DTAPEGRAD_STB_INCLUDE_DIR="$prefix/usr/include/stb" -DTAPEGRAD_STB_LIBRARY="$lib/libstb.so" \
  -Ddoctest_DIR="$prefix/usr/lib/cmake/doctest" "${zlib[@]}" >"$out/build.log" 2>&1 ||
  fail "cmake failed (build.log)"
grep -q "CUDA backend: built" "$out/build.log" || fail "CMake did not enable the CUDA backend (build.log)"
cmake --build "$build" -j "$(nproc)" >>"$out/build.log" 2>&1 || fail "the build failed (build.log)"
if grep -q "warning" "$out/build.log"; then say "the build has warnings (build.log)"; fi

# ---- the suite: the CUDA tests must run on the GPU, not skip ----
step "one CUDA test, directly: does it see the GPU?"
probe=$("$build/tests/cuda_parity" --test-case="cuda status describes the GPU" 2>&1 || true)
echo "$probe" | head -3 | tee -a "$summary"
if ! echo "$probe" | grep -q "^CUDA tests on "; then
  echo "$probe" | grep -q "insufficient" &&
    fail "the CUDA runtime says the driver ($driver) is too old for CUDA $cuda_version"
  fail "the CUDA tests do not see the GPU (above)"
fi

step "the whole suite (ctest -j $(nproc))"
exclude=()
if ((skip_emulated)); then exclude=(-E '^cuda_emulat'); fi
suite_ok=1
ctest --test-dir "$build" -j "$(nproc)" --output-on-failure --timeout 300 "${exclude[@]}" \
  >"$out/ctest.log" 2>&1 || suite_ok=0
grep -E "tests passed|tests failed" "$out/ctest.log" | tee -a "$summary" || true
skipped=$(grep -cE "cuda/.*(Skipped|Not Run)" "$out/ctest.log" || true)
((skipped == 0)) || fail "$skipped CUDA tests did not run (ctest.log): they must run on a GPU"
((suite_ok)) || say "FAILURES: the failing tests are listed at the end of ctest.log"

step "the large-grid cases (excluded on the emulator)"
large=$("$build/tests/cuda_parity" --test-suite="large grids" 2>&1 || true)
echo "$large" | tail -3 | tee -a "$summary"
echo "$large" | grep -q "test cases: *[1-9][0-9]* | *[1-9][0-9]* passed | *0 failed" ||
  say "FAILURES: the large-grid cases did not all pass"

# ---- training and speed ----
data=$prefix/usr/share/datasets/fashion-mnist
for device in cuda cpu; do
  step "fashion_mlp --device $device --epochs $epochs"
  begin=$SECONDS
  "$build/examples/fashion_mlp" --device "$device" --epochs "$epochs" --data "$data" --quiet \
    --threads "$(nproc)" --out "/tmp/fashion_mlp_$device" >"$out/fashion_mlp_$device.log" 2>&1 ||
    say "FAILURES: fashion_mlp --device $device (fashion_mlp_$device.log)"
  say "fashion_mlp --device $device: $((SECONDS - begin)) s; $(tail -1 "$out/fashion_mlp_$device.log")"
done

step "bench_workloads --device cuda"
"$build/bench/bench_workloads" --device cuda --repeats 5 >"$out/bench.log" 2>&1 ||
  say "FAILURES: bench_workloads --device cuda (bench.log)"
cat "$out/bench.log" >>"$summary"

if python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  if grep -q -- '--device' bench/compare_pytorch.py; then
    step "compare_pytorch.py --device cuda"
    python3 bench/compare_pytorch.py --binary "$build/bench/bench_workloads" --device cuda \
      --repeats 5 >"$out/compare.log" 2>&1 || say "FAILURES: compare_pytorch.py (compare.log)"
    cat "$out/compare.log" >>"$summary"
  else
    say "PyTorch $(python3 -c 'import torch; print(torch.__version__)') sees the GPU, but" \
      "bench/compare_pytorch.py has no --device option yet: no comparison"
  fi
else
  say "no PyTorch with CUDA here: no comparison"
fi
say "done in ${SECONDS}s"
