"""The shipped polarity model: a vocabulary of n-gram keys and two weight arrays.

A logistic regression over TF-IDF character 1-3-grams (``features``), stored as
plain arrays in a NumPy ``.npz`` file, so loading is a few array reads (no pickle,
no code from the file) and prediction needs NumPy only:

- ``keys``: the sorted n-gram keys of the vocabulary (int64);
- ``idf``: each key's inverse document frequency (float32);
- ``coef``: each key's weight already multiplied by its IDF (float32);
- ``intercept``: the bias; ``meta``: a JSON string saying how the file was made.

For a text whose n-grams ``i`` of the vocabulary occur ``c_i`` times, the row is
``x_i = c_i * idf_i / sqrt(sum_i c_i * idf_i**2)`` (the unit-length TF-IDF row when
no n-gram repeats, which is the common case) and

    P(not negative) = sigmoid(sum_i x_i * w_i + intercept)

which is exactly what scikit-learn computed on the same rows when it was trained.
Written per occurrence, the sum needs no counting at all:
``sum(coef[occ]) / sqrt(sum(idf[occ]**2)) + intercept`` over the vocabulary
positions ``occ`` of every n-gram occurrence; that and the lookup below are why a
550-character post takes ~0.1 ms.

Lookup: the sorted keys fall into three blocks (1-grams < 2**21 <= 2-grams <
2**42 <= 3-grams); 1-grams of the Basic Multilingual Plane are found by direct
indexing, 2- and 3-grams by binary search within their own block.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alerting.sentiment.features import ngram_parts, normalise

BMP = 0x10000


@dataclass
class SentimentModel:
    """A trained polarity model (see the module docstring for the arithmetic)."""

    keys: np.ndarray
    idf: np.ndarray
    coef: np.ndarray
    intercept: float
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index()

    def _index(self) -> None:
        """Block bounds and the direct 1-gram table (redone when ``keys`` change)."""
        self._bi0 = int(np.searchsorted(self.keys, 1 << 21))
        self._tri0 = int(np.searchsorted(self.keys, 1 << 42))
        self._bis = self.keys[self._bi0 : self._tri0]
        self._tris = self.keys[self._tri0 :]
        self._uni = np.full(BMP, -1, dtype=np.int64)
        bmp = self.keys[: self._bi0] < BMP
        self._uni[self.keys[: self._bi0][bmp]] = np.flatnonzero(bmp)

    # -- the file ------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> SentimentModel:
        """Read a model file written by ``save`` (no pickle: ``allow_pickle=False``)."""
        with np.load(Path(path), allow_pickle=False) as z:
            return cls(
                keys=z["keys"].astype(np.int64, copy=False),
                idf=z["idf"].astype(np.float32, copy=False),
                coef=z["coef"].astype(np.float32, copy=False),
                intercept=float(z["intercept"]),
                meta=json.loads(str(z["meta"])),
            )

    def save(self, path: Path) -> None:
        """Write the arrays, compressed, to ``path`` (a ``.npz`` file)."""
        with Path(path).open("wb") as f:
            np.savez_compressed(
                f,
                keys=self.keys.astype(np.int64),
                idf=self.idf.astype(np.float32),
                coef=self.coef.astype(np.float32),
                intercept=np.float64(self.intercept),
                meta=np.str_(json.dumps(self.meta, ensure_ascii=False, sort_keys=True)),
            )

    # -- prediction ----------------------------------------------------------------------
    def occurrences(self, norm: str) -> np.ndarray:
        """Vocabulary positions of every n-gram occurrence of a normalised text that the
        model knows (repeats repeated; unknown n-grams left out)."""
        uni, bi, tri = ngram_parts(norm)
        u = self._uni[uni[uni < BMP]]
        found = [u[u >= 0]]
        for grams, block, start in ((bi, self._bis, self._bi0), (tri, self._tris, self._tri0)):
            if not len(grams) or not len(block):
                continue
            grams = np.sort(grams)  # sorted queries search the block with far fewer misses
            j = np.searchsorted(block, grams)
            j[j == len(block)] = 0
            found.append(j[block[j] == grams] + start)
        return np.concatenate(found)

    def logit(self, text: str) -> float:
        """The model's raw score for a text (positive: not negative)."""
        occ = self.occurrences(normalise(text))
        if not len(occ):
            return 0.0  # no n-gram the model knows: no opinion, not the bias's
        idf = self.idf[occ]
        return float(self.coef[occ].sum()) / math.sqrt(float(np.dot(idf, idf))) + self.intercept

    def probability(self, text: str) -> float:
        """P(the text is not negative), 0..1."""
        z = self.logit(text)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
