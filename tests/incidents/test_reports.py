"""Manual reports (报案) with files or a page, and the take-down re-check (删帖复查),
against a real loopback HTTP server. Both databases."""

from __future__ import annotations

import hashlib
import json
import struct
import zipfile
import zlib

import pytest
from sqlalchemy import func, select

from alerting.incidents import actions, evidence, intake, review, takedown, views
from alerting.incidents.files import FileRefused, Upload
from alerting.incidents.manual import report
from alerting.incidents.settings import IncidentSettings
from storage.models import (
    EvidenceFile,
    EvidenceItem,
    Incident,
    IncidentEvent,
    Post,
    Snapshot,
    TakedownCheck,
)
from tests.servers.http import LoopbackHTTPServer


def png(width: int = 2, height: int = 1) -> bytes:
    """A real, tiny PNG (what a phone's screenshot is, only smaller)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _with(config, **incidents):
    cfg = config.model_copy()
    object.__setattr__(cfg, "incidents", IncidentSettings.model_validate(incidents))
    return cfg


def test_a_unit_report_without_url_keeps_the_screenshots_sha256_in_the_evidence_pack(
    db, config, outbox, clock, people, tmp_path
):
    shot = png()
    with db.session() as s:
        r = report(
            s,
            title="微信群传二食堂饭菜变质",
            note="学生微信群截图：江西警察学院二食堂饭菜变质，多人拉肚子",
            by="保卫处刘老师",
            config=config,
            outbox=outbox,
            now=clock.now(),
            category="inquiry",
            uploads=[Upload(name="微信群截图.png", data=shot)],
        )
        iid = r.incident.id
        assert r.opened and r.page is None and len(r.files) == 1
        assert r.post.url.startswith("report:") and r.post.original_url is None
        d = views.detail(s, s.get(Incident, iid), clock.now(), config=config)
        result = evidence.export(s, s.get(Incident, iid), tmp_path / "pack.zip", now=clock.now())
    digest = hashlib.sha256(shot).hexdigest()
    [item] = d["evidence"]
    assert (
        item["sha256"],
        item["media_type"],
        item["size"],
        item["added_by"],
        item["filename"],
    ) == (digest, "image/png", len(shot), "保卫处刘老师", "微信群截图.png")
    assert d["reports"][0]["category"] == "inquiry" and d["reports"][0]["unit"] == "保卫处"
    assert d["posts"][0]["url"] == "" and d["units"] == ["保卫处"]
    assert result["verified"] and result["items"] == 1
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:
        sums = dict(
            reversed(line.split("  ", 1)) for line in z.read("SHA256SUMS").decode().splitlines()
        )
        [name] = [n for n in z.namelist() if n.startswith("files/")]
        assert name.endswith("微信群截图.png") and z.read(name) == shot and sums[name] == digest
        [entry] = json.loads(z.read("manifest.json"))["items"]
        assert (
            entry["sha256"] == digest
            and entry["media_type"] == "image/png"
            and entry["hash_verified"]
        )
        assert any(
            e["kind"] == "file_added" and digest in e["data"]["sha256"]
            for e in json.loads(z.read("events.json"))
        )


def test_the_reporters_category_is_kept_beside_the_matchers(db, config, outbox, clock, people):
    with db.session() as s:
        r = report(
            s,
            title="食堂饭菜变质？",
            note="请问江西警察学院第二食堂的饭菜是不是变质了？昨天中午吃完好几个同学拉肚子，"
            "学校能不能给个说法。",
            by="保卫处刘老师",
            config=config,
            outbox=outbox,
            now=clock.now(),
            category="constructive",
        )
        assert r.post.match.category == "inquiry"  # the matcher's proposal stands
        assert r.incident.category == "inquiry"
        assert views.reports(s, r.incident)[0]["category"] == "constructive"


@pytest.mark.parametrize(
    "name,data,why",
    [
        ("截图.png", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4, "不是可接受的类型"),
        ("空.png", b"", "空文件"),
        ("大图.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 3000, "超过大小上限 2 KB"),
    ],
)
def test_a_file_of_the_wrong_size_or_type_is_refused_before_anything_is_written(
    db, config, outbox, clock, people, name, data, why
):
    cfg = _with(config, reports={"max_file_size": 2048})
    with pytest.raises(FileRefused, match=why), db.session() as s:
        report(
            s,
            title="群聊截图",
            note="有人在群里转发",
            by="保卫处刘老师",
            config=cfg,
            outbox=outbox,
            now=clock.now(),
            uploads=[Upload(name="好的.pdf", data=b"%PDF-1.4 ok"), Upload(name=name, data=data)],
        )
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 0
        assert s.scalar(select(func.count()).select_from(EvidenceFile)) == 0


def test_files_are_typed_by_their_bytes_not_their_names():
    from alerting.incidents.files import sniff

    assert sniff(png()) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniff(b"%PDF-1.7\n") == "application/pdf"
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00") == "image/heic"
    assert sniff("群聊记录：明天九点行政楼门口见".encode("gbk")) == "text/plain"
    assert sniff(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64) is None


PAGE = """<html><head><meta charset="utf-8"><title>江西警察学院二食堂饭菜变质？</title></head><body>
<h1>江西警察学院二食堂饭菜变质？</h1><div class="post"><p>请问江西警察学院第二食堂的饭菜是不是变质了？
昨天中午吃完好几个同学拉肚子，学校能不能给个说法。大家都很担心食品安全，希望学校尽快调查。</p></div></body></html>"""


def test_a_report_with_a_url_fetches_the_page_and_keeps_its_snapshot(
    db, config, outbox, clock, people
):
    with LoopbackHTTPServer() as srv:
        url = srv.add("/thread-1.html", PAGE)
        with db.session() as s:  # a loopback address is refused unless the office allows it
            r = report(
                s,
                url=url,
                title=None,
                note="贴吧有人发帖",
                by="保卫处刘老师",
                config=config,
                outbox=outbox,
                now=clock.now(),
            )
            assert "内网地址" in r.page["error"] and r.post.snapshot_id is None
        assert srv.requests_to("/thread-1.html") == 0
        cfg = _with(config, reports={"allow_private": True})
        url2 = srv.add("/thread-2.html", PAGE.replace("变质？", "变质？！"))
        with db.session() as s:
            r = report(
                s,
                url=url2,
                title=None,
                note="贴吧有人发帖",
                by="保卫处刘老师",
                config=cfg,
                outbox=outbox,
                now=clock.now(),
            )
            iid, snap_id = r.incident.id, r.post.snapshot_id
            assert r.page["sha256"] and r.page["status"] == 200
            assert r.post.title.startswith("江西警察学院二食堂饭菜变质") and "拉肚子" in r.post.text
        assert srv.requests_to("/thread-2.html") == 1
    served = PAGE.replace("变质？", "变质？！").encode()
    with db.session() as s:
        snap = s.get(Snapshot, snap_id)
        assert (
            zlib.decompress(snap.body) == served
            and snap.sha256 == hashlib.sha256(served).hexdigest()
        )
        item = s.scalar(
            select(EvidenceItem).where(
                EvidenceItem.incident_id == iid, EvidenceItem.snapshot_id == snap_id
            )
        )
        assert item is not None and item.sha256 == snap.sha256 and item.added_by == "保卫处刘老师"


CRAWLED = "<html><head><meta charset=utf-8></head><body><h1>食堂饭菜变质？</h1><p>江西警察学院二食堂饭菜变质</p></body></html>"


def test_the_take_down_recheck_records_deleted_once_the_site_answers_410(
    db, config, outbox, clock, world, people
):
    with LoopbackHTTPServer() as srv:
        url = srv.add("/t/1", CRAWLED)
        gone_by_words = srv.add("/t/2", CRAWLED)
        with db.session() as s:
            p, m = world.post(
                s, url, "食堂饭菜变质？", "江西警察学院二食堂饭菜变质", terms=("食堂", "变质")
            )
            inc, _ = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
            q, m2 = world.post(
                s,
                gone_by_words,
                "食堂饭菜变质？",
                "江西警察学院二食堂饭菜变质",
                terms=("食堂", "变质"),
                duplicate_of=p,
            )
            intake(s, q, m2, config=config, outbox=outbox, now=clock.now())
            iid = inc.id
        assert (
            takedown.recheck(db, config=config, now=clock.now())["checked"] == 0
        )  # the source is not dealt with yet
        with db.session() as s:
            actions.check(
                s,
                s.get(Incident, iid),
                "trace_source",
                config=config,
                now=clock.now(),
                by="赵敏",
                note="已联系论坛管理员删帖",
            )
        first = takedown.recheck(db, config=config, now=clock.now())
        assert first["checked"] == 2 and first["still_online"] == 2
        clock.advance(hours=1)
        assert (
            takedown.recheck(db, config=config, now=clock.now())["checked"] == 0
        )  # not yet due again
        srv.add("/t/1", "gone", status=410)
        srv.add("/t/2", "<html><body>抱歉，指定的主题不存在或已被删除或正在被审核</body></html>")
        clock.advance(hours=6)
        second = takedown.recheck(db, config=config, now=clock.now())
        assert second["checked"] == 2 and second["deleted"] == 2
        clock.advance(hours=7)
        assert (
            takedown.recheck(db, config=config, now=clock.now())["checked"] == 0
        )  # deleted stays deleted
        assert srv.requests_to("/t/1") == 2
    with db.session() as s:
        inc = s.get(Incident, iid)
        d = views.detail(s, inc, clock.now())
        html = review.render(s, inc, config, clock.now(), "html")
        logged = s.scalars(
            select(IncidentEvent.note).where(
                IncidentEvent.incident_id == iid, IncidentEvent.kind == "takedown"
            )
        ).all()
        assert s.scalar(select(func.count()).select_from(TakedownCheck)) == 4
    by_url = {t["url"]: t for t in d["takedown"]}
    assert (
        by_url[url]["state"] == "deleted"
        and by_url[url]["status"] == 410
        and by_url[url]["checks"] == 2
    )
    assert (
        by_url[gone_by_words]["state"] == "deleted"
        and "不存在或已被删除" in by_url[gone_by_words]["detail"]
    )
    assert "删帖复查" in html and "已删除" in html
    assert len(logged) == 4  # online, then deleted, for each post: changes only


def test_takedown_checks_are_append_only(db, config, outbox, clock, world):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    with db.session() as s:
        p, m = world.post(s, "https://bbs.example.com/t/1", "t", "江西警察学院")
        inc, _ = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
        s.add(TakedownCheck(incident_id=inc.id, post_id=p.id, url=p.url, state="still_online"))
        s.add(EvidenceFile(sha256="0" * 64, size=1, media_type="text/plain", body=b"x"))
    for stmt in ("UPDATE takedown_checks SET state = 'deleted'", "DELETE FROM evidence_files"):
        with pytest.raises(DatabaseError, match="append-only"), db.session() as s:
            s.execute(text(stmt))
    with db.session() as s:
        assert s.scalar(select(Post.id)) == p.id


def test_reports_by_hand_share_one_matcher_and_see_an_edited_watchlist(
    db, config, outbox, clock, people, tmp_path
):
    """The console reports one page after another in one process: the second report must
    not load jieba and the watchlists again (seconds each), and a watchlist the office
    edits in between must still count for the next report."""
    from alerting.matcher import shared_holder
    from sentinel.config import BUILTIN_WATCHLISTS

    wl = tmp_path / "watchlist.yaml"
    wl.write_text((BUILTIN_WATCHLISTS / "jxpc.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    cfg = config.model_copy(update={"watchlists": [str(wl)]})

    def terms(title: str) -> set[str]:
        with db.session() as s:
            r = report(
                s,
                title=title,
                note="江西警察学院东门外的紫藤长廊昨晚被人砸坏了，请学校看一看。",
                by="保卫处刘老师",
                config=cfg,
                outbox=outbox,
                now=clock.now(),
            )
            return {h["term"] for h in r.post.match.hits}

    assert "紫藤长廊" not in terms("紫藤长廊一")
    holder = shared_holder(cfg.watchlist_files, cfg.cache_dir)
    loaded = holder.current
    assert loaded is not None  # the report loaded the process's matcher for these files
    assert "紫藤长廊" not in terms("紫藤长廊二")
    assert holder.current is loaded  # and the second report reused it

    text = wl.read_text(encoding="utf-8").replace(
        "topics:\n",
        "topics:\n  - id: wisteria\n    name: 紫藤长廊\n    category: inquiry\n"
        "    weight: 40\n    terms: [紫藤长廊]\n",
        1,
    )
    wl.write_text(text, encoding="utf-8")
    assert "紫藤长廊" in terms("紫藤长廊三")  # the edit counts at once
    assert holder.current is not loaded
