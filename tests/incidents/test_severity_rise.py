"""Escalation follows severity (issue 11, point 7): a rise moves the running chain onto the
new rule's level at once, in the domain function itself — whoever calls ``set_severity``
or ``assess`` (the CLI, the console, a script), not only the action table. Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from alerting.incidents import actions, intake
from storage.models import Escalation, Incident, IncidentEvent, OutboxMessage


@pytest.fixture
def two_rules(config):
    """Ⅰ–Ⅱ: the office for 30 minutes, then the leaders and the superior; Ⅲ–Ⅳ: the
    office, 4 hours to acknowledge."""
    rule = type(config.escalation[0])
    object.__setattr__(
        config,
        "escalation",
        [
            config.escalation[0],
            rule.model_validate(
                {"severity": ["III", "IV"], "levels": [{"notify": ["office"], "ack_within": "4h"}]}
            ),
        ],
    )
    return config


def _minor(db, world, config, outbox, clock) -> int:
    with db.session() as s:
        p, m = world.post(
            s, "https://bbs.example.com/t/9", "食堂涨价", "江西警察学院食堂涨价", severity="IV"
        )
        inc, _ = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
        return inc.id


def _chain(db, iid) -> list[Escalation]:
    with db.session() as s:
        return list(
            s.scalars(
                select(Escalation).where(Escalation.incident_id == iid).order_by(Escalation.level)
            )
        )


def test_raising_the_severity_in_the_domain_function_moves_the_chain_at_once(
    db, two_rules, outbox, clock, world, people
):
    iid = _minor(db, world, two_rules, outbox, clock)
    assert [e.groups for e in _chain(db, iid)] == [["office"]]  # the Ⅳ rule: 4 hours
    clock.advance(minutes=40)
    with db.session() as s:  # no action table, no CLI: the domain function alone
        actions.set_severity(
            s,
            s.get(Incident, iid),
            "II",
            config=two_rules,
            outbox=outbox,
            now=clock.now(),
            by="赵敏",
        )
    chain = _chain(db, iid)
    assert [e.groups for e in chain] == [["office"], ["leaders", "superior"]]
    assert chain[1].sent_at == clock.now()  # at once, not after the Ⅳ rule's 4 hours
    assert chain[0].ack_due_at == chain[0].sent_at + timedelta(minutes=30)
    with db.session() as s:
        sent = s.scalars(
            select(OutboxMessage.recipients).where(OutboxMessage.kind == "escalation")
        ).all()
        kinds = [
            e.kind
            for e in s.scalars(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == iid)
                .order_by(IncidentEvent.id)
            )
        ]
    assert any("leader@example.edu.cn" in r for r in sent)
    assert kinds[-3:] == ["severity_set", "rule_changed", "escalation_sent"]


def test_a_severity_given_in_the_assessment_moves_the_chain_too(
    db, two_rules, outbox, clock, world, people
):
    iid = _minor(db, world, two_rules, outbox, clock)
    clock.advance(minutes=10)
    with db.session() as s:
        actions.assess(
            s,
            s.get(Incident, iid),
            config=two_rules,
            outbox=outbox,
            now=clock.now(),
            by="赵敏",
            severity="I",
        )
    # Told the office 10 minutes ago; the Ⅰ rule gives it 30: its deadline moves forward,
    # the leaders are told when it passes (the minute tick), not after 4 hours.
    chain = _chain(db, iid)
    assert [e.groups for e in chain] == [["office"]]
    assert chain[0].ack_due_at == chain[0].sent_at + timedelta(minutes=30)


def test_lowering_the_severity_leaves_the_chain_alone(db, config, outbox, clock, world, people):
    with db.session() as s:
        p, m = world.post(
            s,
            "https://bbs.example.com/t/7",
            "食堂毒死三人",
            "江西警察学院食堂毒死三人",
            severity="II",
        )
        iid = intake(s, p, m, config=config, outbox=outbox, now=clock.now())[0].id
    before = [(e.level, e.ack_due_at) for e in _chain(db, iid)]
    with db.session() as s:
        actions.set_severity(
            s, s.get(Incident, iid), "IV", config=config, outbox=outbox, now=clock.now(), by="赵敏"
        )
    assert [(e.level, e.ack_due_at) for e in _chain(db, iid)] == before
