"""Crawled strings made safe to store and to show on a terminal.

A title can carry terminal escape sequences (OSC sets the window title or a hyperlink,
CSI clears the screen or recolours it, 8-bit C1 forms of both), bare control characters
(BEL, backspace, carriage return, NUL — which PostgreSQL refuses in text), Unicode
bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069: a
right-to-left override shows ``gpj.exe`` as ``exe.jpg`` and reverses a URL on the
screen; Chinese text never needs them) and lone surrogates (which no database encoder
accepts). They are removed once, at intake (``crawler.base.RawPost``), and again where
text reaches a terminal.
"""

from __future__ import annotations

import re

# Whole sequences first, so their parameters do not survive as visible junk.
_SEQUENCES = re.compile(
    r"\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC, DCS, SOS, PM, APC ... ST/BEL
    r"|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # their 8-bit forms
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x1b[ -/]*[0-~]"  # other escapes: ESC c, ESC ( B, ESC 7 ...
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n?|[\n\t\v\f\u2028\u2029]")


def clean_text(s: str | None) -> str:
    """Text with escape sequences and control characters removed; newlines (``\\r\\n``
    and ``\\r`` become ``\\n``) and tabs kept."""
    if not s:
        return s or ""
    if not isinstance(s, str):
        s = str(s)
    if not _CONTROLS.search(s):
        return s
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _SEQUENCES.sub("", s))


def clean_line(s: str | None) -> str:
    """One line: as ``clean_text``, with line breaks and tabs turned into spaces."""
    if not s:
        return s or ""
    return _LINE_BREAKS.sub(" ", clean_text(s))
