"""Near-duplicate detection (reposts, copies across sites) with MinHash from datasketch.

``signature(text)`` gives serialisable bytes to store beside a post; a
``NearDuplicateIndex`` (in-memory MinHash LSH) answers which stored keys are probably
near-duplicates. The pipeline links a repost to the earliest of them.
"""

from __future__ import annotations

import re
import threading

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

NUM_PERM = 128
SHINGLE = 3  # characters: Chinese has no spaces, so shingles are character n-grams
_SEED = 1
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)


def _shingles(text: str) -> set[bytes]:
    t = _STRIP.sub("", text.lower())
    if len(t) <= SHINGLE:
        return {t.encode("utf-8")} if t else set()
    return {t[i : i + SHINGLE].encode("utf-8") for i in range(len(t) - SHINGLE + 1)}


def minhash(text: str) -> LeanMinHash:
    m = MinHash(num_perm=NUM_PERM, seed=_SEED)
    sh = _shingles(text)
    if sh:
        m.update_batch(list(sh))
    return LeanMinHash(m)


def signature(text: str) -> bytes:
    """A MinHash signature of ``text`` as bytes (store it; compare with ``similarity``)."""
    lm = minhash(text)
    buf = bytearray(lm.bytesize())
    lm.serialize(buf)
    return bytes(buf)


def load(sig: bytes) -> LeanMinHash:
    return LeanMinHash.deserialize(bytearray(sig))


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts' 3-character shingles (0–1)."""
    return float(load(a).jaccard(load(b)))


class NearDuplicateIndex:
    """In-memory LSH over signatures. ``threshold`` is the Jaccard similarity above which
    two texts count as near-duplicates (0.7 catches reposts with a changed headline or a
    source line added). Safe to share between threads (the scheduler's workers)."""

    def __init__(self, threshold: float = 0.7):
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._sigs: dict = {}
        self._lock = threading.Lock()  # MinHashLSH's tables are plain dicts

    def __len__(self) -> int:
        return len(self._sigs)

    def __contains__(self, key) -> bool:
        return key in self._sigs

    def add(self, key, sig: bytes) -> None:
        """Index ``sig`` under ``key`` (a post id); adding a key again replaces it."""
        m = load(sig)
        with self._lock:
            if key in self._sigs:
                self._lsh.remove(key)
            self._lsh.insert(key, m)
            self._sigs[key] = m

    def remove(self, key) -> None:
        with self._lock:
            if key in self._sigs:
                self._lsh.remove(key)
                del self._sigs[key]

    def query(self, sig: bytes) -> list:
        """Keys whose texts are near-duplicates of ``sig``'s text, most similar first
        (LSH candidates checked against the threshold)."""
        m = load(sig)
        with self._lock:
            keys = list(self._lsh.query(m))
            if not keys:
                return []
            hashes = np.stack([self._sigs[k].hashvalues for k in keys])
        # Jaccard estimate = share of equal hash values; one vectorised comparison for all
        # candidates (templated pages can bring hundreds of LSH candidates).
        sims = (hashes == m.hashvalues).mean(axis=1)
        scored = sorted(zip(sims.tolist(), keys), key=lambda x: -x[0])
        return [k for s, k in scored if s >= self.threshold]
