#!/usr/bin/env python3
"""On paper: what data-parallel training of the bench_distributed workloads would give on P
machines, from the measured figures.

Reads bench_distributed's JSON lines (stdin or files) and takes, per workload, the one-process
step time (compute, t_c, at the measured global batch: each machine keeps that batch, so the
global batch grows with P) and the gradient bytes S each rank reduces per step. A ring
allreduce over P machines moves 2 (P-1)/P * S bytes in and out of every machine in 2 (P-1)
messages of S/P bytes each:

    t_allreduce(P) = 2 (P-1)/P * S / bandwidth + 2 (P-1) * latency

Without overlap a step takes t_c + t_allreduce; with the allreduce hidden entirely behind
backward (the best overlap can do) max(t_c, t_allreduce). Samples/s = P * batch / step time;
efficiency = that over P times one machine's samples/s.

    build/bench/bench_distributed --threads 2 | python3 bench/distributed_scaling.py
"""
import json
import sys

LATENCY_S = 25e-6  # one message over TCP on an Ethernet LAN; RDMA is ~2 us
NETWORKS = [("10 Gbit/s", 10e9 / 8), ("100 Gbit/s", 100e9 / 8)]
MACHINES = [8, 64]


def allreduce_seconds(machines, size_bytes, bandwidth):
    if machines == 1:
        return 0.0
    steps = 2 * (machines - 1)
    return steps / machines * size_bytes / bandwidth + steps * LATENCY_S


def main():
    lines = []
    sources = [open(name) for name in sys.argv[1:]] or [sys.stdin]
    for source in sources:
        lines += [json.loads(line) for line in source if line.startswith("{")]
    single = [r for r in lines if r["ranks"] == 1]
    if not single:
        sys.exit("distributed_scaling.py: no one-process figures (ranks 1) in the input")
    print("| workload | network | machines | allreduce ms | samples/s (no overlap) | "
          "efficiency | samples/s (full overlap) | efficiency |")
    print("|---|---|---|---|---|---|---|---|")
    for r in single:
        compute = r["step_ms"] / 1e3
        one = r["global_batch"] / compute
        for network, bandwidth in NETWORKS:
            for p in MACHINES:
                t = allreduce_seconds(p, r["allreduce_bytes"], bandwidth)
                plain = p * r["global_batch"] / (compute + t)
                hidden = p * r["global_batch"] / max(compute, t)
                print(f"| {r['name']} (batch {r['global_batch']}/machine, "
                      f"{r['allreduce_bytes'] / 1e6:.2f} MB) | {network} | {p} | {1e3 * t:.2f} | "
                      f"{plain:,.0f} | {plain / (p * one):.0%} | {hidden:,.0f} | "
                      f"{hidden / (p * one):.0%} |")


if __name__ == "__main__":
    main()
