"""The office's vocabulary is defined once (core/vocabulary.py) and read everywhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from core import vocabulary as v

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def _label_tables(path: Path):
    """Dict literals of three or more entries mapping English keys to Chinese words."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and len(node.keys) >= 3:
            keys, values = node.keys, node.values
            if all(
                isinstance(k, ast.Constant) and isinstance(k.value, str) and KEY.match(k.value)
                for k in keys
            ) and all(
                isinstance(x, ast.Constant) and isinstance(x.value, str) and CJK.search(x.value)
                for x in values
            ):
                yield node.lineno


def test_no_label_table_stands_outside_the_vocabulary():
    found = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        # yamlpos translates pydantic's own error types (another library's words, not ours).
        if rel.startswith((".venv/", "tests/", "build/")) or rel in (
            "core/vocabulary.py",
            "core/yamlpos.py",
        ):
            continue
        found += [f"{rel}:{line}" for line in _label_tables(path)]
    assert not found, f"label tables outside core/vocabulary.py: {found}"


def test_the_guard_itself_finds_a_label_table(tmp_path):
    p = tmp_path / "x.py"
    p.write_text('L = {"inquiry": "询问", "hype": "炒作", "illegal": "诽谤"}\n', encoding="utf-8")
    assert list(_label_tables(p)) == [1]


@pytest.mark.parametrize("word", ["hype", "恶意传播炒作", "炒作", "第二类", "2"])
def test_a_category_is_typed_as_its_key_its_label_or_an_alias(word):
    assert v.Category.parse(word) is v.Category.HYPE


def test_an_unknown_word_names_the_accepted_ones_in_chinese():
    with pytest.raises(ValueError, match="不是有效的处置类别.*询问质疑诉求（inquiry）"):
        v.Category.parse("gossip")


def test_labels_ranks_and_empty_values():
    assert v.Severity.label_of("I") == "Ⅰ级 特别重大" and v.severity_rank("I") > v.severity_rank(
        "IV"
    )
    assert v.Category.label_of(None) == "未定性" and v.Severity.label_of(None) == "未定级"
    assert v.actor_label("system") == "系统" and v.actor_label("赵敏") == "赵敏"
    assert f"{v.IncidentStatus.CLOSED}" == "closed" and v.IncidentStatus.CLOSED == "closed"
    assert [s.value for s in v.OPEN_STATUSES] == [
        "reported",
        "assessing",
        "escalated",
        "handling",
        "reopened",
    ]


def test_a_vocabulary_field_stores_the_key_whatever_the_office_typed():
    from pydantic import BaseModel

    class M(BaseModel):
        category: v.CategoryKey
        severity: v.SeverityKey | None = None

    m = M(category="建议", severity="Ⅱ级")
    assert (m.category, m.severity) == ("constructive", "II")
    assert v.vocabulary_of(M.model_fields["category"]) is v.Category
    assert v.vocabulary_of(M.model_fields["severity"]) is v.Severity


def test_internal_keys_cover_every_stored_word():
    keys = v.internal_keys()
    assert {"reported", "inquiry", "system", "office", "leaders", "pending", "timeout"} <= keys
