"""Daemon benchmarks (``python -m bench daemon``; ``python -m bench.bench_daemon --full``
for the RSS run's whole ten minutes). Each figure comes with a baseline measured in the
same run, so a busy machine shows in both.

1. One pass over 10,000 feeds, 1 % changed (``sentinel poll``'s path: fetch, store,
   match, record): wall time of a running daemon's pass (the Pipeline's second; the
   first, on a fresh Pipeline, printed beside it), each against the bare fetch of the
   same feeds by our HTTP layer with no database, measured just before it. Goal ≤ 10 s.
   Also the near-duplicate check's cost per batch of new posts.
2. Alert latency at a 10 s interval over 20 items published at random moments: from
   publication to the alert being decided (the post's Match) and to the mail in the
   mailbox; against the pure wait for the next poll. Goals p50 ≤ interval/2 + 1 s,
   p95 ≤ interval + 1 s.
3. The daemon's RSS with 1,000 sources (interval 30 s) after 90 s (``--full``: 10 min),
   against the same daemon with no source; polls per source (none starving). Goal
   ≤ 300 MB.

Two crawl workers against one: bench/bench_workers.py.

The feed server runs in a process of its own (bench/feedserver.py), so it does not take
the measured process's interpreter lock.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def feed_server(n: int, hosts: int = 1):
    """The feed server's base URL; with ``hosts`` > 1, a list of one base per host."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.feedserver", str(n), str(hosts)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        bases = [f"http://{a}" for a in proc.stdout.readline().decode().split()]
        yield bases[0] if hosts == 1 else bases
    finally:
        proc.kill()
        proc.wait()


def _server_cpu(base: str) -> float:
    return float(httpx.get(base + "/_cpu").text)


def _feeds(base: str | list[str], n: int) -> list[dict]:
    bases = [base] if isinstance(base, str) else base
    return [
        {
            "name": f"f{i}",
            "type": "feed",
            "url": f"{bases[i % len(bases)]}/feed/{i}.xml",
            "delay": 0,
            "obey_robots": False,
            "interval": "30s",
        }
        for i in range(n)
    ]


# -- 1. one pass over 10,000 feeds ---------------------------------------------------------
def _bare_fetch(base: str, cfg, n: int) -> tuple[float, float, float, int]:
    """Our HTTP layer alone over every feed, with the ETags of the first version: wall
    and CPU seconds, the feed server's CPU seconds, and the posts parsed."""
    from crawler.base import CollectContext, SourceState, collect_all
    from crawler.registry import source_types

    kind = source_types()["feed"]
    ctx = CollectContext(user_agent="sentinel-bench/0.1")
    sources = [kind(c, context=ctx) for c in cfg.sources]
    t, cpu, server_cpu = time.perf_counter(), time.process_time(), _server_cpu(base)
    with ThreadPoolExecutor(8) as pool:
        got = list(
            pool.map(
                lambda src: collect_all(src, SourceState(etag=f'"{src.config.name[1:]}-1"')),
                sources,
            )
        )
    return (
        time.perf_counter() - t,
        time.process_time() - cpu,
        _server_cpu(base) - server_cpu,
        sum(len(r.posts) for r in got),
    )


def _dedup_cost(index, batches: int = 100, size: int = 10) -> float:
    """Milliseconds of near-duplicate work (signature, query, add) per batch of ``size``
    new posts against ``index``, as ``storage.posts.store_posts`` does it."""
    from bench.feedserver import text
    from crawler.dedup import signature

    t = time.perf_counter()
    for b in range(batches):
        for k in range(size):
            sig = signature(f"学院新闻 {b}-{k}\n{text(10**7 + b * size + k)}")
            index.query(sig)
            index.add(-(b * size + k) - 1, sig)
    return (time.perf_counter() - t) * 1000 / batches


def one_pass(n: int = 10_000, every: int = 100, hosts: int = 1) -> dict:
    """A running daemon's pass: the Pipeline's second one (the first, on a fresh
    Pipeline, is printed beside it), each against a bare fetch measured just before it.
    ``hosts``: the feeds spread over that many loopback hosts (127.0.0.1 to 127.0.0.H),
    as an office's feeds are over many sites; on one host every request waits for the
    host's two at a time (``per_host``)."""
    from crawler.dedup import NearDuplicateIndex
    from sentinel.config import Config
    from sentinel.pipeline import Pipeline
    from storage.db import Database
    from storage.models import Source

    out: dict = {"feeds": n, "changed": n // every, "hosts": hosts}
    with feed_server(n, hosts) as bases, tempfile.TemporaryDirectory() as tmp:
        base = bases if isinstance(bases, str) else bases[0]  # /_change, /_cpu: one state
        cfg = Config.model_validate(
            {
                "database": f"sqlite:///{tmp}/bench.db",
                "var_dir": f"{tmp}/var",
                "sources": _feeds(bases, n),
            }
        )
        cfg.base_dir = Path(tmp)
        db = Database(cfg.database_url)
        with db.session() as s:  # as after an earlier pass: every feed's ETag known
            s.add_all(
                Source(name=f"f{i}", type="feed", state={}, etag=f'"{i}-1"') for i in range(n)
            )
        pipeline = Pipeline(cfg, db)
        pipeline.matchers.get()  # start-up (jieba, the watchlists) is not part of a pass
        pipeline.dedup_index()
        for k in ("first", "steady"):
            httpx.get(base + f"/_change?every={every}")  # 1 % of the feeds have new items
            bare_s, bare_cpu, bare_server, bare_posts = _bare_fetch(base, cfg, n)
            t, cpu, server_cpu = time.perf_counter(), time.process_time(), _server_cpu(base)
            runs, stats, _ = pipeline.poll()
            out[k] = {
                "wall_s": time.perf_counter() - t,
                "cpu_s": time.process_time() - cpu,
                "server_cpu_s": _server_cpu(base) - server_cpu,
                "bare_s": bare_s,
                "bare_cpu_s": bare_cpu,
                "bare_server_cpu_s": bare_server,
                "bare_posts": bare_posts,
                "load": os.getloadavg()[0],
                "not_modified": sum(r.not_modified for r in runs),
                "new_posts": sum(r.new for r in runs),
                "matched": stats.matched,
                "errors": sum(1 for r in runs if r.error),
            }
        db.dispose()
    out["dedup_ms_per_batch"] = {
        "index 2,000": _dedup_cost(pipeline.dedup_index()),
        "index 100,000": _dedup_cost(_filled_index(NearDuplicateIndex(), 100_000)),
    }
    return out


def _filled_index(index, n: int):
    """An index of ``n`` distinct signatures (14 days of a busy office's posts)."""
    import numpy as np

    from crawler.dedup import _FMT, _SEED, NUM_PERM

    rng = np.random.default_rng(13)
    for i in range(n):
        values = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
        index.add(i, struct.pack(_FMT, _SEED, -NUM_PERM, 1, *values.tolist()))
    return index


# -- 2. alert latency --------------------------------------------------------------------
STORIES = [
    "食堂饭菜里吃出虫子",
    "宿舍停水三天没人管",
    "乱收费",
    "考试作弊被包庇",
    "辅导员打骂学生",
    "学生坠楼",
    "教师性骚扰学生",
    "强制实习",
    "校园贷",
    "食物中毒",
]


def _latency_feed(items: list[tuple[int, str, datetime]]) -> str:
    body = "".join(
        f"<item><title>江西警察学院{title}（{k}）</title><link>http://bbs.example.cn/t/{k}</link>"
        f"<description>江西警察学院{title}，同学们很气愤，学校必须给个说法！第{k}帖。</description></item>"
        for k, title, _ in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'


def alert_latency(interval: float = 10.0, n: int = 20, seed: int = 13) -> dict:
    from sqlalchemy import select

    import scheduler
    from demo.mailbox import Mailbox
    from sentinel import config as config_mod
    from storage.db import Database
    from storage.models import Match, Post
    from tests.servers.http import LoopbackHTTPServer

    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory() as tmp,
        LoopbackHTTPServer() as srv,
        Mailbox(Path(tmp) / "mail") as box,
    ):
        published: list[tuple[int, str, datetime]] = []
        srv.add("/rss.xml", _latency_feed(published), content_type="application/rss+xml")
        path = Path(tmp) / "sentinel.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "database": f"sqlite:///{tmp}/bench.db",
                    "var_dir": f"{tmp}/var",
                    "sources": [
                        {
                            "name": "bbs",
                            "type": "feed",
                            "url": srv.url("/rss.xml"),
                            "interval": interval,
                            "jitter": 0.1,
                            "obey_robots": False,
                        }
                    ],
                    "smtp": {"host": "127.0.0.1", "port": box.port, "from": "yq@example.edu.cn"},
                    "recipients": {"office": ["office@example.edu.cn"]},
                },
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
        cfg = config_mod.load(path)
        stop = threading.Event()
        t = threading.Thread(
            target=scheduler.run_daemon, args=(cfg,), kwargs={"stop": stop}, daemon=True
        )
        t.start()
        time.sleep(interval * 1.5)  # past the first poll and the matcher's start-up
        for k in range(n):
            time.sleep(rng.uniform(0.3, 0.9) * interval)
            published.append((k, f"{STORIES[k % len(STORIES)]}", datetime.now(UTC)))
            srv.add("/rss.xml", _latency_feed(published), content_type="application/rss+xml")
        time.sleep(interval * 2)
        stop.set()
        t.join(timeout=30)
        polls = [at for at, p in srv.stamps if p == "/rss.xml"]
        start_mono, start_wall = time.monotonic(), datetime.now(UTC)
        db = Database(cfg.database_url)
        with db.session() as s:
            rows = s.execute(
                select(Post.url, Match.matched_at).join(Match, Match.post_id == Post.id)
            ).all()
        db.dispose()
        matched = {url.rsplit("/", 1)[1]: at for url, at in rows}
        mailed: dict[int, float] = {}
        for d in box.deliveries:
            msg = email.message_from_bytes(d.path.read_bytes(), policy=email.policy.default)
            raw = " ".join(
                part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"
            )
            for k, _, at in published:
                if k not in mailed and f"/t/{k}" in raw:
                    mailed[k] = d.received_at - at.timestamp()
    lat, waits = [], []
    for k, _, at in published:
        if str(k) in matched:
            lat.append((matched[str(k)] - at).total_seconds())
        at_mono = start_mono - (start_wall - at).total_seconds()
        nxt = [p for p in polls if p >= at_mono]
        if nxt:
            waits.append(nxt[0] - at_mono)
    return {
        "interval": interval,
        "items": n,
        "matched": len(lat),
        "latency": lat,
        "waits": waits,
        "mailed": len(mailed),
        "mail_latency": list(mailed.values()),
    }


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return (
        values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]
        if values
        else float("nan")
    )


# -- 3. RSS with 1,000 sources -----------------------------------------------------------
def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def daemon_rss(n: int, seconds: float, base: str, tmp: Path) -> dict:
    path = tmp / f"sentinel-{n}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp}/rss-{n}.db",
                "var_dir": str(tmp / f"var{n}"),
                "sources": _feeds(base, n),
            }
        ),
        encoding="utf-8",
    )
    log = open(tmp / f"daemon-{n}.log", "wb")  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scheduler.py"), "--config", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=tmp,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    samples = []
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end and proc.poll() is None:
            time.sleep(min(5, max(0.1, end - time.monotonic())))
            samples.append(_rss_kb(proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    return {
        "sources": n,
        "seconds": seconds,
        "rss_end_mb": samples[-1] / 1024,
        "rss_peak_mb": max(samples) / 1024,
    }


def rss_many(n: int = 1000, seconds: float = 90.0) -> dict:
    with feed_server(n) as base, tempfile.TemporaryDirectory() as tmp:
        idle = daemon_rss(0, 20, base, Path(tmp))
        before = time.monotonic()
        busy = daemon_rss(n, seconds, base, Path(tmp))
        ran = time.monotonic() - before
        per = json.loads(httpx.get(base + "/_count?per=1").text)
    polls = sorted(per)
    return {
        "idle": idle,
        "busy": busy,
        "polls_min": polls[0],
        "polls_median": statistics.median(polls),
        "polls_max": polls[-1],
        "expected": ran / 30,
        "total": sum(polls),
    }


def _print_pass(p: dict) -> None:
    where = "one host" if p["hosts"] == 1 else f"{p['hosts']} hosts"
    for k, label in (
        ("steady", "one pass (a running daemon's, the second)"),
        ("first", "first pass"),
    ):
        q = p[k]
        print(
            f"{label}: {p['feeds']:,} feeds on {where}, {p['changed']} changed: {q['wall_s']:.2f} s wall "
            f"(goal ≤ 10 s); bare fetch of the same feeds just before, no database: "
            f"{q['bare_s']:.2f} s; ratio {q['wall_s'] / q['bare_s']:.2f}×; {q['not_modified']:,} "
            f"answered 304, {q['new_posts']:,} posts stored and {q['matched']:,} matched, "
            f"{q['errors']} errors; CPU of the pass {q['cpu_s']:.2f} s (the feed server's "
            f"{q['server_cpu_s']:.2f} s), of the bare fetch {q['bare_cpu_s']:.2f} s (server "
            f"{q['bare_server_cpu_s']:.2f} s); load average {q['load']:.1f} on {os.cpu_count()} cores"
        )


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    full = "--full" in argv
    for hosts in (1, 20):
        p = one_pass(hosts=hosts)
        _print_pass(p)
    print(
        "near-duplicate check per batch of 10 new posts: "
        + ", ".join(f"{v:.1f} ms ({k})" for k, v in p["dedup_ms_per_batch"].items())
    )
    a = alert_latency()
    lat, waits = a["latency"], a["waits"]
    print(
        f"alert latency at a {a['interval']:g} s interval, {a['items']} items ({a['matched']} matched, "
        f"{a['mailed']} mailed): p50 {_pct(lat, 0.5):.1f} s (goal ≤ {a['interval'] / 2 + 1:g} s), "
        f"p95 {_pct(lat, 0.95):.1f} s (goal ≤ {a['interval'] + 1:g} s); "
        f"the wait for the next poll alone: p50 {_pct(waits, 0.5):.1f} s, p95 {_pct(waits, 0.95):.1f} s; "
        f"processing adds {statistics.median(lat) - statistics.median(waits):+.2f} s at the median; "
        f"to the mail in the mailbox: p50 {_pct(a['mail_latency'], 0.5):.1f} s, p95 {_pct(a['mail_latency'], 0.95):.1f} s"
    )
    r = rss_many(seconds=600 if full else 90)
    print(
        f"RSS with {r['busy']['sources']:,} sources after {r['busy']['seconds']:.0f} s"
        f"{'' if full else ' (--full: 10 min)'}: {r['busy']['rss_end_mb']:.0f} MB "
        f"(peak {r['busy']['rss_peak_mb']:.0f} MB; goal ≤ 300 MB); no source: {r['idle']['rss_end_mb']:.0f} MB; "
        f"ratio {r['busy']['rss_end_mb'] / r['idle']['rss_end_mb']:.2f}×; polls per source min {r['polls_min']} / "
        f"median {r['polls_median']:g} / max {r['polls_max']} (about {r['expected']:.1f} expected at 30 s), "
        f"{r['total']:,} in all"
    )


if __name__ == "__main__":
    main()
