"""Web console benchmark: ``.venv/bin/python -m bench web``.

The queue page (the office's first page: overdue first, counts, 50 tickets) and one
incident's page (its ~100 posts with their matched terms, checklist, log), server time
(the ``Server-Timing`` the app reports) at p50 and p95 over 40 requests each, on a
database of 100,000 posts and 1,000 incidents, beside the same pages on 1,000 posts and
10 incidents (the baseline, same run). Goal: p95 ≤ 200 ms with 100,000 posts. SQLite,
and PostgreSQL when ``SENTINEL_TEST_PG`` (or the default local server) answers.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

PASSWORD = "bench-password-1"
TEXT = (
    "江西警察学院第二食堂的饭菜是不是变质了？昨天中午吃完好几个同学拉肚子，学校能不能给个说法。"
    "有同学说后勤处已经去查了，但是到现在也没有公告。"
)
REQUESTS = 40


def build(db, posts: int, incidents: int) -> None:
    """Posts (a tenth of them matched, spread over 30 days), incidents of equal size with
    their posts, a checklist of four items and a short log each, and one office user."""
    from sqlalchemy import insert

    from alerting.incidents import users
    from storage.models import (
        ChecklistItem,
        Incident,
        IncidentEvent,
        IncidentPost,
        Match,
        Post,
        Source,
    )

    rnd = random.Random(7)
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with db.session() as s:
        users.add(s, "赵敏", role="office", email="zhaomin@example.edu.cn")
        users.set_password(s, "赵敏", PASSWORD)
        s.execute(
            insert(Source), [{"name": f"site-{i}", "type": "feed", "state": {}} for i in range(10)]
        )
    per = max(1, posts // 10 // max(1, incidents))  # matched posts per incident
    batch = 5000
    with db.session() as s:
        for start in range(0, posts, batch):
            rows = []
            for i in range(start, min(posts, start + batch)):
                at = now - timedelta(minutes=rnd.randrange(30 * 24 * 60))
                rows.append(
                    {
                        "id": i + 1,
                        "source_id": 1 + i % 10,
                        "url": f"https://site{i % 10}.example.com/t/{i}",
                        "title": f"帖子 {i}",
                        "text": TEXT,
                        "author": "网友",
                        "published_at": at,
                        "fetched_at": at,
                        "content_hash": f"{i:064x}",
                    }
                )
            s.execute(insert(Post), rows)
        matched = list(range(1, posts + 1, 10))
        s.execute(
            insert(Match),
            [
                {
                    "post_id": pid,
                    "mentioned": True,
                    "alert": pid % 20 == 1,
                    "score": 60,
                    "severity": "III",
                    "category": "inquiry",
                    "entities": ["江西警察学院"],
                    "hits": [
                        {
                            "term": "江西警察学院",
                            "kind": "exact",
                            "start": 0,
                            "end": 6,
                            "topic": None,
                            "weight": 0,
                            "field": "text",
                        },
                        {
                            "term": "食堂",
                            "kind": "exact",
                            "start": 8,
                            "end": 10,
                            "topic": "canteen",
                            "weight": 10,
                            "field": "text",
                        },
                    ],
                    "reasons": [],
                    "matched_at": now,
                }
                for pid in matched
            ],
        )
        statuses = ["reported", "assessing", "escalated", "handling", "tracking", "closed"]
        s.execute(
            insert(Incident),
            [
                {
                    "id": k + 1,
                    "title": f"事件 {k + 1}：二食堂饭菜变质？",
                    "status": statuses[k % len(statuses)],
                    "category": "inquiry",
                    "severity": ["IV", "III", "II", "I"][k % 4],
                    "score": 60,
                    "opened_at": now - timedelta(hours=k),
                    "updated_at": now,
                    "terms": ["食堂"],
                    "post_count": per,
                    "site_count": 10,
                }
                for k in range(incidents)
            ],
        )
        s.execute(
            insert(IncidentPost),
            [
                {"incident_id": 1 + (n // per) % incidents, "post_id": pid, "added_at": now}
                for n, pid in enumerate(matched[: per * incidents])
            ],
        )
        s.execute(
            insert(ChecklistItem),
            [
                {
                    "incident_id": k + 1,
                    "key": f"item{j}",
                    "title": f"处置事项 {j}",
                    "due_at": now + timedelta(hours=(j - 2) * 5 - k % 3),
                }
                for k in range(incidents)
                for j in range(4)
            ],
        )
        s.execute(
            insert(IncidentEvent),
            [
                {
                    "incident_id": k + 1,
                    "at": now,
                    "actor": "system",
                    "kind": "opened",
                    "note": "立案",
                }
                for k in range(incidents)
                for _ in range(5)
            ],
        )


def measure(url: str, var: Path, posts: int, incidents: int) -> dict[str, tuple[float, float]]:
    from fastapi.testclient import TestClient

    from sentinel.config import Config
    from sentinel.web import create_app
    from storage.db import Database

    config = Config(base_dir=var, database=url)
    db = Database(url)
    try:
        build(db, posts, incidents)
        app = create_app(config, db, now=lambda: datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
        out = {}
        with TestClient(app, base_url="http://127.0.0.1") as c:
            page = c.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            r = c.post("/login", data={"username": "赵敏", "password": PASSWORD, "csrf": token},
                       follow_redirects=False)  # fmt: skip
            assert r.status_code == 303, r.text
            middle = max(1, incidents // 2)
            for name, path in (("queue", "/"), ("incident", f"/incidents/{middle}")):
                times = []
                for _ in range(REQUESTS + 3):
                    resp = c.get(path)
                    assert resp.status_code == 200, (path, resp.status_code)
                    times.append(float(resp.headers["server-timing"].split("dur=")[1]))
                times = sorted(times[3:])  # the first requests warm the caches
                out[name] = (statistics.median(times), times[int(len(times) * 0.95) - 1])
        return out
    finally:
        db.dispose()


def _pg_url() -> str | None:
    admin = os.environ.get("SENTINEL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(admin.replace("+psycopg", ""), connect_timeout=3):
            return admin
    except Exception:
        return None


def main() -> None:
    backends = [("SQLite", None)]
    pg = _pg_url()
    if pg:
        backends.append(("PostgreSQL", pg))
    print(f"server time over {REQUESTS} requests each (ms, p50 / p95); goal p95 ≤ 200 ms")
    for label, admin in backends:
        for posts, incidents in ((1_000, 10), (100_000, 1_000)):
            with tempfile.TemporaryDirectory() as tmp:
                name = None
                if admin is None:
                    url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                else:
                    import psycopg

                    name = f"sentinel_bench_{uuid.uuid4().hex[:10]}"
                    with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as c:
                        c.execute(f'CREATE DATABASE "{name}"')
                    url = admin.rsplit("/", 1)[0] + "/" + name
                try:
                    r = measure(url, Path(tmp), posts, incidents)
                finally:
                    if name:
                        with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as c:
                            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            q, i = r["queue"], r["incident"]
            print(
                f"{label:10} {posts:>7,} posts / {incidents:>5,} incidents: "
                f"queue {q[0]:6.1f} / {q[1]:6.1f}   incident {i[0]:6.1f} / {i[1]:6.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
