"""The smaller pieces of issue 10, one behaviour each: placeholder pages, PyYAML's
problems in Chinese, crawler warnings in Chinese, a severity raised by a person."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.yamlpos import load_text
from crawler.placeholder import is_placeholder, shows_no_text


@pytest.mark.parametrize(
    "text",
    [
        "加载中……",
        "请开启 JavaScript 后查看",
        "请先登录后查看帖子",
        "安全验证",
        "Please enable JavaScript to continue",
        "",
    ],
)
def test_a_page_without_its_post_shows_no_text(text):
    assert shows_no_text("校园网", text)


def test_a_real_post_or_a_title_only_feed_entry_is_content():
    assert not shows_no_text(
        "食堂涨价", "今天二食堂又涨价了，登录教务系统也查不到公示，大家怎么看？" * 3
    )
    assert not shows_no_text("江西警察学院通知", "", title_is_content=True)
    assert not is_placeholder("网页加载中出现的问题" + "很长的正文" * 40)


@pytest.mark.parametrize(
    "text,words",
    [
        ("a: [1, 2\n", "缺少右方括号"),
        ("a:\n\tb: 1\n", "Tab"),
        ("a:\n  b: 1\n c: 2\n", "缩进有误"),
        ("a: 'abc\n", "引号没有闭合"),
        ("a: @x\n", "请给这个值加上引号"),
        ("a: b: c\n", "不能出现冒号"),
        ('a: "C:\\qq"\n', "不是有效的转义"),
        ("  a: 1\nb: 2\n", "第一层键应从行首写起"),
    ],
)
def test_pyyaml_problems_are_told_in_chinese(text, words):
    with pytest.raises(ConfigError) as e:
        load_text(text, "sentinel.yaml", ConfigError)
    message = str(e.value)
    assert words in message and "expected" not in message and "found" not in message, message


def test_site_warnings_are_in_chinese():
    from crawler.base import SourceState
    from crawler.sources.site import _Tally

    t = _Tally(SourceState())
    t.record("stats", {"requests": 3, "responses": 2, "robots_forbidden": 2})
    t.record(
        "error", {"url": "https://bbs.example.com/1", "kind": "http_5xx", "message": "HTTP 503"}
    )
    o = t.finish()
    assert "robots.txt 禁止采集 2 个页面" in o.warnings
    assert any(w.startswith("网站服务器出错：") for w in o.warnings)
    assert not any("forbade" in w or "http_5xx" in w for w in o.warnings)


def test_a_person_raising_the_severity_moves_the_chain_at_once(db, config, outbox, clock, world):
    """A Ⅳ incident is not covered by the Ⅰ–Ⅱ rule; the office raises it to Ⅱ after 40
    minutes: the rule's first level (30 minutes) is long past, so the leaders and the
    superior department are told at that moment."""
    from datetime import timedelta

    from sqlalchemy import select

    from alerting.incidents import intake, service
    from storage.models import Escalation, Incident, User

    with db.session() as s:  # the office member who acts (people are named and checked)
        s.add(User(name="赵敏", role="office", email="zhaomin@example.edu.cn", active=True))
    object.__setattr__(
        config,
        "escalation",
        [
            config.escalation[0],
            type(config.escalation[0]).model_validate(
                {"severity": ["III", "IV"], "levels": [{"notify": ["office"], "ack_within": "4h"}]}
            ),
        ],
    )
    with db.session() as s:
        p, m = world.post(
            s, "https://bbs.example.com/t/9", "食堂涨价", "江西警察学院食堂涨价", severity="IV"
        )
        inc, _ = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
        iid = inc.id
    clock.advance(minutes=40)
    with db.session() as s:
        service.perform(
            service.Context(s, config, outbox, clock.now()),
            iid,
            "assess",
            {"by": "赵敏", "severity": "II"},
        )
    with db.session() as s:
        escs = s.scalars(
            select(Escalation).where(Escalation.incident_id == iid).order_by(Escalation.level)
        ).all()
        assert [e.groups for e in escs] == [["office"], ["leaders", "superior"]]
        assert escs[1].sent_at == clock.now()  # at once, not after the Ⅳ rule's 4 hours
        assert escs[0].ack_due_at == escs[0].sent_at + timedelta(minutes=30)  # the new rule's time
        assert s.get(Incident, iid).severity == "II"


def test_playbook_measures_read_without_the_space_yaml_folding_adds(config):
    """The measures are folded YAML (>-): its line breaks became spaces inside Chinese
    sentences (正面引导； 造成…) in every report that quotes them."""
    import re

    from alerting.incidents import playbooks

    books = playbooks.for_config(config)
    assert "及时正面引导；造成重大负面影响" in books["hype"].measures
    for key, book in books.items():
        assert not re.search(r"[\u3000-\u9fff\uff00-\uffef]\s+[\u3000-\u9fff]", book.measures), key
