"""Notebook 08's data room: English words with their parts of speech, Chinese sentences as words.

    load_pos("train")            # 12,544 sentences: [(["Al", "-", "Zaman", ...], ["PROPN", "PUNCT", ...]), ...]
    load_segmentation("train")   # 500 sentences: [["同样", "，", "施力", "的", ...], ...]

Both come from Universal Dependencies treebanks (CC BY-SA 4.0; ``data/LICENSE-UD.txt`` gives the
licence and the attribution) and ship with the package, gzip'd JSON lines, rebuilt by
``benchmarks/build_treebank_data.py``.

- **English, UD English-EWT** (web text: weblogs, newsgroups, emails, reviews, Yahoo! answers).
  Each sentence's syntactic words (FORM) and universal part-of-speech tags (UPOS, the 17 of
  ``UPOS``); a contraction such as "don't" is two words, "do" and "n't". The treebank's own
  splits: train 12,544 sentences / 204,577 words (rebuilt from the treebank's source documents,
  the counts its ``stats.xml`` gives), validation (its dev) 2,001 / 25,147, test 2,077 / 25,094.
- **Chinese, UD Chinese-GSDSimp** (Wikipedia, simplified characters). Each sentence's words
  (FORM); the text is the words joined without spaces. Only the treebank's dev and test files
  (500 sentences each) are used: dev is the course's train split (500 sentences, 12,663 words),
  test's first 250 sentences the validation split (5,853 words), its last 250 the test split
  (6,159 words). That is far less than a real segmenter learns from (the treebank's own train
  split has about 4,000 sentences): many test words never occur in training, which is what a
  segmenter must cope with, and scores move by a point or more between seeds.
"""

import functools
import gzip
import json
from pathlib import Path

DATA = Path(__file__).parent / "data"
SPLITS = ("train", "validation", "test")
UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X")


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"split should be one of {SPLITS}, got {split!r}")


@functools.cache
def _rows(name):
    with gzip.open(DATA / name, "rt", encoding="utf-8") as lines:
        return tuple(json.loads(line) for line in lines)


def load_pos(split):
    """English sentences of ``split`` as ``(words, tags)``: two lists of str, a UPOS tag per word. A fresh list."""
    _check_split(split)
    return [(list(row["words"]), list(row["tags"])) for row in _rows(f"ewt_pos_{split}.jsonl.gz")]


def load_segmentation(split):
    """Chinese sentences of ``split``, each a list of words (str); ``"".join(words)`` is the sentence's text."""
    _check_split(split)
    return [list(row["words"]) for row in _rows(f"gsdsimp_words_{split}.jsonl.gz")]
