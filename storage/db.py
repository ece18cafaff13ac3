"""Engine set-up and schema migrations.

SQLite gets WAL, a busy timeout, foreign keys and SQLAlchemy's documented recipe for
real transactions with the sqlite3 driver (``BEGIN IMMEDIATE`` so writers queue instead
of failing half-way). PostgreSQL needs nothing special. Migrations run on start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import SentinelError

MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(SentinelError):
    """The database cannot be opened or migrated."""


class StorageError(SentinelError):
    """A write failed (disk full, database locked or gone): one line, nothing half-stored."""


def mask_url(url: str) -> str:
    """The database URL with its password hidden — also when SQLAlchemy cannot parse it
    (a typo in the port) or misreads it (an unencoded ``@`` in the password)."""
    try:
        url = make_url(url).render_as_string(hide_password=True)
    except Exception:
        pass
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    at = rest.rfind("@")  # the last @ ends the credentials, whatever the password holds
    user, colon, _password = rest[:at].partition(":") if at > 0 else ("", "", "")
    if not colon or "/" in user:
        return url
    return f"{scheme}{sep}{user}:***{rest[at:]}"


def _password_pieces(url: str) -> list[str]:
    """The password as written in the URL, and its pieces around any ``@`` (a driver that
    misreads the URL quotes those as a host name)."""
    _scheme, sep, rest = url.partition("://")
    rest = rest if sep else url
    at = rest.rfind("@")
    _user, colon, password = rest[:at].partition(":") if at > 0 else ("", "", "")
    if not colon or not password:
        return []
    pieces = [password, *password.split("@")]
    return sorted({p for p in pieces if len(p) >= 3}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's message) without any piece of the URL's password."""
    for piece in _password_pieces(url):
        text = text.replace(piece, "***")
    return text


def describe_error(e: BaseException) -> str:
    """A database error as one line for the office: the reason in Chinese where known and
    the driver's own first line — never the SQL statement and its parameters."""
    return _reason(e)


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
        # Writers queue for the lock up front; a read (Database.reading) takes none.
        conn.exec_driver_sql(
            "BEGIN" if conn.get_execution_options().get("sentinel_read") else "BEGIN IMMEDIATE"
        )


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created when missing."""
    try:
        parsed = make_url(url)
    except Exception:  # sqlalchemy.exc.ArgumentError
        raise DatabaseError(
            f"数据库地址 '{mask_url(url)}' 无效；应写成 sqlite:///var/sentinel.db 或 postgresql+psycopg://用户@主机/库名"
        ) from None
    safe = mask_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                try:
                    Path(db).parent.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise DatabaseError(
                        f"无法创建数据库文件夹 {Path(db).parent}：{e.strerror or e}"
                    ) from None
            engine = create_engine(url, connect_args={"timeout": 30})
            _sqlite_setup(engine)
            return engine
        connect_args = {}
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = 10  # a wrong host fails in seconds, not minutes
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except (NoSuchModuleError, ImportError):
        raise DatabaseError(
            f"不支持的数据库 {safe}：请用 sqlite:/// 或 postgresql+psycopg://（驱动未安装）"
        ) from None


def _reason(e: BaseException) -> str:
    """The driver's own first line (connection refused, password failed...), without
    SQLAlchemy's statement dump and documentation link."""
    orig = getattr(e, "orig", None) or e
    text = str(orig).strip().splitlines()
    first = text[0].strip()[:300] if text else type(orig).__name__
    whole = str(orig)
    for needle, said in _REASONS:
        if needle in whole:
            return f"{said}（{first}）"
    return first


_REASONS = (
    ("database or disk is full", "磁盘已满（或数据库已达大小上限），已保存的数据不受影响"),
    ("No space left on device", "磁盘已满，已保存的数据不受影响"),
    ("disk I/O error", "磁盘读写出错"),
    ("database is locked", "数据库被其他进程锁定，稍后重试"),
    ("attempt to write a readonly database", "数据库文件只读，无法写入"),
    ("Connection refused", "连接被拒绝，数据库服务未运行或主机、端口有误"),
    ("timeout expired", "连接超时，主机不可达"),
    ("could not translate host name", "找不到该主机名"),
    ("Name or service not known", "找不到该主机名"),
    ("password authentication failed", "用户名或密码错误（密码请放在环境变量或 ~/.pgpass 中）"),
    ("does not exist", "数据库或用户不存在"),
    ("unable to open database file", "无法打开数据库文件，请检查路径和写入权限"),
)


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@lru_cache(maxsize=1)
def _head() -> str:
    """The newest revision, read from the scripts once a process."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def at_head(engine: Engine) -> bool:
    """Whether the schema is already at the newest revision (one small query)."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == _head()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent). A database already at the
    newest revision costs one query, not a run of Alembic over every script."""
    from alembic import command

    if at_head(engine):
        return
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
        except Exception as e:
            url = engine.url.render_as_string(hide_password=False)
            raise DatabaseError(f"数据库结构升级失败：{scrub(_reason(e), url)}") from e


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
                raise DatabaseError(
                    f"无法打开数据库 {self.safe_url}：{scrub(_reason(e), url)}；请检查 sentinel.yaml 中的 database"
                ) from None
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        return mask_url(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error."""
        with self.Session() as s, s.begin():
            yield s

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end). On SQLite it takes no write
        lock, so reads never wait behind the writers (WAL lets them run side by side).
        Write nothing in it: use ``session()`` for that."""
        with self.Session() as s:
            s.connection(execution_options={"sentinel_read": True})
            yield s

    def dispose(self) -> None:
        self.engine.dispose()
