#!/usr/bin/env bash
# The set-up-and-run command: installs what is missing, builds, and trains the main example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
# Threads waiting for work spin briefly, then sleep: the programs choose that themselves
# (README, "Threads").
build/examples/fashion_mlp "$@"
