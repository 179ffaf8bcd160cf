#!/usr/bin/env bash
# The set-up-and-run command: installs what is missing, builds, and trains the main example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/examples/fashion_mlp "$@"
