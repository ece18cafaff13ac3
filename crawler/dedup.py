"""Near-duplicate detection (reposts, copies across sites) with MinHash.

``signature(text)`` gives serialisable bytes to store beside a post; a
``NearDuplicateIndex`` (in-memory MinHash LSH) answers which stored keys are probably
near-duplicates. The pipeline links a repost to the earliest of them.

The signatures are datasketch's (``MinHash(num_perm=128, seed=1)``, its default
``affine32`` scheme, serialised as a ``LeanMinHash``), computed here with numpy alone:
importing datasketch costs the daemon ~60 MB (it loads scipy.integrate to choose its
LSH bands), and its LSH tables hold ~5 KB of Python objects per post. The index keeps
each post in ~800 bytes of numpy arrays instead (its bands also sorted, so a query is a
binary search per band, not a scan), with datasketch's own banding for a
0.7 threshold (14 bands of 9 rows). tests/crawler/test_dedup.py checks both against
datasketch itself.
"""

from __future__ import annotations

import hashlib
import re
import struct
import threading

import numpy as np

NUM_PERM = 128
SHINGLE = 3  # characters: Chinese has no spaces, so shingles are character n-grams
_SEED = 1
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
BANDS, ROWS = 14, 9  # what datasketch's MinHashLSH(threshold=0.7, num_perm=128) picks
_FMT = f"@qiB{NUM_PERM}I"  # LeanMinHash, affine32: seed, -num_perm, scheme code 1, values
_AFFINE32 = 1
_VALUES_AT = struct.calcsize(_FMT) - 4 * NUM_PERM  # after the header and its alignment padding
TAIL = 4096  # rows added since the index was last sorted that a query still scans


def _permutations(seed: int = _SEED) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


_A, _B = _permutations()


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer (uint32 arithmetic wraps, as intended)."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def _shingles(text: str) -> set[bytes]:
    t = _STRIP.sub("", text.lower())
    if len(t) <= SHINGLE:
        return {t.encode("utf-8")} if t else set()
    return {t[i : i + SHINGLE].encode("utf-8") for i in range(len(t) - SHINGLE + 1)}


def hashvalues(text: str) -> np.ndarray:
    """The 128 MinHash values of ``text``'s 3-character shingles (uint32)."""
    sh = _shingles(text)
    if not sh:
        return np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    hv = np.array(
        [struct.unpack("<I", hashlib.sha1(s).digest()[:4])[0] for s in sh], dtype=np.uint32
    )
    with np.errstate(over="ignore"):
        return (_fmix32(hv).reshape(-1, 1) * _A + _B).min(axis=0)


def signature(text: str) -> bytes:
    """A MinHash signature of ``text`` as bytes (store it; compare with ``similarity``)."""
    return struct.pack(_FMT, _SEED, -NUM_PERM, _AFFINE32, *hashvalues(text).tolist())


def load(sig: bytes) -> np.ndarray:
    """The hash values in a stored signature."""
    seed, n, scheme = struct.unpack_from("@qiB", sig, 0)
    if seed != _SEED or n != -NUM_PERM or scheme != _AFFINE32:
        raise ValueError("not a sentinel MinHash signature (seed 1, 128 values, affine32)")
    return np.frombuffer(sig, dtype=np.uint32, count=NUM_PERM, offset=_VALUES_AT).copy()


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts' 3-character shingles (0–1)."""
    return float((load(a) == load(b)).mean())


def _bands(values: np.ndarray) -> np.ndarray:
    """One 64-bit digest per band of ``ROWS`` values (equal bands, equal digests)."""
    rows = values[: BANDS * ROWS].reshape(BANDS, ROWS).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = np.full(BANDS, 0xCBF29CE484222325, dtype=np.uint64)
        for i in range(ROWS):  # FNV-style mixing; a collision only adds a candidate
            h = (h ^ rows[:, i]) * np.uint64(0x100000001B3)
    return h


class NearDuplicateIndex:
    """In-memory LSH over signatures. ``threshold`` is the Jaccard similarity above which
    two texts count as near-duplicates (0.7 catches reposts with a changed headline or a
    source line added). Safe to share between threads (the scheduler's workers)."""

    def __init__(self, threshold: float = 0.7):
        self.threshold = threshold
        self._values = np.zeros((0, NUM_PERM), dtype=np.uint32)
        self._bands = np.zeros((0, BANDS), dtype=np.uint64)
        self._keys: list = []
        self._alive = np.zeros(0, dtype=bool)
        self._row: dict = {}
        self._lock = threading.Lock()
        # Each band's digests in order (rows [0, _sorted_n)), for a binary search per
        # band: a query costs the log of the index, not a scan of it (100,000 posts: 6 ms
        # a query scanned). Rows added since are scanned; the view is rebuilt by the
        # first query that finds more than TAIL of them.
        self._sorted_n = 0
        self._order = np.zeros((BANDS, 0), dtype=np.int32)
        self._sorted = np.zeros((BANDS, 0), dtype=np.uint64)

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, key) -> bool:
        return key in self._row

    def _grow(self) -> None:
        size = max(1024, 2 * len(self._keys))
        for name, width, dtype in (("_values", NUM_PERM, np.uint32), ("_bands", BANDS, np.uint64)):
            old = getattr(self, name)
            new = np.zeros((size, width), dtype=dtype)
            new[: len(old)] = old
            setattr(self, name, new)
        alive = np.zeros(size, dtype=bool)
        alive[: len(self._alive)] = self._alive
        self._alive = alive

    def add(self, key, sig: bytes) -> None:
        """Index ``sig`` under ``key`` (a post id); adding a key again replaces it."""
        values = load(sig)
        bands = _bands(values)
        with self._lock:
            old = self._row.pop(key, None)
            if old is not None:
                self._alive[old] = False
            if len(self._keys) == len(self._alive):
                self._grow()
            row = len(self._keys)
            self._keys.append(key)
            self._values[row], self._bands[row], self._alive[row] = values, bands, True
            self._row[key] = row

    def remove(self, key) -> None:
        with self._lock:
            row = self._row.pop(key, None)
            if row is not None:
                self._alive[row] = False

    def _sort(self, n: int) -> None:
        """The sorted view over rows [0, n), under the lock."""
        cols = self._bands[:n].T
        self._order = np.argsort(cols, axis=1, kind="stable").astype(np.int32)
        self._sorted = np.take_along_axis(cols, self._order, axis=1)
        self._sorted_n = n

    def query(self, sig: bytes) -> list:
        """Keys whose texts are near-duplicates of ``sig``'s text, most similar first
        (LSH candidates — a band in common — checked against the threshold)."""
        values = load(sig)
        bands = _bands(values)
        with self._lock:
            n = len(self._keys)
            if n - self._sorted_n > TAIL:
                self._sort(n)
            m = self._sorted_n
            found = [m + np.flatnonzero((self._bands[m:n] == bands).any(axis=1))]
            for b in range(BANDS if m else 0):
                col = self._sorted[b]
                lo, hi = (
                    np.searchsorted(col, bands[b], "left"),
                    np.searchsorted(col, bands[b], "right"),
                )
                if hi > lo:
                    found.append(self._order[b, lo:hi])
            rows = np.unique(np.concatenate(found)) if len(found) > 1 else found[0]
            rows = rows[self._alive[rows]]
            if not len(rows):
                return []
            # Jaccard estimate = share of equal hash values, one comparison for all
            # candidates (templated pages can bring hundreds of them).
            sims = (self._values[rows] == values).mean(axis=1)
            keys = [self._keys[r] for r in rows]
        scored = sorted(zip(sims.tolist(), keys), key=lambda x: -x[0])
        return [k for s, k in scored if s >= self.threshold]
