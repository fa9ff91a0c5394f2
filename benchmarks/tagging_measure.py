"""Notebook 08's figures: baselines and BiLSTM taggers on the test splits, training times, Viterbi, one direction.

    python benchmarks/tagging_measure.py [seeds, default 0,1,2]

One thread (torch.set_num_threads(1)), as the notebooks run. Prints a table per task; the budget is
both default taggers trained in at most 90 s together.
"""

import resource
import sys
import time

import torch

from lstm_course import tagging as tg
from lstm_course.treebanks import load_pos, load_segmentation


def pos_rows(seeds):
    train, test = load_pos("train"), load_pos("test")
    seen = {word for words, _ in train for word in words}
    rows = [("most frequent tag", tg.pos_scores(tg.MostFrequentTag(train), test, seen), 0.0)]
    for name, changes in [("BiLSTM + shape/suffix", {}), ("BiLSTM, word only", dict(features=False)),
                          ("one direction + shape/suffix", dict(bidirectional=False))]:
        for seed in seeds if not changes else seeds[:1]:
            tagger = tg.train_tagger("pos", seed=seed, progress=False, **changes)
            rows.append((f"{name}, seed {seed}", tg.pos_scores(tagger, test, seen), tagger.seconds))
    print(f"\nPOS, UD English-EWT test ({sum(len(w) for w, _ in test):,} words, "
          f"{rows[0][1]['unseen_share']:.1%} unseen in training)")
    print(f"{'model':36} {'accuracy':>9} {'unseen acc':>10} {'train s':>8}")
    for name, scores, seconds in rows:
        print(f"{name:36} {scores['accuracy']:9.2%} {scores['unseen_accuracy']:10.2%} {seconds:8.1f}")


def segment_rows(seeds):
    train, test = load_segmentation("train"), load_segmentation("test")
    vocabulary = {word for words in train for word in words}
    texts = ["".join(words) for words in test]
    rows = [("forward maximum matching", tg.segmentation_scores(lambda t: tg.forward_max_match(t, vocabulary), test,
                                                                vocabulary), 0.0, None)]
    for name, changes in [("BiLSTM + kind/bigram", {}), ("BiLSTM, character only", dict(features=False)),
                          ("one direction + kind/bigram", dict(bidirectional=False))]:
        for seed in seeds if not changes else seeds[:1]:
            segmenter = tg.train_tagger("segment", seed=seed, progress=False, **changes)
            invalid = (tg.invalid_share(segmenter, texts, "argmax"), tg.invalid_share(segmenter, texts, "viterbi"))
            argmax = tg.segmentation_scores(lambda t: segmenter.segment(t, decode="argmax"), test, vocabulary)
            rows.append((f"{name}, seed {seed}", tg.segmentation_scores(segmenter, test, vocabulary), segmenter.seconds,
                         (invalid, argmax["f1"])))
    print(f"\nSegmentation, UD Chinese-GSDSimp test ({len(test)} sentences, {sum(map(len, test)):,} words)")
    print(f"{'model':36} {'P':>7} {'R':>7} {'F1':>7} {'unseen R':>8} {'train s':>8} {'invalid argmax->viterbi':>24} "
          f"{'F1 argmax':>9}")
    for name, scores, seconds, extra in rows:
        line = (f"{name:36} {scores['precision']:7.2%} {scores['recall']:7.2%} {scores['f1']:7.2%} "
                f"{scores['unseen_recall']:8.2%} {seconds:8.1f}")
        if extra:
            (before, after), argmax_f1 = extra
            line += f" {before:14.1%} -> {after:5.1%} {argmax_f1:9.2%}"
        print(line)


def main(seeds):
    torch.set_num_threads(1)
    start = time.perf_counter()
    segment_rows(seeds)
    pos_rows(seeds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"\nall measured in {time.perf_counter() - start:.0f} s; peak memory of this process {peak:.0f} MiB")


if __name__ == "__main__":
    main([int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "0,1,2").split(",")])
