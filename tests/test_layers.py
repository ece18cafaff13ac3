"""scheduler.py is a single module, which import-linter cannot take as a root package:
this checks that it imports nothing above itself (the CLI, the web console, the demo)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABOVE = ("sentinel.cli", "sentinel.web", "demo")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_the_scheduler_imports_nothing_above_itself():
    upward = sorted(
        n for n in _imports(ROOT / "scheduler.py") if n.startswith(ABOVE) or n == "sentinel.cli"
    )
    assert not upward, f"scheduler.py imports from a layer above it: {upward}"


def test_the_check_sees_an_upward_import(tmp_path):
    p = tmp_path / "s.py"
    p.write_text("def main():\n    from sentinel.cli import main as m\n", encoding="utf-8")
    assert "sentinel.cli" in _imports(p)
