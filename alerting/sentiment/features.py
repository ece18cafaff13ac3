"""Character n-gram features of a post, shared by training and prediction.

Chinese has no spaces, and jieba costs ~1.4 ms a post; characters and their runs of
two and three (1-3-grams) carry most of a short text's polarity (差, 失望, 不推荐,
很满意) at a fraction of that cost. The same function makes the features when the
model is trained and when it is used, so the two cannot drift apart.

A text is first normalised with one ``str.translate``: full-width forms to
half-width, traditional to simplified characters (OpenCC's character table, as the
matcher uses), Latin letters to lower case, every digit to ``0`` (a price or a date
says nothing about polarity), and white space dropped. Punctuation is kept: ``！！``
and ``？`` carry tone.

Each n-gram is one integer ``key``: its code points packed 21 bits apiece
(``c1``, ``c1<<21 | c2``, ``c1<<42 | c2<<21 | c3``). Code points are at least 1, so
the three lengths never collide, and no hashing means no two n-grams share a weight.
"""

from __future__ import annotations

import functools
import unicodedata

import numpy as np

MAX_CHARS = 2000  # polarity shows early; the rest of a very long post costs time only


@functools.lru_cache(maxsize=1)
def translation() -> dict[int, int | None]:
    """The ``str.translate`` table of the normalisation described above."""
    from alerting.normalize import char_table

    table: dict[int, int | None] = {}
    for src, dst in char_table().items():
        if len(dst) == 1:
            table[ord(src)] = ord(dst)
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII, punctuation included
        half = chr(cp - 0xFEE0)
        table[cp] = ord(half.lower())
    for cp in range(0x10000):
        ch = chr(cp)
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            table[cp] = None
        elif unicodedata.category(ch) == "Nd":
            table[cp] = ord("0")
    table[0x3000] = None
    return table


def normalise(text: str) -> str:
    """The text as the model sees it (at most ``MAX_CHARS`` characters)."""
    return text[: MAX_CHARS * 2].translate(translation())[:MAX_CHARS]


def ngram_parts(norm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 1-, 2- and 3-gram keys of a normalised text (with repeats), as int64 arrays."""
    # surrogatepass: a lone surrogate in crawled text is a character like any other here
    c = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    bi = (c[:-1] << 21) | c[1:]
    tri = (bi[:-1] << 21) | c[2:]
    return c, bi, tri


def ngram_keys(norm: str) -> np.ndarray:
    """All 1-, 2- and 3-gram keys of a normalised text (with repeats), as one array."""
    return np.concatenate(ngram_parts(norm))


def key_text(key: int) -> str:
    """The n-gram a key stands for (for reading a model's strongest features)."""
    chars = []
    while key:
        chars.append(chr(key & 0x1FFFFF))
        key >>= 21
    return "".join(reversed(chars))
