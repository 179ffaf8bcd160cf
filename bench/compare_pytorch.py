#!/usr/bin/python3
"""tapegrad against PyTorch (CPU) on the workloads of bench/bench_workloads.cpp.

    /usr/bin/python3 bench/compare_pytorch.py [--binary build/bench/bench_workloads]
                                              [--threads 1 --threads 2] [--repeats 11]
                                              [--only NAME,NAME...]

For each workload and thread count it runs two fresh processes, interleaved: the tapegrad
binary with --json --only NAME, and this script with --worker NAME (the same model in PyTorch).
One process per workload keeps the peak resident memory (getrusage ru_maxrss, read when the
workload is done) that workload's own, on both sides. Both run with the same malloc settings
(MALLOC_SETTINGS below) and with every thread pool (OpenMP, OpenBLAS) set to the thread count.

Timing is the binary's method, repeated here: steady state first (at least 10 steps and 1 s of
warm-up), measurements of about 50 ms, the median of --repeats of them, redone with twice the
steps per measurement while the fastest or slowest is more than 20% from the median. The ratio
is tapegrad at each thread count / PyTorch at its best thread count: below 1, tapegrad is
faster. The header prints the environment (CPU, vector flags, OPENBLAS_CORETYPE, load, commit).

The models are written to match bench/workload_models.h: the same shapes, layer defaults (so
the same U(-1/sqrt(fan_in)) initialisation scale), activations, dropout, masks and losses.
Without PyTorch the script still prints tapegrad's figures.
"""

import argparse
import importlib.util
import json
import math
import os
import resource
import subprocess
import sys
import time

WORKLOADS = ["mlp", "lstm", "mha", "g2p_lstm", "g2p_transformer", "fashion_attention",
             "tiny_ops", "matmul"]
TINY_CHAIN = 1000


SPREAD = 0.2     # min and max must sit within 20% of the median ...
MAX_ROUNDS = 4   # ... or the measurements are redone with twice the steps, up to 3 times


CLOCK = time.perf_counter  # --clock cpu: time.process_time (see bench_workloads --clock)


def measure_round(step, repeats, steps):
    samples = []
    for _ in range(repeats):
        start = CLOCK()
        for _ in range(steps):
            step()
        samples.append((CLOCK() - start) / steps * 1e3)
    samples.sort()
    n = len(samples)
    median = samples[n // 2] if n % 2 else 0.5 * (samples[n // 2 - 1] + samples[n // 2])
    within = samples[0] >= (1 - SPREAD) * median and samples[-1] <= (1 + SPREAD) * median
    return {"median_ms": median, "min_ms": samples[0], "max_ms": samples[-1],
            "steps_per_measurement": steps, "spread_ok": within}


def measure(step, repeats):
    """Median, min and max milliseconds per step; the same method as bench_workloads: a
    steady-state warm-up (at least 10 steps and 1 s), measurements of about 50 ms, redone with
    twice the steps while min or max is more than 20% from the median."""
    warm_start = CLOCK()
    warm_steps = 0
    while warm_steps < 10 or CLOCK() - warm_start < 1.0:
        step()
        warm_steps += 1
    seconds_per_step = (CLOCK() - warm_start) / warm_steps
    steps = max(1, round(0.05 / seconds_per_step))
    for _ in range(MAX_ROUNDS):
        result = measure_round(step, repeats, steps)
        if result["spread_ok"]:
            break
        steps *= 2
    return result


# ---- the PyTorch side: built only in a worker process ----

def torch_workload(name):
    """Returns step(): one training step of workload `name` in PyTorch."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)

    def cycling_lengths(batch, low, high):  # every length from low to high occurs
        return torch.tensor([low + b % (high - low + 1) for b in range(batch)])

    def padded_ids(lengths, length, vocab):  # ids in [1, vocab), pad 0 past each length
        ids = torch.randint(1, vocab, (len(lengths), length))
        return ids.masked_fill(torch.arange(length)[None, :] >= lengths[:, None], 0)

    def class_labels(batch, classes):
        return torch.tensor([(i * 7) % classes for i in range(batch)])

    def training_step(model, loss):
        optimizer = torch.optim.Adam(model.parameters())

        def step():
            optimizer.zero_grad(set_to_none=True)
            value = loss(model)
            value.backward()
            optimizer.step()
            if not math.isfinite(value.item()):
                raise RuntimeError("the loss is not finite")
        return step

    if name == "mlp":
        images, labels = torch.randn(128, 784), class_labels(128, 10)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                              nn.Linear(256, 10))
        return training_step(model, lambda m: F.cross_entropy(m(images), labels))

    if name == "lstm":
        x, w = torch.randn(32, 32, 64), torch.randn(32, 32, 256)
        model = nn.LSTM(64, 256, batch_first=True)
        return training_step(model, lambda m: (m(x)[0] * w).mean())

    if name == "mha":
        x, w = torch.randn(32, 64, 128), torch.randn(32, 64, 128)
        padding = torch.arange(64)[None, :] >= cycling_lengths(32, 32, 64)[:, None]  # True = pad
        model = nn.MultiheadAttention(128, 8, batch_first=True)
        # need_weights=False: what a training model asks for (nn.TransformerEncoderLayer does).
        return training_step(model, lambda m: (m(x, x, x, key_padding_mask=padding,
                                                 need_weights=False)[0] * w).mean())

    if name == "g2p_lstm":
        source_lengths, target_lengths = cycling_lengths(64, 4, 10), cycling_lengths(64, 3, 9)
        source = padded_ids(source_lengths, 10, 40)
        target_in, target_out = padded_ids(target_lengths, 9, 43), padded_ids(target_lengths, 9, 43)

        class G2PLSTM(nn.Module):
            def __init__(self):
                super().__init__()
                self.source_embedding = nn.Embedding(40, 64, padding_idx=0)
                self.target_embedding = nn.Embedding(43, 64, padding_idx=0)
                self.encoder = nn.LSTM(64, 128, batch_first=True, bidirectional=True)
                self.decoder = nn.LSTMCell(64 + 256, 256)
                self.output = nn.Linear(256 + 256, 43)

            def loss(self):
                packed = nn.utils.rnn.pack_padded_sequence(
                    self.source_embedding(source), source_lengths, batch_first=True,
                    enforce_sorted=False)
                encoded, (h, c) = self.encoder(packed)
                memory, _ = nn.utils.rnn.pad_packed_sequence(encoded, batch_first=True,
                                                             total_length=10)
                h, c = torch.cat([h[0], h[1]], 1), torch.cat([c[0], c[1]], 1)
                padding = torch.arange(10)[None, :] >= source_lengths[:, None]
                embedded = self.target_embedding(target_in)
                context = torch.zeros(64, 256)
                logits = []
                for t in range(target_in.size(1)):
                    h, c = self.decoder(torch.cat([embedded[:, t], context], 1), (h, c))
                    scores = torch.bmm(memory, h.unsqueeze(2)).squeeze(2)
                    weights = torch.softmax(scores.masked_fill(padding, float("-inf")), 1)
                    context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
                    logits.append(self.output(torch.cat([h, context], 1)))
                return F.cross_entropy(torch.stack(logits, 1).reshape(-1, 43),
                                       target_out.reshape(-1), ignore_index=0)
        return training_step(G2PLSTM(), lambda m: m.loss())

    if name == "g2p_transformer":
        source_lengths, target_lengths = cycling_lengths(64, 4, 10), cycling_lengths(64, 4, 10)
        source = padded_ids(source_lengths, 10, 40)
        target_in, target_out = padded_ids(target_lengths, 10, 43), padded_ids(target_lengths, 10, 43)
        source_padding = torch.arange(10)[None, :] >= source_lengths[:, None]
        target_padding = torch.arange(10)[None, :] >= target_lengths[:, None]
        causal = torch.triu(torch.ones(10, 10, dtype=torch.bool), diagonal=1)  # True = blocked

        class G2PTransformer(nn.Module):
            def __init__(self, d=128):
                super().__init__()
                self.d = d
                self.source_embedding = nn.Embedding(40, d, padding_idx=0)
                self.target_embedding = nn.Embedding(43, d, padding_idx=0)
                position = torch.arange(64).float()[:, None]
                frequency = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
                table = torch.zeros(64, d)
                table[:, 0::2], table[:, 1::2] = (torch.sin(position * frequency),
                                                  torch.cos(position * frequency))
                self.register_buffer("table", table)
                self.position_dropout = nn.Dropout(0.1)
                self.encoder = nn.TransformerEncoder(
                    nn.TransformerEncoderLayer(d, 4, 512, 0.1, activation="gelu",
                                               batch_first=True), 2, enable_nested_tensor=False)
                self.decoder = nn.TransformerDecoder(
                    nn.TransformerDecoderLayer(d, 4, 512, 0.1, activation="gelu",
                                               batch_first=True), 2)
                self.output = nn.Linear(d, 43)

            def positions(self, x):
                return self.position_dropout(x + self.table[: x.size(1)])

            def loss(self):
                scale = math.sqrt(self.d)
                memory = self.encoder(self.positions(self.source_embedding(source) * scale),
                                      src_key_padding_mask=source_padding)
                h = self.decoder(self.positions(self.target_embedding(target_in) * scale), memory,
                                 tgt_mask=causal, tgt_key_padding_mask=target_padding,
                                 memory_key_padding_mask=source_padding)
                return F.cross_entropy(self.output(h).reshape(-1, 43), target_out.reshape(-1),
                                       ignore_index=0, label_smoothing=0.1)
        return training_step(G2PTransformer(), lambda m: m.loss())

    if name == "fashion_attention":
        images, labels = torch.randn(128, 784), class_labels(128, 10)

        class VisionClassifier(nn.Module):
            def __init__(self, d=64):
                super().__init__()
                self.patch_embedding = nn.Linear(49, d)
                self.class_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
                self.positions = nn.Parameter(torch.randn(17, d) * 0.02)
                self.encoder = nn.TransformerEncoder(
                    nn.TransformerEncoderLayer(d, 4, 256, 0.0, activation="gelu",
                                               batch_first=True, norm_first=True), 2,
                    norm=nn.LayerNorm(d), enable_nested_tensor=False)
                self.head = nn.Linear(d, 10)

            def loss(self):
                b = images.size(0)
                patches = images.reshape(b, 4, 7, 4, 7).permute(0, 1, 3, 2, 4).reshape(b, 16, 49)
                x = self.patch_embedding(patches)
                x = torch.cat([self.class_token.expand(b, 1, -1), x], 1) + self.positions
                return F.cross_entropy(self.head(self.encoder(x)[:, 0]), labels)
        return training_step(VisionClassifier(), lambda m: m.loss())

    if name == "tiny_ops":
        y = torch.randn(8, 8, requires_grad=True)
        start = torch.zeros(8, 8)

        def step():
            y.grad = None
            x = start
            for _ in range(TINY_CHAIN):
                x = x + y
            x.sum().backward()
        return step

    if name == "matmul":
        a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
        return lambda: torch.matmul(a, b)

    raise SystemExit(f"compare_pytorch: no workload named '{name}'")


def run_worker(name, threads, repeats):
    import torch
    torch.set_num_threads(threads)
    baseline_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    result = measure(torch_workload(name), repeats)
    result["baseline_rss_mb"] = baseline_rss_mb  # python + torch imported, before the model
    result.update(name=name, threads=torch.get_num_threads(), torch_version=torch.__version__,
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    if name == "tiny_ops":
        result["per_op_us"] = result["median_ms"] * 1e3 / TINY_CHAIN
    print(json.dumps(result))


# ---- the driver ----

# glibc returns every freed block over its mmap threshold (128 KB, adjusted upward as blocks are
# freed) to the kernel, and the next step page-faults it back: PyTorch's CPU tensors come from
# malloc, so without these settings its step time includes thousands of page faults that any
# long-running training program avoids by setting them. tapegrad's caching allocator does not
# depend on them; both sides run with the same values, printed in the header.
MALLOC_SETTINGS = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "268435456"}


def json_line(command, env):
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    if completed.returncode != 0:
        return {"error": (completed.stderr or completed.stdout).strip().splitlines()[-1:]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def worker_environment(threads):
    """A measured process's environment: the malloc settings, and the thread count for every
    pool. torch.set_num_threads sets PyTorch's own loops, not the BLAS it calls: Debian's torch
    calls the pthread build of OpenBLAS, which starts one thread per core unless told otherwise,
    so a "1 thread" PyTorch would multiply matrices on 2 cores. The variables must be set before
    the process starts; OpenBLAS reads them when it loads."""
    env = dict(os.environ)
    env.update(MALLOC_SETTINGS)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(threads)
    return env


def torch_version():
    """torch's version, asked of a child process: importing torch here would grow this driver
    to ~230 MB, and a child's ru_maxrss starts from its parent's peak (Linux keeps the peak
    across fork and exec), so every measured process would report at least that."""
    if importlib.util.find_spec("torch") is None:
        return None
    completed = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                               capture_output=True, text=True)
    return completed.stdout.strip() if completed.returncode == 0 else None


def cpu_model():
    model, flags = "unknown", []
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    break
    except OSError:
        pass
    vector = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni")
              if f in flags]
    return model, vector


def commit():
    here = os.path.dirname(os.path.abspath(__file__))
    head = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return head + (" (with uncommitted changes)" if dirty else "")


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def figure(result):
    if result is None:
        return "-"
    if "error" in result:
        return "error"
    flag = "" if result.get("spread_ok", True) else " !"
    return f"{result['median_ms']:.3f} ({result['min_ms']:.3f}-{result['max_ms']:.3f}){flag}"


def ok(result):
    return result is not None and "error" not in result


def median_round(results):
    """The round whose median time is the median of the rounds' (the lower middle one for an
    even count); a failed round is reported if no round succeeded."""
    good = sorted((r for r in results if ok(r)), key=lambda r: r["median_ms"])
    return good[(len(good) - 1) // 2] if good else results[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default="build/bench/bench_workloads")
    parser.add_argument("--threads", type=int, action="append",
                        help="thread count (repeatable; default: 1 and 2)")
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every cell this many times, interleaved, and report the "
                             "round with the median time (for a shared, noisy machine)")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: each process's CPU time, for a busy machine (1 thread only)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: one PyTorch workload
    args = parser.parse_args()

    if args.clock == "cpu":
        global CLOCK
        CLOCK = time.process_time
    if args.worker:
        run_worker(args.worker, (args.threads or [1])[0], args.repeats)
        return
    if args.rounds < 1 or args.repeats < 1:
        sys.exit(f"compare_pytorch: --rounds and --repeats must be at least 1, got "
                 f"{args.rounds} and {args.repeats}")
    names = [n for n in args.only.split(",") if n] or WORKLOADS
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        sys.exit(f"compare_pytorch: unknown workload(s) {unknown}; known: {WORKLOADS}")
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"compare_pytorch: {args.binary} is not an executable; build bench_workloads "
                 "or pass --binary")
    thread_counts = args.threads or [1, 2]
    if args.clock == "cpu" and thread_counts != [1]:
        sys.exit("compare_pytorch: --clock cpu sums the CPU time of all threads: use --threads 1")

    version = torch_version()
    model, vector = cpu_model()
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; commit {commit()}")
    print(f"CPU: {model}, {os.cpu_count()} cores; vector flags: {' '.join(vector) or 'none'}")
    print(f"torch {version or '(absent)'}; "
          + "; ".join(f"{k}={os.environ.get(k, '(unset)')}"
                      for k in ("OPENBLAS_CORETYPE", "OMP_WAIT_POLICY")))
    print("both sides: " + " ".join(f"{k}={v}" for k, v in MALLOC_SETTINGS.items())
          + "; OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = the thread count")
    print(f"clock: {'process CPU time' if args.clock == 'cpu' else 'wall'}; "
          f"median of {args.repeats} measurements (min-max); '!' = spread still over "
          f"{SPREAD:.0%} of the median after {MAX_ROUNDS} rounds"
          + (f"; each cell the median of {args.rounds} interleaved rounds" if args.rounds > 1
             else ""))
    if version is None:
        print("python3-torch not installed: apt-get install python3-torch "
              "(printing tapegrad's figures alone)")
    print(f"load average at start: {load_average()}\n")

    # Per workload, the two sides at each thread count, interleaved (tapegrad, PyTorch, tapegrad,
    # PyTorch), so that a change of load hits both. The ratio divides tapegrad at each thread
    # count by PyTorch's best (the faster of its thread counts).
    head = " | ".join(f"tapegrad {t}t" for t in thread_counts) + " | " + \
        " | ".join(f"PyTorch {t}t" for t in thread_counts) + " | " + \
        " | ".join(f"ratio {t}t" for t in thread_counts)
    print(f"| workload | {head} | tapegrad MB | PyTorch MB |")
    print("|---|" + "---|" * (3 * len(thread_counts) + 2))
    notes, baselines = [], []
    for name in names:
        our_rounds = {t: [] for t in thread_counts}
        their_rounds = {t: [] for t in thread_counts}
        for _ in range(args.rounds):
            for threads in thread_counts:
                env = worker_environment(threads)
                our_rounds[threads].append(json_line(
                    [args.binary, "--json", "--only", name, "--threads", str(threads),
                     "--repeats", str(args.repeats), "--clock", args.clock], env))
                if version is not None:
                    their_rounds[threads].append(json_line(
                        [sys.executable, os.path.abspath(__file__), "--worker", name,
                         "--threads", str(threads), "--repeats", str(args.repeats), "--clock",
                         args.clock], env))
        ours = {t: median_round(r) for t, r in our_rounds.items()}
        theirs = {t: median_round(r) for t, r in their_rounds.items() if r}
        good = [r for r in theirs.values() if ok(r)]
        best = min(good, key=lambda r: r["median_ms"]) if good else None
        ratios = [f"{ours[t]['median_ms'] / best['median_ms']:.2f}" if ok(ours[t]) and best
                  else "-" for t in thread_counts]
        peak = lambda results: max((r["peak_rss_mb"] for r in results if ok(r)), default=None)
        ours_mb, theirs_mb = peak(ours.values()), peak(theirs.values())
        print(f"| {name} | " + " | ".join(figure(ours[t]) for t in thread_counts) + " | "
              + " | ".join(figure(theirs.get(t)) for t in thread_counts) + " | "
              + " | ".join(ratios) + f" | {ours_mb or 0:.0f} | "
              + (f"{theirs_mb:.0f}" if theirs_mb else "-") + " |", flush=True)
        baselines += [r["baseline_rss_mb"] for r in theirs.values() if ok(r)]
        for side, results in (("tapegrad", ours), ("PyTorch", theirs)):
            for threads, result in results.items():
                if result and "error" in result:
                    notes.append(f"{name} ({threads}t): {side} failed: {result['error']}")
        for threads in thread_counts:
            if ok(ours[threads]) and "per_op_us" in ours[threads]:
                torch_op = (f", PyTorch {theirs[threads]['per_op_us']:.2f} us"
                            if ok(theirs.get(threads)) else "")
                notes.append(f"tiny_ops per op (forward+backward), {threads}t: tapegrad "
                             f"{ours[threads]['per_op_us']:.2f} us{torch_op}")
            if ok(ours[threads]) and "ratio_to_blas" in ours[threads]:
                notes.append(f"matmul {threads}t: tg::matmul / raw cblas_sgemm = "
                             f"{ours[threads]['ratio_to_blas']:.3f} "
                             f"(sgemm {ours[threads]['blas_median_ms']:.3f} ms)")
            if ok(ours[threads]) and "tensor_peak_mb" in ours[threads]:
                notes.append(f"{name} {threads}t: tapegrad tensors peak "
                             f"{ours[threads]['tensor_peak_mb']:.1f} MB in use, allocator "
                             f"reserved peak {ours[threads]['reserved_peak_mb']:.1f} MB")
    if baselines:
        notes.append(f"PyTorch MB includes the process with torch imported, before any "
                     f"model: {min(baselines):.0f}-{max(baselines):.0f} MB")
    notes.append(f"load average at end: {load_average()}")
    print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
