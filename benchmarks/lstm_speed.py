"""How fast are the course's LSTMs? Each one's time as a ratio to torch.nn.LSTM, and what the tiled-weights
form costs in memory.

    python benchmarks/lstm_speed.py                     # all three sizes at 1 and 2 threads, 6 to 10 minutes
    python benchmarks/lstm_speed.py --quick             # tutorial and medium, 3 repeats
    python benchmarks/lstm_speed.py --sizes medium --repeats 9 --threads 2

A ratio of 2.0 means twice as slow as nn.LSTM, measured in the same run: each repeat times every
implementation back to back and divides by that repeat's nn.LSTM time; the table gives the median
over repeats and, in brackets, the lowest and highest. Float32, batch_first, one layer, one direction.
The "packed" rows run a PackedSequence of the same batch with random lengths (half to all of the
steps) and are ratios to nn.LSTM on that same PackedSequence. The timing code is
lstm_course.benchmark, which a notebook can call too.

At 1 and then 2 threads by default (--threads 1,2). On a shared 2-core machine, two threads can
make single timings swing widely (threads waiting on each other while another program holds a
core): read the 2-thread table with its spreads.
"""

import argparse
import os
import platform
import statistics

# The targets, at the medium and large sizes: (implementation, mode, most times nn.LSTM).
TARGETS = [
    ("HandLSTM", "forward", 2.0),
    ("FastHandLSTM", "forward", 1.0),
    ("HandLSTM", "forward+backward", 2.5),
    ("FastHandLSTM", "forward+backward", 1.0),
    ("FastHandLSTM packed", "forward", 1.5),
    ("FastHandLSTM packed", "forward+backward", 1.5),
    ("numpy", "forward", 3.0),
]
LABELS = {
    "tiled": "tiled weights + bmm",
    "lstm_forward": "lstm_forward",
    "HandLSTM": "HandLSTM",
    "FastHandLSTM": "FastHandLSTM",
    "numpy": "NumPy float32 (forward only)",
    "HandLSTM packed": "HandLSTM, packed *",
    "FastHandLSTM packed": "FastHandLSTM, packed *",
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="tutorial,medium,large", help="comma-separated: tutorial, medium, large")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats per size (default 7)")
    parser.add_argument("--threads", default="1,2", help="comma-separated torch.set_num_threads, one table each (default 1,2); NumPy's BLAS gets the fewest")
    parser.add_argument("--quick", action="store_true", help="tutorial and medium sizes, 3 repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats = "tutorial,medium", 3
    args.sizes = [size.strip() for size in args.sizes.split(",") if size.strip()]
    args.threads = [int(threads) for threads in str(args.threads).split(",") if threads.strip()]
    return args


def _ratio(samples):
    spread = f"({min(samples):.2f}-{max(samples):.2f})" if len(samples) > 1 else "(1 timing)"
    return f"{statistics.median(samples):7.2f}x {spread:<13s}"


def print_environment(blas_threads_note):
    import numpy as np
    import torch

    from lstm_course import benchmark

    print(f"python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}")
    print(f"CPU capability {torch.backends.cpu.get_cpu_capability()}, {os.cpu_count()} CPUs seen")
    print(f"NumPy's BLAS: {benchmark.numpy_blas()}")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} ({blas_threads_note})")
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        value = os.environ.get(name)
        print(f"{name}: " + (f"set, to {value} (left as it is)" if value is not None else "not set"))


def print_speed(results):
    for size, result in results.items():
        batch, seq, input_size, hidden_size = result["shape"]
        seconds = result["nn.LSTM seconds"]
        print(f"\n{size}: batch {batch}, seq {seq}, input_size {input_size}, hidden_size {hidden_size}")
        print("  nn.LSTM takes " + ", ".join(f"{seconds[mode] * 1e3:.2f} ms {mode}" for mode in seconds))
        print(f"  {'ratio to nn.LSTM':30s} {'forward':>22s} {'forward+backward':>22s}")
        for name, samples in result["samples"].items():
            cells = [_ratio(samples[mode]) if mode in samples else f"{'-':>8s}{'':14s}" for mode in ("forward", "forward+backward")]
            print(f"  {LABELS[name]:30s} {cells[0]:>22s} {cells[1]:>22s}")
        if any(name.endswith("packed") for name in result["samples"]):
            print("  * ratio to nn.LSTM on the same PackedSequence")


def print_targets(results):
    sizes = [size for size in ("medium", "large") if size in results]
    if not sizes:
        return
    print("\ntargets at the medium and large sizes (median ratio to nn.LSTM):")
    for name, mode, bound in TARGETS:
        found = [(size, results[size]["ratios"].get(name, {}).get(mode)) for size in sizes]
        cells = ", ".join(f"{size} {ratio:.2f}x {'met' if ratio <= bound else 'MISSED'}" for size, ratio in found if ratio is not None)
        if cells:
            print(f"  {LABELS[name].split(' (')[0]} {mode} <= {bound}x: {cells}")


def print_memory(report):
    mib = 2**20
    print("\nmemory, float32 forward: the weights w_ih and w_hh, and their copies tiled over the batch")
    for size, entry in report.items():
        print(f"  {size:9s} weights {entry['weights'] / mib:7.2f} MiB, tiled {entry['tiled weights'] / mib:8.2f} MiB ({entry['tiled weights'] // entry['weights']} copies)")
    print("peak bytes held by PyTorch's allocator during one forward (torch.profiler; oneDNN's own workspace in nn.LSTM is not seen)")
    names = list(next(iter(report.values()))["peak"])
    print("  " + f"{'':9s}" + "".join(f"{name:>14s}" for name in names))
    for size, entry in report.items():
        print(f"  {size:9s}" + "".join(f"{entry['peak'][name] / mib:10.1f} MiB" for name in names))


def main(argv=None):
    args = parse_args(argv)
    # NumPy's BLAS reads its thread count once, when NumPy is first imported (torch imports it), so
    # it is set here, before any import: the same threads as torch. On a busy 2-core machine a
    # multi-threaded OpenBLAS ran these small matmuls up to 8x slower than a single thread.
    note = "as it was set before this script ran"
    if "OPENBLAS_NUM_THREADS" not in os.environ:
        os.environ["OPENBLAS_NUM_THREADS"] = str(min(args.threads))
        note = "set by this script, to torch's fewest threads"
    import torch

    from lstm_course import benchmark

    print_environment(note)
    print(f"float32, batch_first, 1 layer; {args.repeats} interleaved repeats after a warm-up; forward under torch.no_grad()")
    for threads in args.threads:
        torch.set_num_threads(threads)
        print(f"\n===== torch threads: {torch.get_num_threads()} (torch.set_num_threads({threads}))")
        results = benchmark.time_ratios(args.sizes, repeats=args.repeats, threads=threads)
        print_speed(results)
        print_targets(results)
    print_memory(benchmark.memory_report(args.sizes))


if __name__ == "__main__":
    main()
