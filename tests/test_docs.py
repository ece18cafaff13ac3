"""The documentation stays true: every setting is documented, every example is valid."""

import re
from pathlib import Path

import yaml

from crawler.registry import source_types
from sentinel.config import Config

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_config_key_is_documented_in_the_readme():
    missing = [
        (f.alias or name) for name, f in Config.model_fields.items()
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
    bare = [f"{m.__name__}.{n}" for m in models for n, f in m.model_fields.items()
            if n != "base_dir" and not f.description]
    assert not bare, f"config fields without a description: {bare}"


def test_yaml_examples_in_the_readme_are_valid_config(tmp_path):
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)
    assert blocks
    for block in blocks:
        Config.model_validate(yaml.safe_load(block))
