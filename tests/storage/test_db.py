from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from storage.db import Database, DatabaseError
from storage.models import Post, Source


def test_migrations_create_schema_and_are_idempotent(db_url):
    Database(db_url).dispose()
    again = Database(db_url)  # running the migrations twice changes nothing
    with again.session() as s:
        s.add(Source(name="campus-news", type="feed"))
    with again.session() as s:
        assert s.scalars(select(Source.name)).all() == ["campus-news"]
    again.dispose()


def test_datetimes_come_back_aware_utc(db):
    t = datetime(2026, 11, 23, 8, 15, tzinfo=timezone(timedelta(hours=8)))
    with db.session() as s:
        src = Source(name="s", type="feed")
        s.add(src)
        s.flush()
        s.add(Post(source_id=src.id, url="https://a/1", content_hash="x", published_at=t))
    with db.session() as s:
        got = s.scalars(select(Post.published_at)).one()
    assert got == t and got.tzinfo is not None and got.utcoffset() == timedelta(0)


def test_canonical_url_is_unique(db):
    from sqlalchemy.exc import IntegrityError

    with db.session() as s:
        src = Source(name="s", type="feed")
        s.add(src)
        s.flush()
        s.add(Post(source_id=src.id, url="https://a/1", content_hash="x"))
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(Post(source_id=src.id, url="https://a/1", content_hash="y"))


def test_sqlite_uses_wal_and_foreign_keys(sqlite_url):
    d = Database(sqlite_url)
    with d.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    d.dispose()


def test_unreachable_database_is_a_clear_error():
    with pytest.raises(DatabaseError, match="无法打开数据库"):
        Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_evidence_and_incident_log_cannot_be_changed(db):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError as SADatabaseError

    from storage.models import Incident, IncidentEvent, Snapshot

    with db.session() as s:
        snap = Snapshot(url="u", final_url="u", sha256="0" * 64, body=b"x", headers={})
        inc = Incident(title="食堂")
        s.add_all([snap, inc])
        s.flush()
        s.add(IncidentEvent(incident_id=inc.id, kind="opened", actor="system"))
    for stmt in (
        "UPDATE snapshots SET sha256 = 'forged'",
        "DELETE FROM snapshots",
        "UPDATE incident_events SET actor = 'someone else'",
        "DELETE FROM incident_events",
    ):
        with pytest.raises(SADatabaseError, match="append-only"), db.session() as s:
            s.execute(text(stmt))
    with db.session() as s:
        assert s.scalar(select(Snapshot.sha256)) == "0" * 64


def test_a_malformed_database_url_never_shows_its_password(tmp_path):
    from click.testing import CliRunner

    from sentinel.cli import cli
    from storage.db import mask_url

    for url in (
        "postgresql+psycopg://yuqing:S3cretPW@db.example:notaport/sentinel",
        "yuqing:S3cretPW@127.0.0.1/sentinel",
        "postgresql+psycopg://yuqing:S3c@retPW@127.0.0.1:1/sentinel",
    ):  # an unencoded @ in it
        assert "S3c" not in mask_url(url) and "retPW" not in mask_url(url)
        p = tmp_path / "sentinel.yaml"
        p.write_text(f'database: "{url}"\n', encoding="utf-8")
        for args in (["status"], ["posts"], ["config", "check"]):
            out = CliRunner().invoke(cli, ["--config", str(p), *args]).output
            assert "retPW" not in out and "Traceback" not in out, (args, out)
            assert "yuqing:***@" in out or args != ["config", "check"], out


def test_the_migrations_build_exactly_the_models_schema(db):
    """A column added to storage/models.py without its migration (or the reverse) fails."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
