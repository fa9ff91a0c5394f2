"""How fast notebook 05's LSTM trains with 1 and with 2 PyTorch threads.

    python benchmarks/text_threads.py --epochs 3 --repeats 2

Alternates the thread counts so that other load on the machine hits both alike, and prints
the training seconds per epoch (evaluation excluded) of every run.
"""

import argparse

import numpy as np

from lstm_course import setup_notebook, sentiment


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="lstm")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    args = parser.parse_args()

    per_epoch = {threads: [] for threads in args.threads}
    for repeat in range(args.repeats):
        for threads in args.threads:
            setup_notebook(seed=0, threads=threads)
            classifier = sentiment.train_classifier(args.model, seed=0, epochs=args.epochs, progress=False)
            seconds = classifier.history.seconds[-1] / args.epochs
            per_epoch[threads].append(seconds)
            print(f"{threads} thread(s): {seconds:5.1f} s per epoch, validation accuracy "
                  f"{classifier.history.best_validation_accuracy:.4f}", flush=True)
    for threads, seconds in per_epoch.items():
        print(f"{threads} thread(s): median {np.median(seconds):.1f} s per epoch over {len(seconds)} runs")


if __name__ == "__main__":
    main()
