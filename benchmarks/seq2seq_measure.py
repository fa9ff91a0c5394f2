"""Notebook 10's figures: the date translator with and without attention, over seeds, on one thread.

    python benchmarks/seq2seq_measure.py                      # seeds 0 1 2, 2000 test pairs, beams 3 and 5 on 300
    python benchmarks/seq2seq_measure.py --seeds 0 --beam-pairs 100

Each model is trained with `lstm_course.seq2seq.train_translator` (the notebook's recipe,
`seq2seq.TRAINING`) and scored on test dates never seen in training: exact match overall, by
family and by source length, greedy against beam search, teacher-forced against free running.
The rule-based parser `dates.parse_date` is scored on the same pairs. Training time is the
wall-clock time of the training steps (evaluation excluded), so it grows when other programs
share the CPU. The peak memory is the process's maximum resident set size, every model trained.
"""

import argparse
import resource
import time

import numpy as np

from lstm_course import setup_notebook
from lstm_course import seq2seq as s2s
from lstm_course.dates import FAMILIES, FORMAT_NAMES, date_examples, parse_date

LENGTH_BINS = [(1, 10), (11, 14), (15, 19), (20, 24), (25, 40)]


def length_bin(example):
    return next(f"{low}-{high}" for low, high in LENGTH_BINS if low <= len(example.source) <= high)


def free_running_character_accuracy(translator, pairs):
    """Per-character accuracy of the greedy translations, position by position (a missing character is wrong)."""
    written = translator.translate_many([source for source, _ in pairs])
    right = sum(sum(a == b for a, b in zip(answer, target)) for answer, (_, target) in zip(written, pairs))
    return right / sum(len(target) for _, target in pairs)


FIELDS = {"year": slice(0, 4), "month": slice(5, 7), "day": slice(8, 10)}


def field_accuracy(translator, pairs):
    """``{field: share right}`` of the greedy translations: the year, the month and the day apart."""
    written = translator.translate_many([source for source, _ in pairs])
    return {name: np.mean([answer[part] == target[part] for answer, (_, target) in zip(written, pairs)])
            for name, part in FIELDS.items()}


def beam_comparison(translator, pairs, beam_sizes):
    """``{beam_size: (exact match, mean log-prob of the chosen translation, how often worse than greedy)}``,
    beam size 1 being greedy."""
    def decode(beam_size):
        return [translator.search(source, beam_size) for source, _ in pairs]

    def row(found, greedy):
        texts = [translator.target_vocab.decode(h.ids) for h in found]
        exact = np.mean([text == target for text, (_, target) in zip(texts, pairs)])
        worse = sum(b.log_prob < g.log_prob - 1e-5 for b, g in zip(found, greedy))
        return exact, np.mean([h.log_prob for h in found]), worse

    greedy = decode(1)
    return {1: row(greedy, greedy)} | {size: row(decode(size), greedy) for size in beam_sizes}


def measure(attention, seed, examples, beam_pairs, beam_sizes):
    setup_notebook(seed=seed, threads=1)
    start = time.perf_counter()
    translator = s2s.train_translator(attention=attention, seed=seed, progress=False)
    wall = time.perf_counter() - start
    pairs = [(e.source, e.target) for e in examples]
    row = {"exact": s2s.exact_match(translator, pairs), "train_s": translator.history.seconds[-1], "wall_s": wall,
           "best_epoch": translator.history.best_epoch,
           "family": s2s.exact_match_by(translator, examples, key=lambda e: e.family),
           "format": s2s.exact_match_by(translator, examples, key=lambda e: e.format),
           "length": s2s.exact_match_by(translator, examples, key=length_bin),
           "teacher_forced": translator.teacher_forced(pairs)[1],
           "free_running": free_running_character_accuracy(translator, pairs),
           "fields": field_accuracy(translator, pairs)}
    if beam_pairs:
        row["beam"] = beam_comparison(translator, pairs[:beam_pairs], beam_sizes)
    return row


def show(kind, seed, row):
    families = ", ".join(f"{f} {row['family'][f][0]:.3f}" for f in FAMILIES)
    print(f"{kind} seed {seed}: exact match {row['exact']:.4f} ({families}); per character: teacher-forced "
          f"{row['teacher_forced']:.4f}, free running {row['free_running']:.4f}; trained in {row['train_s']:.1f} s "
          f"(with evaluation {row['wall_s']:.1f} s), best epoch {row['best_epoch']}", flush=True)
    for beam_size, (exact, log_prob, worse) in row.get("beam", {}).items():
        print(f"    beam {beam_size}: exact match {exact:.3f}, mean log-prob {log_prob:.4f}, "
              f"worse than greedy on {worse}")


def mean_range(values, digits=3):
    values = np.array(values)
    return f"{values.mean():.{digits}f} ({values.min():.{digits}f}-{values.max():.{digits}f})"


def summary(results, examples):
    pairs = [(e.source, e.target) for e in examples]
    print(f"\nrule-based parser: exact match {s2s.exact_match(parse_date, pairs):.4f} on the same {len(pairs)} pairs")
    print(f"\n{'':20s} {'with attention':26s} without attention   (mean and range over seeds)")
    lines = [("exact match", lambda r: r["exact"]), ("teacher-forced char", lambda r: r["teacher_forced"]),
             ("free-running char", lambda r: r["free_running"]), ("training s", lambda r: r["train_s"])]
    lines += [(family, lambda r, f=family: r["family"][f][0]) for family in FAMILIES]
    lines += [(f"{field} right", lambda r, f=field: r["fields"][f]) for field in FIELDS]
    for name, get in lines:
        cells = [mean_range([get(r) for r in results.get(kind, [])]) if kind in results else "-"
                 for kind in ("with attention", "without attention")]
        print(f"{name:20s} {cells[0]:26s} {cells[1]}")
    print("\nby source length (characters): exact match, mean over seeds [pairs]")
    for low, high in LENGTH_BINS:
        label = f"{low}-{high}"
        cells = [np.mean([r["length"][label][0] for r in results[kind]]) if kind in results else float("nan")
                 for kind in ("with attention", "without attention")]
        count = next(iter(results.values()))[0]["length"].get(label, (0, 0))[1]
        print(f"  {label:6s} with {cells[0]:.3f}   without {cells[1]:.3f}   [{count}]")
    print("\nby format: exact match, mean over seeds")
    for name in FORMAT_NAMES:
        cells = [np.mean([r["format"][name][0] for r in results[kind]]) if kind in results else float("nan")
                 for kind in ("with attention", "without attention")]
        print(f"  {name:24s} with {cells[0]:.3f}   without {cells[1]:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--test-pairs", type=int, default=2000)
    parser.add_argument("--beam-pairs", type=int, default=300, help="test pairs decoded with beams (0: none)")
    parser.add_argument("--beam-sizes", nargs="+", type=int, default=[3, 5])
    parser.add_argument("--kinds", nargs="+", choices=["with", "without"], default=["with", "without"])
    args = parser.parse_args()

    examples = date_examples(args.test_pairs, "test", seed=0)
    results = {}
    for seed in args.seeds:
        for kind in args.kinds:
            name = f"{kind} attention"
            row = measure(kind == "with", seed, examples, args.beam_pairs if seed == args.seeds[0] else 0,
                          args.beam_sizes)
            results.setdefault(name, []).append(row)
            show(name, seed, row)
        if seed == args.seeds[0]:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
            print(f"peak memory after training both models of seed {seed}: {peak:.0f} MiB", flush=True)
    summary(results, examples)
    print(f"\npeak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
