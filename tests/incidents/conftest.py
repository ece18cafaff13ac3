"""Builders for incident tests: sources, posts with real snapshots, matches, a config,
and the real notification outbox."""

from __future__ import annotations

import hashlib
import zlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from sentinel.config import Config
from storage.models import Match, Post, Snapshot, Source


@pytest.fixture
def config(tmp_path):
    return Config(
        base_dir=tmp_path,
        timezone="Asia/Shanghai",
        recipients={
            "office": ["yuqing@example.edu.cn"],
            "leaders": ["leader@example.edu.cn"],
            "superior": ["duty@superior.example.gov.cn"],
        },
        escalation=[
            {
                "severity": ["I", "II"],
                "levels": [
                    {"notify": ["office"], "ack_within": "30m"},
                    {"notify": ["leaders", "superior"], "ack_within": "1h"},
                ],
            },
        ],
    )


@pytest.fixture
def outbox(db, config, clock):
    from alerting.notify.outbox import Outbox

    return Outbox(db, config, now=clock.now)


class World:
    """Posts, snapshots and matches written straight into the database."""

    def __init__(self, db, clock):
        self.db, self.clock = db, clock

    def source(self, s, name: str) -> Source:
        src = s.scalar(select(Source).where(Source.name == name))
        if src is None:
            src = Source(name=name, type="site", state={})
            s.add(src)
            s.flush()
        return src

    def post(
        self,
        s,
        url: str,
        title: str,
        text: str,
        *,
        site: str = "forum",
        category="inquiry",
        severity="III",
        score=60,
        terms=("食堂",),
        topic="canteen",
        entities=("江西警察学院",),
        duplicate_of: Post | None = None,
        at: datetime | None = None,
        views=None,
        replies=None,
        likes=None,
    ) -> tuple[Post, Match]:
        at = at or self.clock.now()
        src = self.source(s, site)
        raw = f"<html><head><meta charset=gbk></head><body><h1>{title}</h1><p>{text}</p></body></html>".encode(
            "gbk"
        )
        snap = Snapshot(
            source_id=src.id,
            url=url,
            final_url=url,
            status=200,
            headers={"content-type": "text/html"},
            fetched_at=at,
            sha256=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
            compression="zlib",
            body=zlib.compress(raw),
        )
        s.add(snap)
        s.flush()
        post = Post(
            source_id=src.id,
            url=url,
            title=title,
            text=text,
            author="网友",
            published_at=at - timedelta(minutes=1),
            fetched_at=at,
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
            snapshot_id=snap.id,
            duplicate_of_id=duplicate_of.id if duplicate_of else None,
            views=views,
            replies=replies,
            likes=likes,
        )
        s.add(post)
        s.flush()
        hits = [
            {
                "term": e,
                "kind": "exact",
                "start": 0,
                "end": len(e),
                "topic": None,
                "weight": 0,
                "field": "text",
            }
            for e in entities
        ]
        hits += [
            {
                "term": t,
                "kind": "exact",
                "start": 0,
                "end": len(t),
                "topic": topic,
                "weight": 10,
                "field": "text",
            }
            for t in terms
        ]
        m = Match(
            post_id=post.id,
            mentioned=True,
            alert=True,
            score=score,
            severity=severity,
            category=category,
            entities=list(entities),
            hits=hits,
            reasons=[],
            matched_at=at,
        )
        s.add(m)
        s.flush()
        return post, m


@pytest.fixture
def world(db, clock):
    return World(db, clock)


# The people of the tests: office staff, a leader on the leaders' list (leader@ in the
# config above) and a unit's information manager. Acting as anyone else is refused.
PEOPLE = [
    ("赵敏", "office", "zhaomin@example.edu.cn", None),
    ("张老师", "office", "zhang@example.edu.cn", None),
    ("王主任", "office", "wang.zr@example.edu.cn", None),
    ("李书记", "leader", "leader@example.edu.cn", None),
    ("陈副院长", "leader", "vice@example.edu.cn", None),
    ("保卫处刘老师", "unit", "liu@example.edu.cn", "保卫处"),
]


def add_people(db) -> None:
    from alerting.incidents import users

    with db.session() as s:
        for name, role, email, unit in PEOPLE:
            users.add(s, name, role=role, email=email, unit=unit)


@pytest.fixture
def people(db):
    add_people(db)
    return {p[0]: p for p in PEOPLE}
