"""Settings of the incident stage: clustering, tracking, playbooks.

Read from ``sentinel.yaml`` under ``incidents:``; every field has a default, so a
config without the section behaves as documented in ``docs/incidents.md``.
"""

from __future__ import annotations

from pydantic import BaseModel, ByteSize, ConfigDict, Field

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
        3,
        ge=1,
        description="Story keywords (the texts' most telling words, names and category "
        "vocabulary left out) a post must share with an incident to be the same story.",
    )
    require_entity: bool = Field(
        True,
        description="Shared terms count only when the post also names one of the incident's entities.",
    )


class TrackingSettings(_Strict):
    """Dynamic tracking (动态跟踪) of a handled incident."""

    quiet_period: Duration = Field(
        72 * 3600,
        description="With no new post for this long, tracking proposes closing the incident.",
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


class ReportSettings(_Strict):
    """Manual reports (报案): the files and the page a reporter hands in."""

    max_file_size: ByteSize = Field(
        ByteSize(20 * 1024 * 1024),
        description="Largest file a report may attach (20MiB, 5MB, or bytes); a larger one is refused.",
    )
    fetch_timeout: Duration = Field(
        30,
        description="Longest the fetch of a reported page may take, from the connect to the last byte.",
    )
    allow_private: bool = Field(
        False,
        description="Fetch a reported URL on a loopback or private address (an intranet page). Off: a "
        "reporter cannot make the server read the college's internal network.",
    )


class TakedownSettings(_Strict):
    """After the source of an incident was dealt with (信息源已处置): is each post gone?"""

    interval: Duration = Field(6 * 3600, description="Re-fetch each offending post this often.")
    stop_after: Duration = Field(
        14 * 24 * 3600, description="Stop re-checking this long after the source item was done."
    )
    removed_phrases: list[str] = Field(
        default_factory=lambda: [
            "已被删除",
            "不存在或已被删除",
            "帖子不存在",
            "主题不存在",
            "内容不存在",
            "页面不存在",
            "该内容已被屏蔽",
            "因违规无法查看",
            "该帖已被屏蔽",
        ],
        description="A page that still answers, no longer shows the post's title and says one of "
        "these counts as deleted.",
    )


class IncidentSettings(_Strict):
    """The ``incidents:`` section of sentinel.yaml."""

    clustering: ClusteringSettings = Field(
        default_factory=ClusteringSettings, description="Same-story rules."
    )
    tracking: TrackingSettings = Field(
        default_factory=TrackingSettings, description="Follow-up watch."
    )
    playbooks: str | None = Field(
        None,
        description="A playbooks YAML file replacing the built-in one (relative to the config file).",
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
    reports: ReportSettings = Field(
        default_factory=ReportSettings, description="Manual reports and their files."
    )
    takedown: TakedownSettings = Field(
        default_factory=TakedownSettings,
        description="Re-checks of offending posts after the source was dealt with.",
    )


def settings_of(config) -> IncidentSettings:
    """The incident settings of a Config (defaults until the key exists there)."""
    s = getattr(config, "incidents", None)
    if isinstance(s, IncidentSettings):
        return s
    if isinstance(s, dict):
        return IncidentSettings.model_validate(s)
    return IncidentSettings()
