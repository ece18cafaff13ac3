"""Compose: every family's wording is a pure function from records to a keyed message."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect

from alerting.compose import (
    daemon,
    digest,
    escalation,
    incident,
    reminder,
    replies,
    secondary,
    source_health,
    units,
)
from alerting.compose import early_warning as early
from alerting.compose.render import render
from alerting.compose.spec import MessageSpec
from alerting.compose.story import Report
from alerting.trends import Spike, SpikeRules
from core.vocabulary import MessageKind
from sentinel.config import Config
from storage.models import ChecklistItem, Incident, Match, Post, Reply, Source, User

COMPOSE = Path(incident.__file__).parent
T = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _config() -> Config:
    return Config.model_validate(
        {
            "timezone": "Asia/Shanghai",
            "console_url": "https://yuqing.example.edu.cn",
            "sources": [
                {"name": "college-bar", "type": "feed", "url": "https://forum.example.com/rss"}
            ],
        }
    )


def _records():
    """Records as the database would hand them over, but never added to a session."""
    inc = Incident(
        id=7,
        title="江西警察学院食堂饭菜里吃出虫子",
        status="tracking",
        category="inquiry",
        severity="III",
        post_count=2,
        site_count=1,
        opened_at=T,
        terms=["食堂", "虫子"],
        reopened_count=1,
        scope="涉及二食堂",
    )
    post = Post(
        id=11,
        url="https://forum.example.com/thread-1.html",
        title="江西警察学院食堂有虫子",
        text="今天在江西警察学院二食堂吃饭，饭菜里吃出虫子。",
        author="网友",
        fetched_at=T,
    )
    match = Match(
        post_id=11,
        mentioned=True,
        alert=True,
        score=70,
        severity="III",
        category="inquiry",
        entities=["江西警察学院"],
        reasons=[],
        hits=[{"term": "虫子", "start": 18, "end": 20, "topic": "canteen", "field": "text"}],
    )
    item = ChecklistItem(id=3, incident_id=7, key="reply", title="网上答复", due_at=T)
    src = Source(
        id=2,
        name="college-bar",
        type="feed",
        consecutive_failures=3,
        last_error_kind="timeout",
        last_error="读取超时（30 秒）",
        last_new=4,
        last_run_at=T,
        last_error_at=T,
    )
    return inc, post, match, item, src


def every_family(config) -> list[MessageSpec]:
    inc, post, match, item, src = _records()
    since = T - timedelta(days=1)
    coverage = digest.coverage(
        {c.name: c for c in config.sources}, {src.name: src}, {2: 1}, since, config.tz
    )
    subject, context = digest.content(
        [(post, match, 7)],
        {7: inc},
        coverage=coverage,
        since=since,
        until=T,
        config=config,
        name="daily",
        max_posts=30,
    )
    return [
        incident.opened(inc, [(post, match)], to=["office"], config=config),
        incident.update(
            inc, [(post, match)], key=incident.update_key(7, 11), to=["office"], config=config
        ),
        escalation.level_report(
            inc,
            report=Report(2, ("leaders", "superior"), T, note="第1级超时未确认"),
            group="leaders",
            config=config,
            posts=[(post, match)],
        ),
        reminder.unacknowledged(inc, level=2, groups=["leaders"], ack_due_at=T, config=config),
        reminder.overdue(inc, item, to=["office"], config=config),
        reminder.close_proposed(inc, days=7, config=config),
        secondary.secondary_crisis(
            inc,
            reason="事件出现在新的网站",
            was="tracking",
            post=post,
            to=["office", "leaders"],
            config=config,
        ),
        source_health.source_down(src, T - timedelta(hours=3), tz=config.tz),
        source_health.source_recovered(src, T - timedelta(hours=3)),
        daemon.config_broken(
            "/etc/sentinel/sentinel.yaml",
            "sentinel.yaml:3:5: 未知的键 'intervl'",
            "ab12",
            T - timedelta(hours=1),
            tz=config.tz,
        ),
        digest.message(
            subject, context, key=digest.period_key("daily", T, config.tz), to=["office"]
        ),
        *_people_families(inc, config),
        early.early_warning(
            Spike(T, "mentions", 8.0, 1.0),
            start=T - timedelta(hours=1),
            now=T,
            rules=SpikeRules(),
            pairs=[(post, match)],
            terms=[("虫子", 3)],
            config=config,
        ),
    ]


def _people_families(inc, config) -> list[MessageSpec]:
    """The reply on its way to the leaders and back, and a unit's receipts."""
    reply = Reply(
        incident_id=7,
        version=2,
        text="学校已核查，涉事食材已封存送检。",
        state="pending",
        drafted_by="赵敏",
        drafted_at=T,
        submitted_at=T,
    )
    approved = Reply(
        incident_id=7,
        version=2,
        text=reply.text,
        state="approved",
        drafted_by="赵敏",
        drafted_at=T,
        decided_by="李书记",
        decided_at=T,
        decision_note="同意",
    )
    rejected = Reply(
        incident_id=7,
        version=1,
        text="初稿",
        state="rejected",
        drafted_by="赵敏",
        drafted_at=T,
        decided_by="李书记",
        decided_at=T,
        decision_note="补充送检机构",
    )
    unit_user = User(id=5, name="刘老师", role="unit", unit="保卫处", email="liu@example.edu.cn")
    return [
        replies.approval_request(inc, reply, to=["leaders"], config=config),
        replies.decision(inc, approved, to=["office"], config=config),
        replies.decision(inc, rejected, to=["office"], config=config),
        units.report_received(inc, user=unit_user, opened=True, report_id=11, config=config),
        units.resolved(inc, user=unit_user, config=config),
    ]


def _imports(path: Path) -> set[str]:
    """Modules a file imports at run time (not those under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_compose_imports_no_database_and_nothing_that_sends():
    for path in sorted(COMPOSE.glob("*.py")):
        bad = {
            m
            for m in _imports(path)
            if m.split(".")[0] in ("sqlalchemy", "storage")
            or m.startswith(("alerting.notify", "alerting.incidents"))
        }
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_every_family_composes_from_records_outside_any_session():
    config = _config()
    specs = every_family(config)
    for record in _records():
        assert inspect(record).transient  # nothing was loaded, added or flushed
    assert all(isinstance(s, MessageSpec) for s in specs)
    assert {s.kind for s in specs} == set(MessageKind.keys())
    assert len({s.key for s in specs}) == len(specs)
    for spec in specs:
        html, text = render(spec.template, spec.context)
        assert spec.subject and "<html" in html and text.strip(), spec.key
    print(
        f"\n{len(specs)} messages composed without a database: "
        + "; ".join(s.subject for s in specs)
    )


def test_composing_twice_gives_the_same_messages_so_queueing_twice_stores_nothing_new():
    config = _config()
    assert every_family(config) == every_family(config)


def test_keys_name_what_is_told_once():
    tz = _config().tz
    before = T - timedelta(hours=3)
    # One source-down notice per outage: the same outage asked again, the same key.
    assert source_health.down_key("bar", before) == source_health.down_key("bar", before)
    assert source_health.down_key("bar", before) != source_health.down_key("bar", T)
    assert source_health.down_key("bar", None).endswith(":never")
    # One scheduled digest per period; each digest asked for by hand is its own.
    assert (
        digest.period_key("daily", T, tz)
        == digest.period_key("daily", T, tz)
        == "digest:daily:20261123T0900"
    )
    assert digest.manual_key(T) != digest.manual_key(T + timedelta(microseconds=1))
    # One report per group of a level (dual reporting), one overdue alert per repeat.
    inc, _post, _match, item, _src = _records()
    keys = {
        escalation.level_report(
            inc, report=Report(1, ("leaders", "superior"), T), group=g, config=_config()
        ).key
        for g in ("leaders", "superior")
    }
    assert keys == {"escalation:7:1:leaders", "escalation:7:1:superior"}
    first = reminder.overdue(inc, item, to=["office"], config=_config())
    again = reminder.overdue(inc, item, to=["office"], config=_config(), again_at=T)
    assert first.key == "overdue:3" and again.key == f"overdue:3:{T.isoformat()}"
    # An unacknowledged report is a family reminded once per repeat interval.
    assert reminder.unacknowledged(
        inc, level=2, groups=["leaders"], ack_due_at=T, config=_config()
    ).repeat


def test_first_alert_roots_the_thread_and_carries_the_category_guidance():
    inc, post, match, _item, _src = _records()
    spec = incident.opened(inc, [(post, match)], to=["office"], config=_config())
    assert spec.root and spec.incident_id == 7 and spec.severity == "III"
    assert spec.subject == "【舆情预警】【Ⅲ级 较大】【询问质疑诉求】江西警察学院食堂饭菜里吃出虫子"
    assert spec.context["guidance"] == incident.GUIDANCE["inquiry"]
    update = incident.update(inc, [(post, match)] * 3, key="k", to=["office"], config=_config())
    assert not update.root and update.subject.endswith("（新增 3 条）")


def test_a_source_is_named_by_its_label_else_its_cleaned_name():
    from alerting.compose.views import source_label, source_labels

    cfg = Config.model_validate(
        {
            "sources": [
                {
                    "name": "bbs",
                    "type": "feed",
                    "url": "http://bbs.example.cn/rss",
                    "label": "校园论坛",
                },
                {"name": "news", "type": "feed", "url": "http://news.example.cn/rss"},
            ]
        }
    )
    assert source_label(cfg, "bbs") == "校园论坛" and source_label(cfg, "news") == "news"
    assert source_label(cfg, "gone\n\x1b[31m") == "gone [31m" and source_label(cfg, None) == ""
    assert source_labels(cfg) == {"bbs": "校园论坛", "news": "news", "manual-report": "人工报案"}
    assert source_label(cfg, "manual-report") == "人工报案"  # what people report (报案)
