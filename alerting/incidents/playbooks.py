"""Playbooks (分类处理): per category, the checklist with deadlines and the proposed
measures, loaded from YAML the office can edit (``playbooks.yaml`` beside this module,
or the file named by ``incidents.playbooks`` in sentinel.yaml)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.incidents.settings import settings_of
from core import yamlpos
from core.durations import parse_duration
from core.errors import PositionedError
from core.vocabulary import Category
from storage.models import ChecklistItem, Incident

BUILTIN = Path(__file__).with_name("playbooks.yaml")
_DAY = re.compile(r"^(same_day|next_day)\s+(\d{1,2}):(\d{2})$")
AUTO = (None, "evidence", "reply", "meeting")


class PlaybookError(PositionedError):
    """The playbooks file is invalid."""

    exit_code = 2


class PlaybookItem(BaseModel):
    """One action of a category's checklist."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="Code of the item, unique in its category."
    )
    title: str = Field(description="Name of the item, as the office reads it.")
    due: str | None = Field(
        None, description="same_day HH:MM, next_day HH:MM, or a duration (2h, 3d)."
    )
    optional: bool = Field(False, description="Done only when the situation calls for it.")
    auto: str | None = Field(
        None,
        description="'evidence': done by the system when evidence is preserved; 'reply': done only by "
        "publishing a leader-approved reply; 'meeting': done by recording the Q&A meeting.",
    )
    takedown: bool = Field(
        False,
        description="Dealing with the source: once done, the offending posts are re-fetched to see "
        "whether they are gone (删帖复查).",
    )
    means: str | None = Field(
        None, description="One line saying what the item means, in the plan's words."
    )
    hint: str | None = Field(None, description="How to do it.")

    @field_validator("due")
    @classmethod
    def _due(cls, v):
        if v is None or _DAY.match(v.strip()):
            return v
        parse_duration(v)
        return v

    @field_validator("auto")
    @classmethod
    def _auto(cls, v):
        if v not in AUTO:
            raise ValueError(
                "auto 只能是 evidence（系统固定证据）、reply（发布经审定的答复）或 meeting（登记答疑会）"
            )
        return v

    def due_at(self, opened_at: datetime, tz: ZoneInfo, *, min_lead: float = 0) -> datetime | None:
        """The deadline for an incident opened at ``opened_at`` (aware), in UTC. A
        same-day deadline is never closer than ``min_lead`` seconds: an inquiry opened
        at 23:57 gets a workable deadline, not two minutes."""
        if not self.due:
            return None
        m = _DAY.match(self.due.strip())
        if m:
            local = opened_at.astimezone(tz)
            day = local.date() + timedelta(days=1 if m.group(1) == "next_day" else 0)
            at = datetime.combine(day, time(int(m.group(2)), int(m.group(3))), tzinfo=tz)
            return max(at.astimezone(opened_at.tzinfo), opened_at + timedelta(seconds=min_lead))
        return opened_at + timedelta(seconds=parse_duration(self.due))


_FOLD = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")


class Playbook(BaseModel):
    """A category's handling: label, proposed measures, checklist."""

    model_config = ConfigDict(extra="forbid")
    label: str
    measures: str = ""
    items: list[PlaybookItem] = Field(default_factory=list)

    @field_validator("measures")
    @classmethod
    def _measures(cls, v):
        # YAML's folded text (>-) joins its lines with a space, which Chinese has not:
        # "正面引导； 造成重大负面影响" reads as it was written only without it.
        return _FOLD.sub("", v.strip())


class Playbooks(RootModel[dict[str, Playbook]]):
    @field_validator("root")
    @classmethod
    def _cats(cls, v):

        for k, book in v.items():
            if Category.get(k) is None:
                raise ValueError(f"未知的类别“{k}”，可选：{Category.choices_text()}")
            keys = [i.key for i in book.items]
            if len(keys) != len(set(keys)):
                raise ValueError(f"类别 '{k}' 中有两个事项的 key 相同")
        return v


_cache: dict[tuple[str, float], dict[str, Playbook]] = {}


def load(path: str | Path | None = None) -> dict[str, Playbook]:
    """The playbooks in ``path`` (default: the built-in file), cached until it changes."""
    p = Path(path) if path else BUILTIN
    try:
        stamp = p.stat().st_mtime
    except OSError:
        raise PlaybookError(str(p), 1, 1, "找不到预案文件（playbooks）") from None
    cached = _cache.get((str(p), stamp))
    if cached is not None:
        return cached
    doc = yamlpos.load_file(p, PlaybookError)
    books = yamlpos.validate(doc, Playbooks, PlaybookError).root  # type: ignore[attr-defined]
    _cache[(str(p), stamp)] = books
    return books


def for_config(config) -> dict[str, Playbook]:
    from alerting.incidents.settings import settings_of

    path = settings_of(config).playbooks
    if path and not Path(path).is_absolute():
        path = str(Path(getattr(config, "base_dir", Path.cwd())) / path)
    return load(path)


def apply(
    session: Session, incident: Incident, config, *, now: datetime, keep_open: bool = False
) -> list[ChecklistItem]:
    """Give the incident its category's checklist (deadlines from its opening). Items of
    another category that are still open are dropped — when a person reclassifies — or
    kept with ``keep_open`` — when the system sees a story escalate (an inquiry turned
    hype wave still owes its same-day reply). Done items always stay on record."""
    from alerting.incidents.workflow import record

    books = for_config(config)
    book = books.get(incident.category or "")
    existing = {
        c.key: c
        for c in session.scalars(
            select(ChecklistItem).where(ChecklistItem.incident_id == incident.id)
        )
    }
    wanted = {i.key for i in book.items} if book else set()
    for key, item in existing.items():
        if key not in wanted and item.done_at is None and not keep_open:
            session.delete(item)
    added = []
    if book:
        for pi in book.items:
            if pi.key in existing:
                continue
            item = ChecklistItem(
                incident_id=incident.id,
                key=pi.key,
                title=pi.title,
                due_at=pi.due_at(
                    incident.opened_at, config.tz, min_lead=settings_of(config).min_deadline
                ),
            )
            session.add(item)
            added.append(item)
        if not incident.measures:
            incident.measures = book.measures
    session.flush()
    if added:
        record(
            session,
            incident,
            "checklist_added",
            now=now,
            note="、".join(i.title for i in added),
            category=incident.category,
        )
    return added


def item_spec(config, category: str | None, key: str) -> PlaybookItem | None:
    book = for_config(config).get(category or "")
    return next((i for i in book.items if i.key == key), None) if book else None


def spec_of_item(config, category: str | None, key: str) -> PlaybookItem | None:
    """The spec of an incident's checklist item: from its category's playbook, else from
    the playbook it came from (an inquiry's reply item stays when the story turns hype)."""
    spec = item_spec(config, category, key)
    if spec is not None:
        return spec
    return next(
        (i for book in for_config(config).values() for i in book.items if i.key == key), None
    )
