"""The response plan, end to end: the demo scenario through the real pipeline (loopback
sites, real parsing, storage, matcher, incidents, outbox) with a controllable clock.

Checks the issue's list: the canteen story (the inquiry, then the hype wave with its
reposts on three sites) is one incident; category and severity are proposed; the inquiry's same-day deadline exists and
raises one overdue alert once the clock passes it; the rumour's evidence hashes equal
the SHA-256 of the stored snapshots and the evidence zip opens; the second wave reopens
the tracked incident with a secondary-crisis alert; the review report renders its chart.
"""

from __future__ import annotations

import hashlib
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from alerting.incidents import actions, evidence, review
from sentinel import config as config_mod
from sentinel.pipeline import Pipeline
from storage.db import Database
from storage.models import (
    ChecklistItem,
    EvidenceItem,
    Incident,
    IncidentPost,
    OutboxMessage,
    Post,
    Snapshot,
    User,
)
from storage.posts import snapshot_bytes

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clocks:
    """One hand moves both: the world's scenario seconds and the pipeline's wall clock."""

    def __init__(self, start: datetime):
        self.t = 0.0
        self.start = start
        self.extra = timedelta(0)

    def world(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t) + self.extra


def incident_of(s, post_url_part: str) -> Incident:
    post = s.scalars(select(Post).where(Post.url.contains(post_url_part))).one()
    ip = s.scalars(select(IncidentPost).where(IncidentPost.post_id == post.id)).one()
    return s.get(Incident, ip.incident_id)


def messages(s, incident_id: int, kind: str) -> list[OutboxMessage]:
    return list(
        s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.incident_id == incident_id,
                OutboxMessage.kind == kind,
                OutboxMessage.channel == "email",
            )
        )
    )


# A morning, the last minutes before midnight in Shanghai (the scenario crosses into the
# next day) and just after it ("the same day" is then nearly 24 hours): the plan holds
# at any hour.
@pytest.mark.parametrize("opening", ["10:00", "23:57", "00:01"])
def test_the_demo_scenario_follows_the_response_plan(tmp_path, opening):
    from demo.mailbox import Mailbox
    from demo.world import CampusWorld

    hour, minute = map(int, opening.split(":"))
    epoch = datetime(2026, 11, 23, hour, minute, tzinfo=SHANGHAI)
    clocks = Clocks(epoch.astimezone(UTC))
    with (
        Mailbox(tmp_path / "mail") as mailbox,
        CampusWorld(clock=clocks.world, epoch=epoch) as world,
    ):
        cfg_dict = world.sentinel_config(tmp_path / "var", mailbox.port, delay=0)
        cfg_dict["var_dir"] = str(tmp_path / "var")
        path = tmp_path / "sentinel.yaml"
        path.write_text(yaml.safe_dump(cfg_dict, allow_unicode=True), encoding="utf-8")
        cfg = config_mod.load(path)
        db = Database(cfg.database_url)
        pipeline = Pipeline(cfg, db, now=clocks.now)
        url = world.post_url
        sc = world.scenario

        # 1. The canteen inquiry appears: an incident of category 1 (询问质疑诉求).
        clocks.t = 10
        pipeline.poll()
        with db.session() as s:
            inquiry = incident_of(s, url("canteen-inquiry").split("//", 1)[1])
            assert inquiry.category == "inquiry" and inquiry.severity in ("IV", "III")  # proposed
            reply = s.scalars(
                select(ChecklistItem).where(
                    ChecklistItem.incident_id == inquiry.id, ChecklistItem.key == "reply_online"
                )
            ).one()
            due_local = reply.due_at.astimezone(SHANGHAI)
            opened_local = inquiry.opened_at.astimezone(SHANGHAI)
            # The same day at 23:59, and never less than an hour (incidents.min_deadline):
            # opened at 23:57, the reply is due at 00:57.
            same_day = opened_local.replace(hour=23, minute=59, second=0, microsecond=0)
            assert due_local == max(same_day, opened_local + timedelta(hours=1))
            if opened_local.hour < 22:
                assert (due_local.hour, due_local.minute) == (23, 59)
            inquiry_id = inquiry.id

        # 2. The hype wave with reposts on three sites: the same canteen story, so one
        #    incident, whose nature is raised to hype; the inquiry's reply still owed.
        clocks.t = 80
        pipeline.poll()
        with db.session() as s:
            story = [p.key for p in sc.posts if p.kind == "hype" and p.wave == 1] + [
                "canteen-inquiry"
            ]
            ids = {incident_of(s, url(k).split("//", 1)[1]).id for k in story}
            assert ids == {inquiry_id}, "the canteen story and its reposts must be one incident"
            canteen = s.get(Incident, inquiry_id)
            assert canteen.category == "hype" and canteen.severity in ("I", "II", "III")
            assert canteen.post_count >= len(story) and canteen.site_count >= 3
            keys = {
                c.key
                for c in s.scalars(
                    select(ChecklistItem).where(ChecklistItem.incident_id == inquiry_id)
                )
            }
            assert {"reply_online", "state_facts", "trace_and_deal"} <= keys
            hype_id = inquiry_id

        # 3. The fabricated rumour inciting a gathering: category 3, evidence preserved.
        clocks.t = 110
        pipeline.poll()
        with db.session() as s:
            rumour = incident_of(s, url("rumour-gathering").split("//", 1)[1])
            assert incident_of(s, url("rumour-gathering-tieba").split("//", 1)[1]).id == rumour.id
            assert rumour.category == "illegal" and rumour.id != hype_id
            items = s.scalars(
                select(EvidenceItem).where(EvidenceItem.incident_id == rumour.id)
            ).all()
            assert len(items) >= 2
            for item in items:
                snap = s.get(Snapshot, item.snapshot_id)
                assert (
                    item.sha256 == snap.sha256 == hashlib.sha256(snapshot_bytes(snap)).hexdigest()
                )
            pack = tmp_path / "evidence.zip"
            evidence.export(s, rumour, pack, now=clocks.now())
        with zipfile.ZipFile(pack) as z:
            assert z.testzip() is None and "SHA256SUMS" in z.namelist()

        # 4. The office works the hype incident to tracking (动态跟踪).
        with db.session() as s:
            s.add(User(name="赵敏", role="office", email="zhaomin@example.edu.cn"))
        with db.session() as s:
            inc = s.get(Incident, hype_id)
            now = clocks.now()
            actions.assess(
                s,
                inc,
                config=cfg,
                outbox=pipeline.outbox,
                now=now,
                by="赵敏",
                cause="食堂卫生问题被转发炒作",
            )
            actions.escalate(s, inc, config=cfg, outbox=pipeline.outbox, now=now, by="赵敏")
            actions.classify(s, inc, "hype", config=cfg, now=now, by="赵敏")
            for key in ("state_facts", "trace_and_deal"):  # the inquiry's reply stays open
                actions.check(s, inc, key, config=cfg, now=now, by="赵敏", note="已完成")
            actions.resolve(
                s,
                inc,
                config=cfg,
                now=now,
                by="赵敏",
                tracker="赵敏",
                force=True,
                note="已发布情况说明，转入动态跟踪",
            )
            assert inc.status == "tracking"

        # 5. The second wave: the tracked incident reopens with a secondary-crisis alert.
        clocks.t = 200
        pipeline.poll()
        with db.session() as s:
            inc = s.get(Incident, hype_id)
            assert inc.status == "reopened" and inc.reopened_count == 1
            alerts = messages(s, hype_id, "secondary_crisis")
            assert len(alerts) == 1 and "二次危机" in alerts[0].subject

            # 6. The review report renders with its chart of posts per hour.
            html = review.render(s, inc, cfg, clocks.now(), fmt="html")
            assert "<svg" in html and inc.title in html

        # 7. The inquiry's same-day deadline passes: one overdue alert, not one a minute.
        with db.session() as s:
            reply = s.scalars(
                select(ChecklistItem).where(
                    ChecklistItem.incident_id == inquiry_id, ChecklistItem.key == "reply_online"
                )
            ).one()
            due, reply_title = reply.due_at, reply.title
        clocks.extra = due - clocks.now() + timedelta(minutes=1)
        pipeline.tick()
        clocks.extra += timedelta(minutes=5)
        pipeline.tick()
        with db.session() as s:
            # Other items may fall due in the same minutes (opened just after midnight,
            # "the same day" is nearly 24 hours): the reply is alerted once, by itself.
            overdue = [m for m in messages(s, inquiry_id, "overdue") if reply_title in m.subject]
            assert len(overdue) == 1 and "逾期" in overdue[0].subject
        pipeline.drain()
        subjects = [str(m["Subject"]) for m in mailbox.messages()]
        assert any("二次危机" in x for x in subjects) and any("逾期" in x for x in subjects)
        db.dispose()
