#!/usr/bin/env bash
# Checks that every #include in framework/, layers/ and optim/ points the way the README's
# source tour says ("The arrows point one way"), and that only framework/backend/ includes BLAS
# or CUDA headers. Prints each include that points the wrong way and exits 1 if there is one.
#
#   scripts/check_include_arrows.sh [repository root]      (default: this script's repository)
#
# Who may include whom, bottom to top (a file may include its own level and every level below):
#   core       framework/{error,shape,storage,tensor,random,recycling}.*: the data, no device, no op
#   backend    framework/backend/**: the device interface and the devices; never the tape or ops/
#   tape       framework/tape.*: records and backward; the backend interface, never ops/
#   ops        framework/ops/**: the core, the tape and the backend interface (backend/*.h),
#              never a device's own files (backend/cpu/, backend/cuda/)
#   framework  the rest of framework/ (gradcheck, checkpoint, serialize, tapegrad.h): framework/
#   layers     layers/**: framework/ and layers/
#   optim      optim/**: framework/ and optim/
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
cd "$root"

core='framework/(error|shape|storage|tensor|random|recycling)\.h'
allowed_for() {  # the includes a file may name, as an extended regular expression
  case $1 in
    framework/error.* | framework/shape.* | framework/storage.* | framework/tensor.* | \
      framework/random.* | framework/recycling.*) echo "^${core}$" ;;
    framework/backend/*) echo "^(${core}|framework/backend/.*)$" ;;
    framework/tape.*) echo "^(${core}|framework/tape\.h|framework/backend/[a-z_]+\.h)$" ;;
    framework/ops/*) echo "^(${core}|framework/tape\.h|framework/backend/[a-z_]+\.h|framework/ops/.*)$" ;;
    framework/*) echo "^framework/.*$" ;;
    layers/*) echo "^(framework|layers)/.*$" ;;
    optim/*) echo "^(framework|optim)/.*$" ;;
  esac
}

wrong=0
while IFS= read -r file; do
  allowed=$(allowed_for "$file")
  while IFS= read -r included; do
    if [[ ! $included =~ $allowed ]]; then
      echo "$file includes $included: the arrow points the wrong way"
      wrong=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
  if [[ $file != framework/backend/* ]] &&
    grep -qE '^#include <(cblas|cublas_v2|cuda_runtime|cuda)\.h>' "$file"; then
    echo "$file includes a BLAS or CUDA header: only framework/backend/ calls them"
    wrong=1
  fi
done < <(find framework layers optim -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' \
  -o -name '*.cuh' \) 2>/dev/null | sort)

if ((wrong)); then exit 1; fi
echo "include arrows: every include in framework/, layers/ and optim/ points the right way"
