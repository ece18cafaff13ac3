"""docs/notifications.md stays true: its settings, its channels and its layout."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import yaml

from alerting.notify.settings import NotifySettings

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "notifications.md").read_text(encoding="utf-8")


def test_the_settings_example_is_valid_and_names_every_setting():
    block = re.search(r"```yaml\n(.*?)```", DOC, re.DOTALL).group(1)
    example = yaml.safe_load(block)["notify"]
    NotifySettings.model_validate(example)
    missing = [k for k in NotifySettings.model_fields if k not in example]
    assert not missing, (
        f"notify settings missing from the example in docs/notifications.md: {missing}"
    )


def test_every_builtin_channel_has_its_section():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for kind in declared["project"]["entry-points"]["sentinel.channels"]:
        assert re.search(rf"^### `{kind}`", DOC, re.MULTILINE), f"channel {kind} has no section"


def test_every_compose_module_is_in_the_layout():
    for path in (ROOT / "alerting" / "compose").glob("*.py"):
        if path.name not in ("__init__.py", "spec.py", "text.py", "masking.py"):
            assert f"`{path.name}`" in DOC, (
                f"alerting/compose/{path.name} is not in docs/notifications.md"
            )


def test_the_channel_example_is_python():
    [code] = re.findall(r"```python\n(.*?)```", DOC, re.DOTALL)
    ast.parse(code)
