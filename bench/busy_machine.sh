#!/usr/bin/env bash
# One workload beside a CPU hog (a shell loop that never sleeps, one core), at 2 threads and 1:
# tapegrad's default (OpenMP threads spin 1,000 turns, then sleep: framework/backend/cpu/
# wait_policy.cpp), threads sleeping at once (OMP_WAIT_POLICY=passive, the default until
# 2026-12-03), and libgomp's own default (its threads spin 300,000 times before sleeping; set
# here with GOMP_SPINCOUNT=300000). Either variable turns tapegrad's choice off. Prints a
# Markdown table of the median ms per step.
#   bench/busy_machine.sh [BINARY] [WORKLOAD] [REPEATS]
set -euo pipefail
binary=${1:-build/bench/bench_workloads}
workload=${2:-mlp}
repeats=${3:-11}

median_ms() {  # ENVIRONMENT_ASSIGNMENT (or "") THREADS
  env ${1:+"$1"} "$binary" --only "$workload" --threads "$2" --repeats "$repeats" --json |
    sed -n 's/.*"median_ms": *\([0-9.]*\).*/\1/p'
}

(while :; do :; done) &
hog=$!
trap 'kill $hog' EXIT
sleep 1
echo "| wait policy | 2 threads, ms | 1 thread, ms |"
echo "|---|---|---|"
spin=GOMP_SPINCOUNT=300000
passive=OMP_WAIT_POLICY=passive
echo "| tapegrad's default (spin 1,000) | $(median_ms "" 2) | $(median_ms "" 1) |"
echo "| sleep at once (passive) | $(median_ms $passive 2) | $(median_ms $passive 1) |"
echo "| libgomp's default (spin 300,000) | $(median_ms $spin 2) | $(median_ms $spin 1) |"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
