"""The shipped polarity model: a vocabulary of n-gram keys and two weight arrays.

A logistic regression over IDF-weighted character 1-3-grams (``features``), stored as
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
550-character post takes ~0.15 ms on one core here.

Lookup: the sorted keys fall into blocks (1-grams < 2**21 <= 2- and 3-grams);
1-grams of the Basic Multilingual Plane are found by direct indexing, 2- and
3-grams through a hash table (``table.SlotTable``) built when the file is loaded.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alerting.sentiment.features import ngram_parts, normalise
from alerting.sentiment.table import SlotTable

BMP = 0x10000


@dataclass
class SentimentModel:
    """A trained polarity model (see the module docstring for the arithmetic).

    Read-only once made: the lookup tables are built from the arrays when the model
    is constructed, so changed arrays mean a new ``SentimentModel``."""

    keys: np.ndarray
    idf: np.ndarray
    coef: np.ndarray
    intercept: float
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index()

    def _index(self) -> None:
        """Prediction's lookup structures, built once (the model is read-only): 1-grams
        of the Basic Multilingual Plane index two arrays by code point, 2- and
        3-grams go through a ``SlotTable``; both hold ``coef`` and ``idf**2``, with
        zeros for what the model does not know. About 11 MB in all."""
        n = len(self.keys)
        self.unknown = n  # the position ``occurrences`` gives an unknown n-gram
        self._bt0 = int(np.searchsorted(self.keys, 1 << 21))  # first 2-gram
        idf2 = self.idf.astype(np.float32) ** 2
        uni = self._uni_positions()
        self._uni_coef = np.append(self.coef, np.float32(0))[uni]
        self._uni_idf2 = np.append(idf2, np.float32(0))[uni]
        bt = slice(self._bt0, n)
        self._table = SlotTable(self.keys[bt], self.coef[bt], idf2[bt])
        self._bt_coef, self._bt_idf2 = self._table.values

    def _uni_positions(self) -> np.ndarray:
        """Vocabulary position of each BMP code point as a 1-gram (``unknown`` if
        none); index ``BMP`` stands for every code point outside the BMP."""
        out = np.full(BMP + 1, self.unknown, dtype=np.int64)
        uni = self.keys[: self._bt0]
        bmp = uni < BMP
        out[uni[bmp]] = np.flatnonzero(bmp)
        return out

    @functools.cached_property
    def _by_position(self) -> tuple[np.ndarray, np.ndarray]:
        """Training's lookup: 1-gram positions and the sorted 2- and 3-gram keys with a
        sentinel above every key at the end (so a search never runs off the end)."""
        big = np.iinfo(np.int64).max
        return self._uni_positions(), np.append(self.keys[self._bt0 :], big)

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
        """Vocabulary positions of every n-gram occurrence of a normalised text, repeats
        repeated; an n-gram the model does not know is at position ``unknown``. (The
        training path; ``logit`` gets the same sums from the tables.)"""
        uni_table, block = self._by_position
        uni, bi, tri = ngram_parts(norm)
        uni_pos = uni_table[np.minimum(uni, BMP)]
        grams = np.concatenate((bi, tri))  # 2-gram keys < 2**42 <= 3-gram keys: one block
        j = np.searchsorted(block, grams)
        bt_pos = np.where(block[j] == grams, j + self._bt0, self.unknown)
        return np.concatenate((uni_pos, bt_pos))

    def logit(self, text: str) -> float:
        """The model's raw score for a text (positive: not negative)."""
        uni, bi, tri = ngram_parts(normalise(text))
        u = np.minimum(uni, BMP)
        slots = self._table.find(np.concatenate((bi, tri)))
        norm2 = float(self._uni_idf2[u].sum() + self._bt_idf2[slots].sum())
        if norm2 == 0.0:
            return 0.0  # no n-gram the model knows: no opinion, not the bias's
        total = float(self._uni_coef[u].sum() + self._bt_coef[slots].sum())
        return total / math.sqrt(norm2) + self.intercept

    def probability(self, text: str) -> float:
        """P(the text is not negative), 0..1."""
        z = self.logit(text)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
