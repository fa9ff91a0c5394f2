"""Notebook 07's figures over several seeds: bits per character of the LSTM and the GRU, and of the n-grams.

    python benchmarks/char_lm.py                    # LSTM and GRU, seeds 0 1 2, one thread; n-grams 1 to 7
    python benchmarks/char_lm.py --cells lstm --seeds 0
    python benchmarks/char_lm.py --cells lstm --seeds 0 --orders 0 --hidden-size 256 --epochs 6   # a longer run

Each run trains with `lstm_course.language_model.train_char_lm` (the notebook's recipe,
`language_model.TRAINING`) and prints one line; the table at the end holds the mean and the
range over the seeds. Training time is wall-clock time of the training steps (evaluation
excluded), so it grows when other programs share the CPU.
"""

import argparse
import time

import numpy as np

from lstm_course import language_model as lm
from lstm_course import ngrams, setup_notebook


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--orders", type=int, default=7, help="n-grams of order 1 to this (0: none)")
    parser.add_argument("--hidden-size", type=int, help="instead of TRAINING's")
    parser.add_argument("--epochs", type=int, help="instead of TRAINING's")
    args = parser.parse_args()

    for order in range(1, args.orders + 1):
        start = time.perf_counter()
        test, validation = ngrams.ngram_bits_per_char(order, "test"), ngrams.ngram_bits_per_char(order, "validation")
        print(f"{order}-gram: test {test:.3f}, validation {validation:.3f} bits per character "
              f"({time.perf_counter() - start:.1f} s)", flush=True)
    results = {}
    for cell in args.cells:
        for seed in args.seeds:
            setup_notebook(seed=seed, threads=args.threads)
            changes = {key: value for key, value in (("hidden_size", args.hidden_size), ("epochs", args.epochs)) if value}
            model = lm.train_char_lm(cell, seed=seed, progress=False, **changes)
            row = {"test": model.bits_per_char("test"), "validation": model.bits_per_char("validation"),
                   "seconds": model.history.seconds[-1]}
            results.setdefault(cell, []).append(row)
            print(f"{cell} seed {seed}: test {row['test']:.3f}, validation {row['validation']:.3f} bits per character, "
                  f"trained in {row['seconds']:.0f} s on {args.threads} thread(s)", flush=True)
    print(f"\n{'model':6s} {'test bits per character, mean (range)':40s} {'training s, mean (range)'}")
    for cell, rows in results.items():
        test, seconds = np.array([r["test"] for r in rows]), np.array([r["seconds"] for r in rows])
        print(f"{cell:6s} {test.mean():.3f} ({test.min():.3f}-{test.max():.3f}){'':22s} "
              f"{seconds.mean():.0f} ({seconds.min():.0f}-{seconds.max():.0f})")


if __name__ == "__main__":
    main()
