"""A hash table of n-gram keys for prediction: open addressing, linear probing, in NumPy.

A binary search (``np.searchsorted``) of the ~1,100 2- and 3-grams of a
550-character post in a 170,000-key vocabulary costs ~140 µs plus ~40 µs to sort
them: nearly all of the model's time, spent waiting on memory. Here each key is
hashed to a slot of a table with at least three slots per key and the weights are
stored *in slot order*, so most n-grams cost one gather for the key and one for
each weight. Empty slots hold zero weights, so an unknown n-gram that lands on one
adds nothing, with no filtering; the few that land on a taken slot probe on.
"""

from __future__ import annotations

import numpy as np

_MULT = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
EMPTY = np.int64(-1)


class SlotTable:
    """The keys (all >= 0) and, for each value array given, its values in slot order.

    ``find(queries)`` gives one slot per query; ``values[i][slot]`` is the value of
    the query's key, or 0 when the key is not in the table."""

    def __init__(self, keys: np.ndarray, *values: np.ndarray):
        n = len(keys)
        self.bits = max(4, int(np.ceil(np.log2(max(1, 3 * n)))))
        size = 1 << self.bits
        self.mask = np.uint64(size - 1)
        self.shift = np.uint64(64 - self.bits)
        self.dummy = size  # one more slot, always empty: where failed probes end
        self.keys = np.full(size + 1, EMPTY, dtype=np.int64)
        position = np.full(size + 1, -1, dtype=np.int32)
        home = self._home(keys)
        pending = np.arange(n)
        self.max_probe = 0
        while len(pending):
            slots = (home[pending] + np.uint64(self.max_probe)) & self.mask
            free = self.keys[slots] == EMPTY
            want, wanted = pending[free], slots[free].astype(np.int64)
            # Several keys may want one free slot in the same round: the first wins.
            taken, first = np.unique(wanted, return_index=True)
            self.keys[taken] = keys[want[first]]
            position[taken] = want[first]
            placed = np.zeros(n, dtype=bool)
            placed[want[first]] = True
            pending = pending[~placed[pending]]
            self.max_probe += 1
        used = position >= 0
        self.values = []
        for v in values:
            slotted = np.zeros(size + 1, dtype=v.dtype)
            slotted[used] = v[position[used]]
            self.values.append(slotted)

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return (keys.view(np.uint64) * _MULT) >> self.shift

    def find(self, queries: np.ndarray) -> np.ndarray:
        """The slot of each query: its key's slot, or an empty slot when it is absent."""
        home = self._home(queries)
        slots = home.astype(np.int64)
        found = self.keys[slots]
        # Probing on is needed only where the home slot holds another key (~1 in 6).
        # All further probes of those are made at once: one gather instead of a loop
        # of up to ``max_probe`` rounds of small NumPy calls.
        pending = np.flatnonzero((found != queries) & (found != EMPTY))
        if len(pending) and self.max_probe > 1:
            steps = np.arange(1, self.max_probe, dtype=np.uint64)
            rows = ((home[pending, None] + steps) & self.mask).astype(np.int64)
            keys = self.keys[rows]
            stop = (keys == queries[pending, None]) | (keys == EMPTY)
            first = stop.argmax(axis=1)
            ends = rows[np.arange(len(pending)), first]
            slots[pending] = np.where(stop.any(axis=1), ends, self.dummy)
        elif len(pending):
            slots[pending] = self.dummy
        return slots
