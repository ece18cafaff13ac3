"""Rich tables and lines that crawled text can neither break nor steer.

A title such as ``[/x]`` is Rich markup (a closing tag with no opening one crashes the
whole table), and escape sequences in a title reach the terminal as they are. Every
string cell becomes a ``rich.text.Text`` (never parsed as markup) with control
characters removed; the console parses no markup either, and strips the same from
every line it prints. Our own lines carry no markup, so nothing is lost.
"""

from __future__ import annotations

from rich.console import Console as _Console
from rich.table import Table as _Table
from rich.text import Text

from crawler.sanitize import clean_line, clean_text


def cell(value):
    """A table cell: a string as plain text (no markup), one line, no control characters."""
    return Text(clean_line(value)) if isinstance(value, str) else value


class Table(_Table):
    """``rich.table.Table`` whose string cells are plain text."""

    def add_row(self, *renderables, **kwargs) -> None:
        super().add_row(*(cell(r) for r in renderables), **kwargs)


class Console(_Console):
    """``rich.console.Console`` that reads no markup and prints no control characters."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("markup", False)
        super().__init__(*args, **kwargs)

    def print(self, *objects, **kwargs) -> None:
        super().print(
            *(Text(clean_text(o)) if isinstance(o, str) else o for o in objects), **kwargs
        )


_LEFT, _RIGHT = "┏┃┡│├└", "┓┃┩│┤┘"


def _fits(table: _Table, width: int) -> bool:
    """Whether ``table`` drawn ``width`` columns wide keeps its right border on every
    line: Rich cuts a line that a no_wrap column makes too wide at the edge (and a
    title with it), so a missing border is a cut cell."""
    import io

    probe = _Console(width=width, file=io.StringIO(), markup=False, color_system=None)
    with probe.capture() as captured:
        probe.print(table)
    for line in captured.get().splitlines():
        line = line.rstrip()
        if line[:1] in _LEFT and line[-1:] not in _RIGHT:
            return False
    return True


def fitted(build, drops: list[str], console: _Console):
    """The table ``build(dropped)`` makes, dropping the columns named in ``drops`` (the
    least useful first) until it fits the console's width; and what was dropped."""
    for k in range(len(drops) + 1):
        table = build(set(drops[:k]))
        if _fits(table, console.width):
            return table, drops[:k]
    return table, drops


def print_fitted(build, drops: list[str], console: _Console) -> None:
    """Print ``fitted``'s table, and say which columns a narrow terminal left out."""
    table, dropped = fitted(build, drops, console)
    console.print(table)
    if dropped:
        console.print(f"（终端较窄，未显示：{'、'.join(dropped)}；加宽终端或用 --json 查看）")
