"""``sentinel.yaml``: the one configuration file, validated with pydantic.

Every error is reported as ``FILE:LINE:COL: message`` (exit status 2). Secrets never
live here: the SMTP password comes from ``$SENTINEL_SMTP_PASSWORD``. Relative paths
(the SQLite file, watchlist globs, ``var_dir``) are taken relative to the config file,
so the daemon behaves the same whatever directory a service manager starts it in.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from alerting.incidents.settings import IncidentSettings
from alerting.notify.settings import NotifySettings
from crawler.base import SourceConfig, parse_duration, source_types
from sentinel import yamlpos
from sentinel.errors import ConfigError

DEFAULT_PATH = "sentinel.yaml"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BUILTIN_WATCHLISTS = PACKAGE_ROOT / "watchlists"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SmtpConfig(Strict):
    """The mail server alerts and digests go through."""

    host: str = Field(description="SMTP server host name.")
    port: int = Field(25, ge=1, le=65535, description="SMTP port (25, 465 for ssl, 587 for starttls).")
    security: Literal["none", "starttls", "ssl"] = Field("none", description="none, starttls or ssl.")
    username: str | None = Field(None, description="Login name; the password is $SENTINEL_SMTP_PASSWORD.")
    allow_plaintext_auth: bool = Field(
        False, description="Allow the login (and so the password) over an unencrypted connection (security: none)."
    )
    from_: str = Field(alias="from", description='Sender, e.g. "舆情监测 <yuqing@example.edu.cn>".')
    timeout: float = Field(30, description="Seconds before a connection or command is given up.")

    @field_validator("timeout", mode="before")
    @classmethod
    def _t(cls, v):
        return parse_duration(v)

    @property
    def password(self) -> str | None:
        return os.environ.get("SENTINEL_SMTP_PASSWORD") or None


class DigestConfig(Strict):
    """A digest of matched posts sent on a schedule."""

    name: str = Field(description="Name of the digest, e.g. daily.")
    cron: str = Field(description='Cron expression in the configured time zone, e.g. "0 8 * * *".')
    to: list[str] = Field(default_factory=lambda: ["office"], description="Recipient groups or addresses.")
    since: float | None = Field(None, description="Period covered; default: since the previous run.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(v)
        except ValueError as e:
            raise ValueError(f"cron 表达式 '{v}' 无效（{e}），例如 \"0 8 * * *\" 表示每天 8:00") from None
        return v

    @field_validator("since", mode="before")
    @classmethod
    def _since(cls, v):
        return None if v is None else parse_duration(v)


class EscalationLevel(Strict):
    """One level of reporting: who is told, and how long they have to acknowledge."""

    notify: list[str] = Field(description="Recipient groups or addresses told at this level.")
    ack_within: float = Field(1800, description="Time to acknowledge before the next level is told.")

    @field_validator("ack_within", mode="before")
    @classmethod
    def _d(cls, v):
        return parse_duration(v)


class EscalationRule(Strict):
    """Which incidents a rule covers and its levels (level by level; a level may name
    several groups, which are told at the same moment: dual reporting)."""

    severity: list[Literal["I", "II", "III", "IV"]] = Field(
        default_factory=lambda: ["I", "II", "III", "IV"], description="Severities covered."
    )
    category: list[Literal["inquiry", "hype", "illegal", "constructive"]] = Field(
        default_factory=lambda: ["inquiry", "hype", "illegal", "constructive"],
        description="Categories covered.",
    )
    levels: list[EscalationLevel] = Field(description="Levels in order.")


class Config(Strict):
    """The whole configuration file."""

    database: str = Field("sqlite:///var/sentinel.db", description="SQLAlchemy URL.")
    timezone: str = Field("Asia/Shanghai", description="Time zone for deadlines, digests and display.")
    watchlists: list[str] = Field(
        default_factory=lambda: [str(BUILTIN_WATCHLISTS / "*.yaml")],
        description="Watchlist files or globs.",
    )
    sources: list[SourceConfig] = Field(default_factory=list, description="What to watch.")
    smtp: SmtpConfig | None = Field(None, description="Mail server; without it mail stays in the outbox.")
    recipients: dict[str, list[str]] = Field(
        default_factory=dict, description="Named groups of addresses: office, leaders, superior, units..."
    )
    escalation: list[EscalationRule] = Field(default_factory=list, description="Escalation rules.")
    digests: list[DigestConfig] = Field(default_factory=list, description="Scheduled digests.")
    var_dir: str = Field("var", description="Folder for the database, caches, mail and snapshots.")
    user_agent: str = Field(
        "sentinel/0.1 (public-opinion monitor)", description="User-Agent sent to every site."
    )
    contact: str | None = Field(None, description="Contact address added to the User-Agent.")
    console_url: str | None = Field(None, description="Base URL of the web console, for links in mail.")
    incidents: IncidentSettings = Field(
        default_factory=IncidentSettings,
        description="Incident clustering, tracking and playbooks (docs/incidents.md).",
    )
    notify: NotifySettings = Field(
        default_factory=NotifySettings,
        description="Notification timers, routes, quiet hours, masking and chat webhooks.",
    )

    # Filled in by load(): where the file was, to resolve relative paths.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知的时区 '{v}'（例如 Asia/Shanghai）") from None
        return v

    @field_validator("sources", mode="before")
    @classmethod
    def _sources(cls, v: Any, info: ValidationInfo) -> Any:
        if not isinstance(v, list):
            return v
        types = source_types()
        out = []
        for item in v:
            if isinstance(item, dict) and item.get("type") in types:
                out.append(types[item["type"]].config_model.model_validate(item))
            elif isinstance(item, dict) and "type" in item:
                raise ValueError(
                    f"unknown source type '{item['type']}'; use one of: {', '.join(sorted(types))}"
                )
            else:
                out.append(item)
        return out

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"有两个来源都叫 '{s.name}'，来源名称不能重复")
            seen.add(s.name)
        return self

    # -- derived values -------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def var_path(self) -> Path:
        p = Path(self.var_dir)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path resolved against the config's folder."""
        prefix = "sqlite:///"
        if self.database.startswith(prefix) and not self.database.startswith(prefix + "/"):
            rest = self.database[len(prefix):]
            if rest and rest != ":memory:":
                return prefix + str((self.base_dir / rest).resolve())
        return self.database

    def watchlist_files(self) -> list[Path]:
        """Watchlist files named by the globs, sorted, without duplicates."""
        files: list[Path] = []
        for pattern in self.watchlists:
            p = Path(pattern)
            p = p if p.is_absolute() else self.base_dir / p
            matched = sorted(glob.glob(str(p))) if glob.has_magic(str(p)) else [str(p)]
            for m in matched:
                path = Path(m)
                if path not in files:
                    files.append(path)
        return files

    def addresses(self, names: list[str]) -> list[str]:
        """Expand recipient group names into addresses; plain addresses pass through."""
        out: list[str] = []
        for n in names:
            for a in self.recipients.get(n, [n] if "@" in n else []):
                if a not in out:
                    out.append(a)
        return out

    @property
    def full_user_agent(self) -> str:
        return f"{self.user_agent} {self.contact}" if self.contact else self.user_agent


def _hint(err: dict) -> str:
    if err["type"] != "extra_forbidden":
        return ""
    loc = err["loc"]
    if loc and loc[0] == "sources":
        return "请对照 README.md 中该来源类型的键检查拼写"
    fields = [f.alias or n for n, f in Config.model_fields.items() if n != "base_dir"]
    if len(loc) == 1:
        return "可用的键：" + "、".join(fields)
    return ""


def _load_source(doc: yamlpos.PositionedDoc, i: int) -> SourceConfig:
    """Validate one source against its type's model, errors positioned in the file."""
    sub = doc.sub(("sources", i))
    item = sub.data
    line, col = sub.where(())
    if not isinstance(item, dict):
        raise ConfigError(doc.file, line, col, "每个来源应写成“键: 值”的形式，包含 name:、type: 和 url:")
    types = source_types()
    kind = item.get("type")
    if kind is None:
        raise ConfigError(doc.file, line, col, f"来源缺少 type，可选：{', '.join(sorted(types))}")
    if kind not in types:
        line, col = sub.where(("type",))
        raise ConfigError(doc.file, line, col, f"未知的来源类型 '{kind}'，可选：{', '.join(sorted(types))}")
    model = types[kind].config_model

    def hint(err: dict) -> str:
        if err["type"] == "extra_forbidden":
            keys = [f.alias or n for n, f in model.model_fields.items()]
            return f"{kind} 类型的来源可用的键：" + "、".join(keys)
        return ""

    return yamlpos.validate(sub, model, ConfigError, hint=hint)  # type: ignore[return-value]


def default_file_missing(path: str | os.PathLike | None = None) -> bool:
    """True when no config file was named (no --config, no $SENTINEL_CONFIG) and there is
    no ./sentinel.yaml: load() then falls back to built-in defaults."""
    return path is None and "SENTINEL_CONFIG" not in os.environ and not Path(DEFAULT_PATH).exists()


def load(path: str | os.PathLike | None = None) -> Config:
    """Load and validate the config. ``path`` None means $SENTINEL_CONFIG or ./sentinel.yaml;
    when that default file does not exist, built-in defaults apply (no sources)."""
    explicit = path is not None or "SENTINEL_CONFIG" in os.environ
    path = Path(path or os.environ.get("SENTINEL_CONFIG") or DEFAULT_PATH)
    if not path.exists():
        if explicit:
            raise ConfigError(
                str(path), 1, 1, "找不到配置文件 (config file not found)；可复制 sentinel.example.yaml 后修改"
            )
        return Config(base_dir=Path.cwd())
    doc = yamlpos.load_file(path, ConfigError)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ConfigError(str(path), 1, 1, "配置文件应由“键: 值”组成（database:、sources: ……）")
    data = dict(doc.data or {})
    if isinstance(data.get("sources"), list):
        data["sources"] = [_load_source(doc, i) for i in range(len(data["sources"]))]
    doc.data = data
    cfg = yamlpos.validate(doc, Config, ConfigError, hint=_hint)
    cfg.base_dir = path.resolve().parent
    return cfg  # type: ignore[return-value]
