"""Every incident setting is documented in docs/incidents.md."""

from pathlib import Path

from pydantic import BaseModel

from alerting.incidents.settings import IncidentSettings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "incidents.md").read_text(encoding="utf-8")


def _keys(model: type[BaseModel], prefix: str = ""):
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _keys(ann, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", f


def test_every_incident_setting_is_documented_and_described():
    for key, field in _keys(IncidentSettings):
        assert f"`{key}`" in DOC, f"incidents.{key} is not in docs/incidents.md"
        assert field.description, f"incidents.{key} has no description"


def test_playbook_titles_in_the_docs_match_the_shipped_file():
    from alerting.incidents.playbooks import load

    for book in load().values():
        for item in book.items:
            assert item.title in DOC, item.title
