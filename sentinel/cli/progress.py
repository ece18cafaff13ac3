"""Progress bars for long work at the command line (``poll`` over many sources,
``backtest`` over many posts): on a terminal only, on stderr, gone when the work is
done; nothing at all with ``--json`` or when the output goes to a file or a pipe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Tick = Callable[[int, int], None]  # (done, total)


@contextmanager
def progress(*labels: str, enabled: bool = True) -> Iterator[list[Tick]]:
    """``with progress("采集", "匹配") as (collecting, matching): ... collecting(done, total)``:
    one bar per label, shown once its first tick comes."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield [lambda done, total: None for _ in labels]
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bars:
        tasks = [bars.add_task(label, total=None, visible=False) for label in labels]

        def tick_for(task) -> Tick:
            return lambda done, total: bars.update(task, completed=done, total=total, visible=True)

        yield [tick_for(t) for t in tasks]
