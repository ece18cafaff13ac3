"""Shared fixtures: real databases (a SQLite file and a fresh PostgreSQL database on
127.0.0.1:5432), a clock, and paths to the shared corpus."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SENTINEL_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
PG_ADMIN_URL = os.environ.get(
    "SENTINEL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_server():
    """The local PostgreSQL. CI starts it; a machine without it fails loudly, not silently."""
    if not _pg_available():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; start it (see .ci/run)")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server):
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"sentinel_t_{uuid.uuid4().hex[:12]}"
    admin = pg_server.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = pg_server.rsplit("/", 1)[0] + "/" + name
    yield url
    from sqlalchemy import create_engine  # noqa: F401  (engines are disposed by tests)

    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'sentinel.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """Run a test on SQLite and again on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sentinel.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url):
    """A migrated storage.db.Database on each backend."""
    from storage.db import Database

    d = Database(db_url)
    yield d
    d.dispose()


class Clock:
    """A controllable clock: ``now()`` returns an aware UTC datetime."""

    def __init__(self, start: datetime | None = None):
        self.t = start or datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t

    def advance(self, **kw) -> datetime:
        from datetime import timedelta

        self.t += timedelta(**kw)
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(scope="session")
def corpus():
    if not CORPUS.is_dir():
        pytest.fail(f"shared corpus not found at {CORPUS} (set SENTINEL_SHARED)")
    return CORPUS


@pytest.fixture(scope="session", autouse=True)
def _jieba_dictionary_read_once():
    """jieba reads its 350,000-word dictionary for every Tokenizer (about a second of CPU)
    and the suite builds hundreds of matchers in this process. The first Tokenizer of
    the default dictionary reads it for real; each later one starts from a copy of that
    result, which is what jieba would load from its cache file, and the cache file is
    still written where the Tokenizer keeps it (a test checks the folder). Matching is
    unchanged: the words and frequencies are jieba's own."""
    import marshal
    import tempfile

    import jieba

    real = jieba.Tokenizer.initialize
    memo: dict = {}

    def initialize(self, dictionary=None):
        if dictionary is not None or self.initialized or self.dictionary is not jieba.DEFAULT_DICT:
            return real(self, dictionary)
        if not memo:
            real(self)
            memo["freq"], memo["total"] = dict(self.FREQ), self.total
            memo["cache"] = marshal.dumps((self.FREQ, self.total))
            return None
        with self.lock:
            cache = Path(self.tmp_dir or tempfile.gettempdir()) / (self.cache_file or "jieba.cache")
            if not cache.exists():
                cache.write_bytes(memo["cache"])
            self.FREQ, self.total = dict(memo["freq"]), memo["total"]
            self.initialized = True
        return None

    jieba.Tokenizer.initialize = initialize
    yield
    jieba.Tokenizer.initialize = real


@pytest.fixture(scope="session", autouse=True)
def _sqlite_schema_built_once():
    """Running every Alembic script takes most of a second of CPU, and the suite opens
    several hundred brand-new SQLite files in this process. The first one is migrated
    for real; each later empty SQLite file gets a copy of that schema through SQLite's
    own backup API (tables, indexes, triggers and ``alembic_version`` alike), which is
    what the same scripts would have built. Non-empty files, PostgreSQL, and the
    processes tests start (the CLI, the daemon) still run the real migrations, and
    tests/storage/test_db.py checks the migrated schema against the models."""
    import sqlite3

    from sqlalchemy import inspect

    from storage import db

    real = db.migrate
    image: list[bytes] = []

    def migrate(engine):
        if engine.dialect.name != "sqlite" or inspect(engine).get_table_names():
            return real(engine)
        if not image:
            real(engine)
            raw = engine.raw_connection()
            try:
                page = bytearray(raw.driver_connection.serialize())
                page[18:20] = b"\x01\x01"  # the file format bytes say WAL; memory can't
                image.append(bytes(page))
            finally:
                raw.close()
            return None
        source = sqlite3.connect(":memory:")
        source.deserialize(image[0])
        raw = engine.raw_connection()
        try:
            source.backup(raw.driver_connection)
        finally:
            raw.close()
            source.close()
        return None

    db.migrate = migrate
    yield
    db.migrate = real


# Files whose tests assert a wall-clock bound (a hostile server held to its deadline, a
# daemon's interval, a stop within seconds): ``make test`` runs them after the others,
# one at a time, so a second worker cannot eat into the time they measure.
SERIAL = (
    "tests/crawler/test_hostile.py",
    "tests/crawler/test_cancel.py",
    "tests/crawler/test_streaming.py",
    "tests/crawler/test_article_meta.py",
    "tests/daemon/",
    "tests/incidents/test_report_hostile.py",
    "tests/notify/test_chat.py",
    "tests/notify/test_smtp_safety.py",
    "tests/storage/test_full_disk.py",
    "tests/storage/test_lock.py",
    "tests/test_daemon_hostile.py",
    "tests/test_hostile_cli.py",
    "tests/web/test_report_hostile.py",
)


def _group(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return "tests/office" if path.startswith("tests/office/") else path


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` with the groups below. pytest-xdist 3.8 marks a group by adding
    ``@group`` to each test's node id, which pytest 9 no longer lets it change: every
    test went to whichever worker was free, so a file's Chromium or matcher was built on
    both workers and the office's scenario was replayed twice. This scheduler takes the
    group from the node id's path itself."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ByGroup(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid.split("@", 1)[0])

    return ByGroup(config, log)


def pytest_collection_modifyitems(config, items):
    """``make test`` runs two pytest-xdist workers with ``--dist loadgroup`` over every
    test not marked ``serial``, then the serial ones alone. A file's tests stay on one
    worker, so what a module builds once (a Chromium, a matcher) is built once; the
    office's files share one replay of the scenario, so they are one group."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        group = _group(item.nodeid)
        item.add_marker(pytest.mark.xdist_group(group))
        if path.startswith(SERIAL):
            item.add_marker(pytest.mark.serial)
        if group == "tests/office":  # the first test's setup replays the whole scenario
            item.add_marker(pytest.mark.timeout(1200))
