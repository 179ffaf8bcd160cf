#!/usr/bin/env bash
# The set-up-and-run command: installs what is missing, builds, and trains the main example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
# Threads waiting for work sleep instead of spinning: on a machine busy with other programs,
# spinning threads take the cores their siblings need (README, "Threads").
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
build/examples/fashion_mlp "$@"
