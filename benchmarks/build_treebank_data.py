"""Rebuild notebook 08's data, ``lstm_course/data/*.jsonl.gz``, from two Universal Dependencies treebanks.

    python benchmarks/build_treebank_data.py EWT_GIT_DIR GSDSIMP_GIT_DIR

Each argument is a git directory (a clone, or a bare snapshot) of
github.com/UniversalDependencies/UD_English-EWT and UD_Chinese-GSDSimp; the files are read with
``git show HEAD:path``, so no work tree is needed. Not run by the tests.

- **English (EWT)**: dev and test are the released ``en_ewt-ud-{dev,test}.conllu``. The train file
  is rebuilt as the treebank's own ``not-to-release/tools/build.py`` does: the documents listed in
  ``not-to-release/file-lists/files.train``, concatenated from ``not-to-release/sources/``. The
  rebuilt train split is checked against ``stats.xml`` (12,544 sentences, 204,577 words).
  Kept per sentence: ``{"words": [FORM, ...], "tags": [UPOS, ...]}``, the syntactic words (lines
  ``1-2``, multiword tokens, and ``8.1``, empty nodes, left out).
- **Chinese (GSDSimp)**: only dev and test (500 sentences each) are in the snapshot. Kept per
  sentence: ``{"words": [FORM, ...]}``. The course's splits: dev -> train; test's first 250
  sentences -> validation, its last 250 -> test.
"""

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "lstm_course" / "data"
EWT_TRAIN = {"sentences": 12544, "words": 204577}  # stats.xml of UD_English-EWT, <train>
WORD_LINE = re.compile(r"^\d+\t")  # "12\t..." is a word; "1-2\t..." a multiword token, "8.1\t..." an empty node


def git_show(git_dir, path):
    return subprocess.run(["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"], check=True,
                          capture_output=True, text=True, encoding="utf-8").stdout


def sentences(conllu):
    """Each sentence's syntactic words as ``(FORM, UPOS)`` pairs."""
    found, current = [], []
    for line in conllu.splitlines():
        if not line.strip():
            if current:
                found.append(current)
            current = []
        elif WORD_LINE.match(line):
            columns = line.split("\t")
            current.append((columns[1], columns[3]))
    if current:
        found.append(current)
    return found


def ewt_train_conllu(git_dir):
    """The train split rebuilt from its documents, as the treebank's ``build.py`` does."""
    files = git_show(git_dir, "not-to-release/file-lists/files.train").split()
    return "".join(git_show(git_dir, f"not-to-release/sources/{name}") for name in files)


def write_jsonl_gz(path, rows):
    """One JSON object a line, gzip'd with a fixed mtime so that a rebuild gives the same bytes."""
    text = "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as out:
        out.write(text.encode("utf-8"))
    print(f"{path.name}: {len(rows):,} sentences, {sum(len(r['words']) for r in rows):,} words, "
          f"{path.stat().st_size:,} bytes")


def build_english(git_dir):
    splits = {"train": ewt_train_conllu(git_dir), "validation": git_show(git_dir, "en_ewt-ud-dev.conllu"),
              "test": git_show(git_dir, "en_ewt-ud-test.conllu")}
    for split, conllu in splits.items():
        rows = [{"words": [w for w, _ in s], "tags": [t for _, t in s]} for s in sentences(conllu)]
        if split == "train":
            counts = {"sentences": len(rows), "words": sum(len(r["words"]) for r in rows)}
            assert counts == EWT_TRAIN, f"rebuilt EWT train has {counts}, stats.xml says {EWT_TRAIN}"
        write_jsonl_gz(DATA / f"ewt_pos_{split}.jsonl.gz", rows)


def build_chinese(git_dir):
    dev = sentences(git_show(git_dir, "zh_gsdsimp-ud-dev.conllu"))
    test = sentences(git_show(git_dir, "zh_gsdsimp-ud-test.conllu"))
    half = len(test) // 2
    for split, block in {"train": dev, "validation": test[:half], "test": test[half:]}.items():
        write_jsonl_gz(DATA / f"gsdsimp_words_{split}.jsonl.gz", [{"words": [w for w, _ in s]} for s in block])


def main(ewt_git_dir, gsdsimp_git_dir):
    DATA.mkdir(exist_ok=True)
    build_english(ewt_git_dir)
    build_chinese(gsdsimp_git_dir)


if __name__ == "__main__":
    main(*sys.argv[1:3])
