"""The documentation stays true: every setting is documented, every example is valid."""

import re
from pathlib import Path

import pytest

from core.errors import SentinelError
from crawler.registry import source_types
from sentinel import config as config_mod
from sentinel.config import Config

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_config_key_is_documented_in_the_readme():
    missing = [
        (f.alias or name)
        for name, f in Config.model_fields.items()
        if name != "base_dir" and f"`{f.alias or name}`" not in README
    ]
    assert not missing, f"undocumented sentinel.yaml keys: {missing}"


def test_every_source_key_is_documented_in_the_readme():
    missing = []
    for kind, cls in source_types().items():
        for name, f in cls.config_model.model_fields.items():
            key = f.alias or name
            if f"`{key}`" not in README and f"{key}:" not in README and f"{{{key}" not in README:
                missing.append(f"{kind}.{key}")
    assert not missing, f"undocumented source keys: {missing}"


def test_every_config_field_has_a_description():
    models = [Config] + [c.config_model for c in source_types().values()]
    bare = [
        f"{m.__name__}.{n}"
        for m in models
        for n, f in m.model_fields.items()
        if n != "base_dir" and not f.description
    ]
    assert not bare, f"config fields without a description: {bare}"


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _yaml_blocks():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in re.finditer(r"```yaml\n(.*?)```", text, re.DOTALL):
            yield doc, text[: m.start()].count("\n") + 2, m.group(1)


def test_the_docs_have_yaml_examples():
    assert {doc.name for doc, _, _ in _yaml_blocks()} >= {
        "README.md",
        "incidents.md",
        "notifications.md",
    }


@pytest.mark.parametrize(
    "doc,line,block", list(_yaml_blocks()), ids=lambda v: getattr(v, "name", str(v))
)
def test_every_yaml_example_in_the_docs_loads_through_the_real_loader(doc, line, block, tmp_path):
    """Each ```yaml block of the README and docs/ is written to a sentinel.yaml and loaded
    as the daemon would load it (positions, Chinese messages, cross-checks)."""
    path = tmp_path / "sentinel.yaml"
    path.write_text(block, encoding="utf-8")
    try:
        config_mod.load(path)
    except SentinelError as e:
        pytest.fail(f"{doc.name}:{line}: the example does not load: {e}")
