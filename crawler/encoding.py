"""Bytes to text for pages and feeds from the Chinese web.

Order of evidence: a byte-order mark, then the HTTP header, then the document's own
declaration (XML declaration or ``<meta charset>``), then detection. A declared charset
is only believed when the bytes decode strictly with it: saved pages often declare
``gb2312`` while being UTF-8, and servers often send a stale header. GB2312 and GBK are
read as GB18030 (their superset), Big5 as Big5-HKSCS.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# Superset codecs: what a label really means on the web.
_SUPERSET = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}
_XML_DECL = re.compile(
    rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:\-]+)[\"']", re.IGNORECASE
)
_META = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:\-]+)", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:\-]+)", re.IGNORECASE)


@dataclass
class Decoded:
    text: str | None
    encoding: str | None  # the codec actually used
    declared: str | None  # what the header or document said, if anything
    error: str | None = None  # set when no codec could decode the bytes


def normalise_label(label: str | None) -> str | None:
    """A Python codec name for a charset label (supersets applied), or None."""
    if not label:
        return None
    label = label.strip().strip("'\"").lower()
    label = _SUPERSET.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSET.get(name, name)


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def bom_encoding(body: bytes) -> str | None:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    return None


def _utf16_32_sniff(body: bytes) -> str | None:
    """UTF-16/32 without a BOM: '<' or '<?' with NUL bytes around it."""
    head = body[:4]
    table = {
        b"\x00\x00\x00<": "utf-32-be",
        b"<\x00\x00\x00": "utf-32-le",
        b"\x00<\x00?": "utf-16-be",
        b"<\x00?\x00": "utf-16-le",
    }
    if head in table:
        return table[head]
    if len(head) >= 2 and head[0] == 0 and head[1:2] == b"<":
        return "utf-16-be"
    if len(head) >= 2 and head[1] == 0 and head[0:1] == b"<":
        return "utf-16-le"
    return None


def declared_in_document(body: bytes) -> str | None:
    head = body[:4096]
    m = _XML_DECL.search(head)
    if m:
        return m.group(1).decode("ascii", "replace")
    m = _META.search(head)
    if m:
        return m.group(1).decode("ascii", "replace")
    return None


def _strict(body: bytes, codec: str) -> str | None:
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    return text


def detect(body: bytes) -> str | None:
    """Best guess for undeclared bytes (charset-normalizer), superset applied."""
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000], cp_isolation=None).best()
    if best is None:
        return None
    return normalise_label(best.encoding)


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode a page or feed body using BOM, header, declaration, then detection."""
    bom = bom_encoding(body)
    if bom:
        raw = body[len(codecs.BOM_UTF8) if bom == "utf-8" else (4 if "32" in bom else 2) :]
        text = _strict(raw, bom)
        if text is not None:
            return Decoded(text, bom, bom)
        return Decoded(raw.decode(bom, "replace"), bom, bom)
    declared_header = header_charset(content_type)
    declared_doc = declared_in_document(body)
    sniff = _utf16_32_sniff(body)
    candidates: list[str] = []
    if sniff:
        candidates.append(sniff)
    # Bytes that decode strictly as UTF-8 with multi-byte sequences in them are UTF-8
    # whatever the label says (saved pages keep their old gb2312 meta tag): GBK or Big5
    # text of any length is almost never valid UTF-8 by accident.
    if not sniff and not body.isascii():
        candidates.append("utf-8")
    for label in (declared_header, declared_doc):
        codec = normalise_label(label)
        if codec and codec not in candidates:
            candidates.append(codec)
    # UTF-8 is checked before detection: strict UTF-8 success is almost never wrong.
    if "utf-8" not in candidates:
        candidates.append("utf-8")
    for codec in candidates:
        text = _strict(body, codec)
        if text is not None:
            return Decoded(text, codec, declared_header or declared_doc)
    guess = detect(body)
    if guess:
        text = _strict(body, guess)
        if text is not None:
            return Decoded(text, guess, declared_header or declared_doc)
    # Nothing decodes strictly: a declared CJK codec with a few bad bytes is still the
    # best reading; an undeclared, undetectable body is reported as undecodable.
    for codec in candidates[:-1]:
        if codec in ("gb18030", "big5hkscs", "utf-8", "euc_kr", "shift_jis", "euc_jp"):
            text = body.decode(codec, "replace")
            if text.count("\ufffd") <= max(2, len(text) // 1000):
                return Decoded(text, codec, declared_header or declared_doc)
    label = declared_header or declared_doc
    return Decoded(
        None,
        None,
        label,
        error=f"cannot decode the body: no codec fits (declared: {label or 'nothing'}, detected: {guess or 'nothing'})",
    )
