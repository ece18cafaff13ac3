"""Storing posts the way the pipeline does (the real matcher decides each Match), for the
trend and early-warning tests."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from alerting.matcher import Matcher, load_matcher
from storage.models import Match, Post, Source

ROOT = Path(__file__).resolve().parents[2]


def matcher(tmp_path) -> Matcher:
    return load_matcher([ROOT / "watchlists" / "jxpc.yaml"], cache_dir=tmp_path / "cache")


class Store:
    def __init__(self, db, m: Matcher):
        self.db, self.m, self.n = db, m, 0

    def post(self, at: datetime, text: str, *, title: str = "", site: str = "forum", dup=None):
        """One post fetched at ``at`` from source ``site`` (its host is site.example.com)."""
        self.n += 1
        r = self.m.match(text, title=title)
        with self.db.session() as s:
            src = s.scalar(select(Source).where(Source.name == site))
            if src is None:
                src = Source(name=site, type="feed", state={})
                s.add(src)
                s.flush()
            p = Post(
                source_id=src.id,
                url=f"https://{site}.example.com/t/{self.n}",
                title=title,
                text=text,
                fetched_at=at,
                published_at=at,
                content_hash=hashlib.sha256(f"{self.n}{text}".encode()).hexdigest(),
                duplicate_of_id=dup,
            )
            s.add(p)
            s.flush()
            s.add(
                Match(
                    post_id=p.id,
                    mentioned=r.mentioned,
                    alert=r.alert,
                    score=r.score,
                    severity=r.severity,
                    category=r.category,
                    entities=list(r.entities),
                    hits=r.to_dict()["hits"],
                    reasons=list(r.reasons),
                    matched_at=at,
                    sentiment=r.sentiment.label if r.sentiment else None,
                    sentiment_score=r.sentiment.score if r.sentiment else None,
                )
            )
            return p.id
