"""--help in the office's words, laid out for Chinese text.

Click measures text in characters; a Chinese character takes two columns of a terminal,
so its own layout of Chinese help runs past the right edge and its columns do not line
up. ``write_rows`` lays out a definition list by display width; ``help_in_chinese``
puts Click's own words (its type placeholders, the usage line, the brackets after an
option's help) in Chinese.
"""

from __future__ import annotations

import re
import unicodedata

_HELP_WORDS = [
    (re.compile(r"\[OPTIONS\]"), "[选项]"),
    (re.compile(r"\bCOMMAND \[ARGS\]\.\.\."), "命令 [参数]..."),
    (re.compile(r"\[COMMAND\] \[ARGS\]\.\.\."), "[命令] [参数]..."),
    (re.compile(r"\b(INTEGER|FLOAT) RANGE\b"), lambda m: "整数" if m[1] == "INTEGER" else "数字"),
    (re.compile(r"\bINTEGER\b"), "整数"),
    (re.compile(r"\bFLOAT\b"), "数字"),
    (re.compile(r"\bTEXT\b"), "文字"),
    (re.compile(r"\bdefault: "), "默认："),
    (re.compile(r"\brequired\b"), "必填"),
    (re.compile(r"\benv var: "), "环境变量："),
    (re.compile(r"\bx>=(\d+)"), r"至少 \1"),
    (re.compile(r"; (?=[^\[]*\]$)"), "；"),
]


def help_in_chinese(text: str) -> str:
    """Click's English words in a usage line or a help text, in Chinese."""
    for pattern, replacement in _HELP_WORDS:
        text = pattern.sub(replacement, text)
    return text


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


_NO_LINE_START = set("，。；：、）》」』】！？,.;:)")
_NO_LINE_END = set("（《「『【(")


def wrap(text: str, columns: int) -> list[str]:
    """``text`` in lines of at most ``columns`` display columns: between Chinese
    characters anywhere, in ASCII only at spaces; punctuation never starts a line, an
    opening bracket never ends one."""
    lines: list[str] = []
    line: list[str] = []  # tokens: a run of ASCII, a space, one other character

    def used() -> int:
        return sum(width(t) for t in line)

    for token in re.findall(r"[!-~]+|\s+|.", text):
        if token.isspace():
            if line and not line[-1].isspace():
                line.append(" ")
            continue
        if line and used() + width(token) > columns:
            carry: list[str] = []
            # The word before punctuation goes along, and so does an opening bracket.
            while line and (
                (carry or [token])[0][0] in _NO_LINE_START
                or line[-1].isspace()
                or line[-1][-1] in _NO_LINE_END
            ):
                carry.insert(0, line.pop())
            if line:
                lines.append("".join(line).rstrip())
                line = carry[1:] if carry and carry[0].isspace() else carry
            else:
                line = carry
        line.append(token)
    if "".join(line).strip():
        lines.append("".join(line).rstrip())
    return lines or [""]


def write_rows(formatter, rows: list[tuple[str, str]], gap: int = 2, limit: int = 30) -> None:
    """A definition list (term, help) on ``formatter``, aligned and wrapped by display
    width; a term wider than ``limit`` has its help on the next line."""
    if not rows:
        return
    indent = formatter.current_indent
    first = min(max(width(term) for term, _ in rows), limit)
    columns = max(formatter.width - indent - first - gap, 20)
    for term, text in rows:
        formatter.write(" " * indent + term)
        if not text:
            formatter.write("\n")
            continue
        lines = wrap(text, columns)
        if width(term) > first:
            formatter.write("\n" + " " * (indent + first + gap))
        else:
            formatter.write(" " * (first - width(term) + gap))
        formatter.write(lines[0] + "\n")
        for rest in lines[1:]:
            formatter.write(" " * (indent + first + gap) + rest + "\n")


def paragraphs(text: str) -> list[str]:
    """A docstring's paragraphs, each on one line (lines of Chinese join without a
    space, lines of ASCII with one)."""
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [x.strip() for x in para.splitlines() if x.strip()]
        joined = ""
        for x in lines:
            if joined and (joined[-1].isascii() or x[0].isascii()):
                joined += " "
            joined += x
        out.append(joined)
    return out


def write_text(formatter, text: str) -> None:
    """Paragraphs of help text on ``formatter``, wrapped by display width."""
    columns = max(formatter.width - formatter.current_indent, 20)
    for i, para in enumerate(paragraphs(text)):
        if i:
            formatter.write("\n")
        for line in wrap(para, columns):
            formatter.write(" " * formatter.current_indent + line + "\n")
