"""Notebook 05's comparison of text classifiers, over several seeds: accuracy, training time, word order.

    python benchmarks/text_compare.py                   # every model, seeds 0 1 2, one thread
    python benchmarks/text_compare.py --models bow lstm --seeds 0 --threads 2

Each run trains with `lstm_course.sentiment.train_classifier` on the course's fixed split and prints
one line; the table at the end holds the mean over the seeds. The figures quoted in notebook 05
as "measured offline" come from this script. Training time is wall-clock time of the training
steps (evaluation excluded), so it grows when other programs share the CPU.
"""

import argparse
import json
import time

import numpy as np
import torch

from lstm_course import setup_notebook, sentiment

# label -> (model name, options of the model or of its training recipe)
VARIANTS = {
    "bow, lr 0.01, batch 64": ("bow", {"lr": 0.01, "batch_size": 64}),
    "bow, lr 0.003, batch 256": ("bow", {"lr": 0.003, "batch_size": 256}),
    "bow": ("bow", {}),  # lr 0.003, batches of 64: the best of the three on the validation split
    "lstm": ("lstm", {}),
    "lstm, not packed": ("lstm", {"packed": False}),
    "lstm, last states": ("lstm", {"pooling": "last"}),
    "lstm+bow": ("lstm+bow", {}),
    "lstm & bow, averaged": (None, ("lstm", "bow")),  # the two trained models' probabilities averaged
    "two-layer": ("two-layer", {}),
    "two-layer, not packed": ("two-layer", {"packed": False}),
}
_trained = {}  # (label, seed) -> (classifier, training seconds)


def trained(label, seed, threads, save_dir=None):
    """The classifier of one variant and seed, and its training seconds; trained once per run of this script."""
    if (label, seed) not in _trained:
        name, options = VARIANTS[label]
        if name is None:  # an average of other variants
            parts = [trained(part, seed, threads, save_dir) for part in options]
            _trained[label, seed] = sentiment.Averaged(*(c for c, _ in parts)), sum(s for _, s in parts)
        else:
            setup_notebook(seed=seed, threads=threads)
            classifier = sentiment.train_classifier(name, seed=seed, progress=False, **options)
            if save_dir:
                classifier.save(f"{save_dir}/{label.replace(', ', '_').replace(' ', '_')}_seed{seed}")
            _trained[label, seed] = classifier, classifier.history.seconds[-1]
    return _trained[label, seed]


def run(label, seed, threads, save_dir=None):
    start = time.perf_counter()
    classifier, seconds = trained(label, seed, threads, save_dir)
    pairs = sentiment.order_pair_scores(classifier)
    history = getattr(classifier, "history", None)
    return {
        "model": label, "seed": seed, "threads": threads,
        "test": classifier.accuracy("test"), "validation": classifier.accuracy("validation"),
        "best_epoch": history and history.best_epoch, "train_seconds": seconds,
        "wall_seconds": time.perf_counter() - start,
        "order_accuracy": pairs["accuracy"], "order_pairs_both_right": pairs["pairs_both_right"], "order_pairs_ranked": pairs["pairs_ranked"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="MODEL")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="also write every run to this file")
    parser.add_argument("--save-dir", help="also save every trained classifier in this folder")
    args = parser.parse_args()

    runs = []
    for seed in args.seeds:
        for label in args.models:
            runs.append(run(label, seed, args.threads, args.save_dir))
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in runs[-1].items()}), flush=True)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(runs, file, indent=1)

    print(f"\nmean over seeds {args.seeds}, {args.threads} thread(s), torch {torch.__version__}")
    print(f"{'model':20s} {'test':>6s} {'min':>6s} {'max':>6s} {'valid':>6s} {'train s':>8s} {'order':>6s} {'ranked':>6s}")
    for label in args.models:
        rows = [r for r in runs if r["model"] == label]
        test = [r["test"] for r in rows]
        print(f"{label:20s} {np.mean(test):6.4f} {min(test):6.4f} {max(test):6.4f} "
              f"{np.mean([r['validation'] for r in rows]):6.4f} {np.mean([r['train_seconds'] for r in rows]):8.1f} "
              f"{np.mean([r['order_accuracy'] for r in rows]):6.3f} {np.mean([r['order_pairs_ranked'] for r in rows]):6.1f}")


if __name__ == "__main__":
    main()
