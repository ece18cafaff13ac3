"""Settings of the incident stage: clustering, tracking, playbooks.

Read from ``sentinel.yaml`` under ``incidents:``; every field has a default, so a
config without the section behaves as documented in ``docs/incidents.md``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.durations import Duration, OptionalDuration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClusteringSettings(_Strict):
    """When a matched post joins an open incident instead of opening a new one."""

    window: Duration = Field(
        48 * 3600,
        description="A post joins an incident whose last post is at most this old (30m, 48h, 7d).",
    )
    near_duplicate: float = Field(
        0.6, ge=0, le=1, description="Text similarity (0–1) from which two posts are the same text."
    )
    min_shared_terms: int = Field(
        2, ge=1, description="Topic terms a post must share with an incident to be the same story."
    )
    min_shared_words: int = Field(
        3, ge=1, description="Story keywords (the texts' most telling words, names and category "
        "vocabulary left out) a post must share with an incident to be the same story.",
    )
    require_entity: bool = Field(
        True, description="Shared terms count only when the post also names one of the incident's entities."
    )


class TrackingSettings(_Strict):
    """Dynamic tracking (动态跟踪) of a handled incident."""

    quiet_period: Duration = Field(
        72 * 3600, description="With no new post for this long, tracking proposes closing the incident."
    )
    engagement_growth: float = Field(
        1.0,
        ge=0,
        description="Relative rise of replies+views+likes since tracking began that counts as renewed growth (1.0 = doubled).",
    )
    reopen_within: Duration = Field(
        30 * 86400,
        description="A new post of the story of an incident closed at most this long ago reopens it "
        "(二次危机); after that it opens a new incident marked 关联事件 #N, with a 二次危机 alert too.",
    )
    related_within: Duration = Field(
        365 * 86400,
        description="How long after closing an incident's story is still compared with new posts "
        "(to reopen it or to mark a new incident as related); older incidents are left alone.",
    )


class DefaultEscalation(_Strict):
    """Used by ``sentinel incident escalate`` when no escalation rule covers the incident."""

    notify: list[str] = Field(
        default_factory=lambda: ["leaders", "superior"],
        description="Groups told at once (dual reporting: the leaders and the superior department).",
    )
    ack_within: Duration = Field(3600, description="Time to acknowledge before a reminder.")


class IncidentSettings(_Strict):
    """The ``incidents:`` section of sentinel.yaml."""

    clustering: ClusteringSettings = Field(default_factory=ClusteringSettings, description="Same-story rules.")
    tracking: TrackingSettings = Field(default_factory=TrackingSettings, description="Follow-up watch.")
    playbooks: str | None = Field(
        None, description="A playbooks YAML file replacing the built-in one (relative to the config file)."
    )
    escalate_on_open: bool = Field(
        True, description="Start the matching escalation rule as soon as an incident opens."
    )
    default_escalation: DefaultEscalation = Field(
        default_factory=DefaultEscalation, description="Escalation when no rule covers an incident."
    )
    min_deadline: Duration = Field(
        3600,
        description="A deadline at a time of day (same_day 23:59) is never less than this after the "
        "incident opens: an inquiry opened at 23:57 is due an hour later, not in two minutes.",
    )
    overdue_repeat: OptionalDuration = Field(
        None, description="Repeat an overdue alert this often; default: once per item."
    )


def settings_of(config) -> IncidentSettings:
    """The incident settings of a Config (defaults until the key exists there)."""
    s = getattr(config, "incidents", None)
    if isinstance(s, IncidentSettings):
        return s
    if isinstance(s, dict):
        return IncidentSettings.model_validate(s)
    return IncidentSettings()
