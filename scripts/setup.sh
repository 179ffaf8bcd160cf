#!/usr/bin/env bash
# Installs, from Debian's packages, whatever tapegrad needs that is missing. Idempotent: when
# everything is there it only checks and returns. Run as root (or with sudo) on Debian 12.
set -euo pipefail

packages=(
  cmake g++ make pkg-config    # the build
  libopenblas-openmp-dev       # BLAS on OpenMP: matrix products share our thread pool
  doctest-dev                  # the test framework
  libcli11-dev                 # the example programs' flags
  clang libomp-dev             # scripts/fuzz.sh: libFuzzer targets (and OpenMP for clang)
  libstb-dev                   # stb_image_write: PNG pictures
  zlib1g-dev                   # gzipped datasets
  libopenmpi-dev openmpi-bin   # data-parallel training on several processes (tapegrad::distributed)
  dataset-fashion-mnist        # the classification examples' data
  pocketsphinx-en-us           # the CMU pronouncing dictionary, for the seq2seq examples
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo_if_needed=()
if [[ $(id -u) -ne 0 ]]; then sudo_if_needed=(sudo); fi
"${sudo_if_needed[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_if_needed[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
