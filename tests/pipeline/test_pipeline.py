"""The pipeline's promises, over real loopback servers: nothing collected is lost, a
crash between stages is picked up on the next run, bad sources stay contained."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner
from sqlalchemy import func, select, text

from sentinel import config as config_mod
from sentinel.cli import cli
from sentinel.pipeline import Pipeline
from storage.db import Database
from storage.models import Match, Post, Snapshot, Source
from storage.posts import snapshot_bytes
from tests.servers.http import LoopbackHTTPServer

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>校园</title>
<item><title>江西警察学院食堂饭菜吃出虫子，请学校给个说法</title><link>{base}/a/1</link>
<description>请问江西警察学院二食堂饭菜里吃出虫子的事情有人管吗？同学们都很担心食品安全。</description></item>
<item><title>今天天气很好</title><link>{base}/a/2</link><description>去公园散步，心情不错。</description></item>
</channel></rss>"""


def write_config(tmp_path, sources, db_url=None, **extra) -> str:
    cfg = {
        "database": db_url or f"sqlite:///{tmp_path / 'db.sqlite'}",
        "sources": sources,
        "var_dir": str(tmp_path / "var"),
        **extra,
    }
    p = tmp_path / "sentinel.yaml"
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return str(p)


def feed(name, url, **kw):
    return {
        "name": name,
        "type": "feed",
        "url": url,
        "interval": "5m",
        "delay": 0,
        "obey_robots": False,
        **kw,
    }


def test_an_undecodable_response_is_kept_as_evidence_and_reported(tmp_path, corpus):
    raw = (corpus / "chardet-zh-feeds" / "EUC-TW" / "_ude_euc-tw1.txt").read_bytes()
    with LoopbackHTTPServer() as srv:
        url = srv.add("/euc-tw.txt", raw, content_type="text/plain")
        path = write_config(tmp_path, [feed("odd", url)])
        r = CliRunner().invoke(cli, ["--config", path, "poll", "--json"])
        out = json.loads(r.output)
    assert out["sources"][0]["error_kind"] == "decode"
    db = Database(config_mod.load(path).database_url)
    with db.session() as s:
        [snap] = s.scalars(select(Snapshot)).all()
        assert snapshot_bytes(snap) == raw and snap.decode_error
    db.dispose()


def test_posts_stored_but_not_matched_before_a_crash_are_matched_on_the_next_run(tmp_path):
    with LoopbackHTTPServer() as srv:
        srv.add(
            "/rss.xml", RSS.format(base=srv.url("").rstrip("/")), content_type="application/rss+xml"
        )
        path = write_config(tmp_path, [feed("news", srv.url("/rss.xml"))])
        cfg = config_mod.load(path)
        db = Database(cfg.database_url)
        pipeline = Pipeline(cfg, db)
        # Collection ran and committed; the process "died" in matching (the database
        # refuses every match, as a killed process would leave none).
        with db.engine.begin() as c:
            c.execute(
                text(
                    "CREATE TRIGGER killed BEFORE INSERT ON matches "
                    "BEGIN SELECT RAISE(ABORT, 'process killed'); END"
                )
            )
        run = pipeline.collect(cfg.sources[0])
        assert run.new == 2
        with db.session() as s:
            assert s.scalar(select(func.count(Match.id))) == 0
        with db.engine.begin() as c:
            c.execute(text("DROP TRIGGER killed"))
        # A new process: the backlog is matched, the incident opened, nothing twice.
        again = Pipeline(cfg, db)
        runs, stats, _ = again.poll()
        assert (
            runs[0].new == 0
            and stats.matched == 2
            and stats.alerts == 1
            and stats.incidents_opened == 1
        )
        runs, stats, _ = again.poll()
        assert stats.matched == 0 and stats.incidents_opened == 0
        with db.session() as s:
            assert s.scalar(select(func.count(Post.id))) == 2
        db.dispose()


def test_a_broken_watchlist_keeps_the_last_good_one_and_says_so(tmp_path):
    good = (config_mod.BUILTIN_WATCHLISTS / "jxpc.yaml").read_text(encoding="utf-8")
    wl = tmp_path / "lists" / "college.yaml"
    wl.parent.mkdir()
    wl.write_text(good, encoding="utf-8")
    with LoopbackHTTPServer() as srv:
        srv.add(
            "/rss.xml", RSS.format(base=srv.url("").rstrip("/")), content_type="application/rss+xml"
        )
        p = tmp_path / "sentinel.yaml"
        p.write_text(
            yaml.safe_dump(
                {
                    "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
                    "watchlists": ["lists/*.yaml"],
                    "sources": [feed("news", srv.url("/rss.xml"))],
                    "var_dir": "var",
                },
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
        cfg = config_mod.load(p)
        db = Database(cfg.database_url)
        pipeline = Pipeline(cfg, db)
        version = pipeline.matchers.get().version
        wl.write_text(good.replace("topics:", "topics: [oops", 1), encoding="utf-8")  # a bad edit
        _runs, stats, _ = pipeline.poll()
        assert stats.alerts == 1  # still matching with the last good watchlist
        assert pipeline.matchers.get().version == version
        assert pipeline.matchers.error and "college.yaml" in pipeline.matchers.error
        r = CliRunner().invoke(cli, ["--config", str(p), "status", "--json"])
        assert "college.yaml" in json.loads(r.output)["watchlist_error"]
        db.dispose()


def test_a_watchlist_broken_from_the_start_does_not_count_against_the_sources(tmp_path):
    """Matching runs inside the collection loop; when it cannot run at all, the posts are
    stored and wait in the backlog, and the source's run is still a success."""
    good = (config_mod.BUILTIN_WATCHLISTS / "jxpc.yaml").read_text(encoding="utf-8")
    wl = tmp_path / "college.yaml"
    wl.write_text("topics: [oops", encoding="utf-8")
    with LoopbackHTTPServer() as srv:
        srv.add(
            "/rss.xml", RSS.format(base=srv.url("").rstrip("/")), content_type="application/rss+xml"
        )
        path = write_config(tmp_path, [feed("news", srv.url("/rss.xml"))], watchlists=[str(wl)])
        cfg = config_mod.load(path)
        db = Database(cfg.database_url)
        pipeline = Pipeline(cfg, db)
        run = pipeline.collect(cfg.sources[0])
        assert run.error is None and run.new == 2 and run.processed.errors
        with db.session() as s:
            assert s.scalar(select(func.count(Match.id))) == 0
            assert s.scalar(select(Source.consecutive_failures)) == 0
        wl.write_text(good, encoding="utf-8")
        stats = pipeline.process_pending()
        assert stats.matched == 2 and stats.alerts == 1
        db.dispose()


def test_a_source_that_stays_down_is_reported_once_and_its_recovery_too(tmp_path):
    from demo.mailbox import Mailbox

    with Mailbox(tmp_path / "mail") as mailbox, LoopbackHTTPServer() as srv:
        base = srv.url("").rstrip("/")
        srv.add("/rss.xml", RSS.format(base=base), content_type="application/rss+xml")
        p = tmp_path / "sentinel.yaml"
        dead = feed("flaky", "http://127.0.0.1:9/rss.xml", timeout=2)
        cfg = {
            "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "var_dir": str(tmp_path / "var"),
            "sources": [dead],
            "smtp": {
                "host": "127.0.0.1",
                "port": mailbox.port,
                "from": "舆情监测 <yq@example.edu.cn>",
            },
            "recipients": {"office": ["office@example.edu.cn"]},
        }
        p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        for _ in range(5):
            CliRunner().invoke(cli, ["--config", str(p), "poll"])
        subjects = [str(m["Subject"]) for m in mailbox.messages()]
        # Never succeeded: reported once after the third failure, not five times.
        assert len(subjects) == 1 and "采集异常" in subjects[0] and "flaky" in subjects[0]
        cfg["sources"] = [feed("flaky", srv.url("/rss.xml"))]  # the site is back
        p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        CliRunner().invoke(cli, ["--config", str(p), "poll"])
        CliRunner().invoke(cli, ["--config", str(p), "poll"])
        subjects = [str(m["Subject"]) for m in mailbox.messages()]
        assert (
            sum("采集恢复" in x for x in subjects) == 0
        )  # it never worked before: nothing "recovered"
        # Now it goes down after having worked, and comes back.
        cfg["sources"] = [dead]
        p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        for _ in range(4):
            CliRunner().invoke(cli, ["--config", str(p), "poll"])
        cfg["sources"] = [feed("flaky", srv.url("/rss.xml"))]
        p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        CliRunner().invoke(cli, ["--config", str(p), "poll"])
        CliRunner().invoke(cli, ["--config", str(p), "poll"])
        subjects = [str(m["Subject"]) for m in mailbox.messages()]
        assert sum("采集异常" in x for x in subjects) == 2
        assert sum("采集恢复" in x for x in subjects) == 1


def test_the_office_is_told_a_source_is_down_after_health_down_after_failures(tmp_path):
    from storage.models import OutboxMessage

    dead = feed("flaky", "http://127.0.0.1:9/rss.xml", timeout=2)
    path = write_config(tmp_path, [dead], health={"down_after": 2})
    cfg = config_mod.load(path)
    db = Database(cfg.database_url)
    pipeline = Pipeline(cfg, db)

    def told() -> int:
        with db.session() as s:
            return s.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "source_down")
            )

    pipeline.collect(cfg.sources[0])
    assert told() == 0
    pipeline.collect(cfg.sources[0])
    assert told() > 0
    r = CliRunner().invoke(cli, ["--config", path, "status", "--json"])
    [row] = json.loads(r.output)["sources"]
    assert row["health"] == "down" and row["consecutive_failures"] == 2
    db.dispose()


def test_two_processes_matching_the_same_backlog_open_one_incident_and_one_mail(tmp_path):
    """`sentinel poll` run by hand while the daemon works: the same stored posts are
    processed twice at once; one incident and one alert come out, not two."""
    import threading

    from storage.models import Incident, OutboxMessage

    with LoopbackHTTPServer() as srv:
        srv.add(
            "/rss.xml", RSS.format(base=srv.url("").rstrip("/")), content_type="application/rss+xml"
        )
        path = write_config(tmp_path, [feed("news", srv.url("/rss.xml"))])
        cfg = config_mod.load(path)
        db = Database(cfg.database_url)
        with db.engine.begin() as c:  # a backlog: stored, not yet matched
            c.execute(
                text(
                    "CREATE TRIGGER later BEFORE INSERT ON matches BEGIN SELECT RAISE(ABORT, 'later'); END"
                )
            )
        Pipeline(cfg, db).collect(cfg.sources[0])
        with db.engine.begin() as c:
            c.execute(text("DROP TRIGGER later"))
        a, b = Pipeline(cfg, Database(cfg.database_url)), Pipeline(cfg, Database(cfg.database_url))
        a.matchers.get(), b.matchers.get()
        barrier = threading.Barrier(2)

        def run(p):
            barrier.wait()
            p.process_pending()

        threads = [threading.Thread(target=run, args=(p,)) for p in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        a.process_pending()  # whatever lost the race is picked up, once
        with db.session() as s:
            assert s.scalar(select(func.count(Match.id))) == 2
            assert s.scalar(select(func.count(Incident.id))) == 1
            assert (
                s.scalar(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.kind == "new_incident", OutboxMessage.channel == "email"
                    )
                )
                == 1
            )
        db.dispose()


def test_workers_collecting_and_matching_the_same_feed_at_once_open_one_incident_and_one_mail(
    tmp_path, db_url
):
    """No lock serialises the scheduler's workers: three threads of one pipeline (the
    daemon's workers) and a second pipeline (`sentinel poll` by hand) collect the same
    feed and match what they stored, all at once. The keyed writes decide: each post is
    stored once, matched once, one incident is opened and one alert mail queued — and
    no run is reported as failed for having lost a race."""
    import threading

    from storage.models import Incident, OutboxMessage

    with LoopbackHTTPServer() as srv:
        srv.add(
            "/rss.xml", RSS.format(base=srv.url("").rstrip("/")), content_type="application/rss+xml"
        )
        cfg = config_mod.load(
            write_config(tmp_path, [feed("news", srv.url("/rss.xml"))], db_url=db_url)
        )
        daemon_db, hand_db = Database(cfg.database_url), Database(cfg.database_url)
        daemon, by_hand = Pipeline(cfg, daemon_db), Pipeline(cfg, hand_db)
        daemon.matchers.get(), by_hand.matchers.get()  # jieba's start-up is not the race
        workers = [daemon, daemon, daemon, by_hand]
        barrier = threading.Barrier(len(workers))
        runs = []

        def work(p):
            barrier.wait()
            runs.append(p.collect(cfg.sources[0]))
            p.process_pending()

        threads = [threading.Thread(target=work, args=(p,)) for p in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        daemon.process_pending()  # whatever lost a race is picked up, once
        assert len(runs) == 4 and all(r.error is None for r in runs), [r.to_dict() for r in runs]
        assert sum(r.new for r in runs) == 2  # each post stored by exactly one worker
        with daemon_db.session() as s:
            assert s.scalar(select(func.count(Post.id))) == 2
            assert s.scalar(select(func.count(Match.id))) == 2
            assert s.scalar(select(func.count(Incident.id))) == 1
            assert (
                s.scalar(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.kind == "new_incident", OutboxMessage.channel == "email"
                    )
                )
                == 1
            )
        daemon_db.dispose()
        hand_db.dispose()


def test_posts_that_could_not_be_stored_are_fetched_again_next_time(tmp_path):
    """A write that fails (the database refuses the insert) must not advance the feed's
    ETag: the next run fetches the same posts in full and stores them."""
    with LoopbackHTTPServer() as srv:
        srv.add(
            "/rss.xml",
            RSS.format(base=srv.url("").rstrip("/")),
            content_type="application/rss+xml",
            etag='"v1"',
        )
        path = write_config(tmp_path, [feed("news", srv.url("/rss.xml"))])
        cfg = config_mod.load(path)
        db = Database(cfg.database_url)
        pipeline = Pipeline(cfg, db)
        with db.engine.begin() as c:
            c.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON posts "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
        run = pipeline.collect(cfg.sources[0])
        assert run.error_kind == "storage" and "disk full" in run.error and run.new == 0
        with db.engine.begin() as c:
            c.execute(text("DROP TRIGGER refuse"))
        run = pipeline.collect(cfg.sources[0])  # a full fetch again, not a 304
        assert run.error is None and run.new == 2 and not run.not_modified
        db.dispose()


def test_poll_works_through_its_whole_backlog_not_just_the_first_5000(tmp_path):
    from datetime import UTC, datetime

    from crawler.base import RawPost
    from storage.posts import ensure_source, store_posts

    with LoopbackHTTPServer() as srv:
        empty = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
        srv.add("/rss.xml", empty, content_type="application/rss+xml")
        path = write_config(tmp_path, [feed("news", srv.url("/rss.xml"))])
        cfg = config_mod.load(path)
        db = Database(cfg.database_url)
        with db.session() as s:  # stored by an earlier run that crashed before matching
            src = ensure_source(s, cfg.sources[0])
            store_posts(
                s,
                src,
                [
                    RawPost(
                        url=f"http://old.example.edu.cn/{i}",
                        title=f"旧帖 {i}",
                        text=f"第{i}条，今日天气晴。",
                    )
                    for i in range(5300)
                ],
                now=datetime.now(UTC),
            )
        seen = []
        _runs, stats, _ = Pipeline(cfg, db).poll(
            on_backlog=lambda done, total: seen.append((done, total))
        )
        with db.session() as s:
            unmatched = s.scalar(
                select(func.count(Post.id))
                .outerjoin(Match, Match.post_id == Post.id)
                .where(Match.id.is_(None))
            )
        db.dispose()
    assert unmatched == 0 and stats.matched == 5300
    assert seen == [(5000, 5300), (5300, 5300)]
