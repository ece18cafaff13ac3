"""Engine set-up and schema migrations.

SQLite gets WAL, a busy timeout, foreign keys and SQLAlchemy's documented recipe for
real transactions with the sqlite3 driver (``BEGIN IMMEDIATE`` so writers queue instead
of failing half-way). PostgreSQL needs nothing special. Migrations run on start.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from sentinel.errors import SentinelError

MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(SentinelError):
    """The database cannot be opened or migrated."""


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created when missing."""
    try:
        parsed = make_url(url)
    except Exception as e:  # sqlalchemy.exc.ArgumentError
        raise DatabaseError(f"invalid database URL {url!r}: {e}") from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
        except Exception as e:
            raise DatabaseError(f"database migration failed: {e}") from e


class Database:
    """The engine and a session factory; ``session()`` is one unit of work."""

    def __init__(self, url: str, *, auto_migrate: bool = True):
        self.url = url
        self.engine = make_engine(url)
        if auto_migrate:
            try:
                migrate(self.engine)
            except DatabaseError:
                raise
            except Exception as e:  # connection refused, permission denied...
                raise DatabaseError(f"cannot open database {self.safe_url}: {e}") from None
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error."""
        with self.Session() as s:
            with s.begin():
                yield s

    def dispose(self) -> None:
        self.engine.dispose()
