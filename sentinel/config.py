"""``sentinel.yaml``: the one configuration file, validated with pydantic.

Every error is reported as ``FILE:LINE:COL: message`` (exit status 2). Secrets never
live here: the SMTP password comes from ``$SENTINEL_SMTP_PASSWORD``. Relative paths
(the SQLite file, watchlist globs, ``var_dir``) are taken relative to the config file,
so the daemon behaves the same whatever directory a service manager starts it in.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from alerting.incidents.settings import IncidentSettings
from alerting.notify.channels.smtp import SmtpConfig
from alerting.notify.settings import NotifySettings
from core import yamlpos
from core.durations import Duration, OptionalDuration
from core.errors import ConfigError, SentinelError
from core.times import set_office_zone
from core.vocabulary import CategoryKey, RecipientGroup, SeverityKey
from crawler.base import SourceConfig
from crawler.registry import source_types
from sentinel.config_groups import check_groups
from sentinel.config_web import WebConfig
from storage.backoff import BackoffSettings
from storage.health import HealthSettings

DEFAULT_PATH = "sentinel.yaml"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BUILTIN_WATCHLISTS = PACKAGE_ROOT / "watchlists"


def _error(loc: tuple, value: Any, error_type: str, message: str, **ctx: Any) -> ValidationError:
    """A validation error at ``loc`` (below where it is raised), in the office's words."""
    error = PydanticCustomError(error_type, message, ctx)
    return ValidationError.from_exception_data(
        "sentinel.yaml", [{"type": error, "loc": loc, "input": value}]
    )


def _source(value: Any) -> SourceConfig:
    """A source, validated once: by the config model of its type (built-in or plug-in)."""
    if isinstance(value, SourceConfig):
        return value
    types = source_types()
    choices = "、".join(types)
    if not isinstance(value, dict):
        raise _error(
            (), value, "source_shape", "每个来源应写成“键: 值”的形式，包含 name:、type: 和 url:"
        )
    kind = value.get("type")
    if kind is None:
        raise _error((), value, "source_type", "来源缺少 type，可选：{choices}", choices=choices)
    if not isinstance(kind, str) or kind not in types:
        raise _error(
            ("type",),
            kind,
            "source_type",
            "未知的来源类型 '{kind}'，可选：{choices}",
            kind=str(kind),
            choices=choices,
        )
    return types[kind].config_model.model_validate(value)


def validate_source(value: dict) -> SourceConfig:
    """One source validated as in sentinel.yaml, by its type's model (``sentinel source
    test --url``); raises pydantic's ``ValidationError``."""
    return _source(value)


ConfiguredSource = Annotated[SerializeAsAny[SourceConfig], PlainValidator(_source)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DigestConfig(Strict):
    """A digest of matched posts sent on a schedule."""

    name: str = Field(description="Name of the digest, e.g. daily.")
    cron: str = Field(description='Cron expression in the configured time zone, e.g. "0 8 * * *".')
    to: list[str] = Field(
        default_factory=lambda: ["office"], description="Recipient groups or addresses."
    )
    since: OptionalDuration = Field(
        None, description="Period covered; default: since the previous run."
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(v)
        except ValueError as e:
            raise ValueError(
                f"cron 表达式 '{v}' 无效（{e}），例如 \"0 8 * * *\" 表示每天 8:00"
            ) from None
        return v


class EscalationLevel(Strict):
    """One level of reporting: who is told, and how long they have to acknowledge."""

    notify: list[str] = Field(description="Recipient groups or addresses told at this level.")
    ack_within: Duration = Field(
        1800, description="Time to acknowledge before the next level is told."
    )


class EscalationRule(Strict):
    """Which incidents a rule covers and its levels (level by level; a level may name
    several groups, which are told at the same moment: dual reporting)."""

    severity: list[SeverityKey] = Field(
        default_factory=lambda: ["I", "II", "III", "IV"], description="Severities covered."
    )
    category: list[CategoryKey] = Field(
        default_factory=lambda: ["inquiry", "hype", "illegal", "constructive"],
        description="Categories covered.",
    )
    levels: list[EscalationLevel] = Field(description="Levels in order.")


class RecipientGroupConfig(Strict):
    """A named group of addresses with the name the office reads (院领导, 上级主管部门…)."""

    label: str | None = Field(None, description="Display name in mails and reports, e.g. 院领导.")
    to: list[str] = Field(default_factory=list, description="E-mail addresses of the group.")


class MetricsConfig(Strict):
    """``metrics:``: where ``sentinel run`` serves /metrics (Prometheus text) and /healthz."""

    host: str = Field("127.0.0.1", description="Address the metrics server listens on.")
    port: int = Field(
        9464, ge=0, le=65535, description="Port of /metrics and /healthz (0: any free port)."
    )


class Config(Strict):
    """The whole configuration file."""

    database: str = Field("sqlite:///var/sentinel.db", description="SQLAlchemy URL.")
    timezone: str = Field(
        "Asia/Shanghai", description="Time zone for deadlines, digests and display."
    )
    watchlists: list[str] = Field(
        default_factory=lambda: [str(BUILTIN_WATCHLISTS / "*.yaml")],
        description="Watchlist files or globs.",
    )
    sources: list[ConfiguredSource] = Field(default_factory=list, description="What to watch.")
    smtp: SmtpConfig | None = Field(
        None, description="Mail server; without it mail stays in the outbox."
    )
    recipients: dict[str, RecipientGroupConfig] = Field(
        default_factory=dict,
        description="Named groups of addresses: office, leaders, superior, units… Each is a list of "
        "addresses or {label: 院领导, to: [...]}.",
    )
    escalation: list[EscalationRule] = Field(default_factory=list, description="Escalation rules.")
    digests: list[DigestConfig] = Field(default_factory=list, description="Scheduled digests.")
    var_dir: str = Field("var", description="Folder for the database, caches, mail and snapshots.")
    user_agent: str = Field(
        "sentinel/0.1 (public-opinion monitor)", description="User-Agent sent to every site."
    )
    contact: str | None = Field(None, description="Contact address added to the User-Agent.")
    browser_path: str | None = Field(
        None,
        description="Chromium for sources with render: true, when it is not found by itself "
        "(default: Debian's chromium on the PATH). Never downloaded.",
    )
    console_url: str | None = Field(
        None, description="Base URL of the web console, for links in mail."
    )
    incidents: IncidentSettings = Field(
        default_factory=IncidentSettings,
        description="Incident clustering, tracking and playbooks (docs/incidents.md).",
    )
    notify: NotifySettings = Field(
        default_factory=NotifySettings,
        description="Notification timers, routes, quiet hours, masking and chat webhooks.",
    )
    health: HealthSettings = Field(
        default_factory=HealthSettings,
        description="When a failing source counts as down and the office is told.",
    )
    backoff: BackoffSettings = Field(
        default_factory=BackoffSettings,
        description="How a failing source is retried: its interval × 2ⁿ, capped, with jitter.",
    )
    metrics: MetricsConfig | None = Field(
        None,
        description="Serve Prometheus text at /metrics and /healthz from `sentinel run`: {host, port}.",
    )
    web: WebConfig = Field(default_factory=WebConfig, description="The web console: host, port.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Logs as readable lines (text) or one JSON object per line (json)."
    )
    crawl_queue: str | None = Field(
        None,
        description="redis://host:6379/0: site crawls go to `sentinel worker` processes through Redis.",
    )
    crawl_queue_prefix: str = Field(
        "sentinel", description="Prefix of the crawl queue's Redis keys."
    )

    # Filled in by load(): where the file was, to resolve relative paths.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    # The file itself (None for the built-in defaults): what the daemon watches and reloads.
    _file: Path | None = PrivateAttr(None)

    @property
    def file(self) -> Path | None:
        return self._file

    @field_validator("crawl_queue")
    @classmethod
    def _queue(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"crawl_queue '{v}' 不是 Redis 地址，应写成 redis://主机:6379/0")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知的时区 '{v}'（例如 Asia/Shanghai）") from None
        return v

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for i, src in enumerate(self.sources):
            if src.name in seen:
                raise _error(
                    ("sources", i, "name"),
                    src.name,
                    "source_name",
                    "有两个来源都叫 '{name}'，来源名称不能重复",
                    name=src.name,
                )
            seen.add(src.name)
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
    def cache_dir(self) -> Path:
        """jieba's dictionary cache and the like, under ``var_dir``."""
        return self.var_path / "cache"

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path resolved against the config's folder."""
        prefix = "sqlite:///"
        if self.database.startswith(prefix) and not self.database.startswith(prefix + "/"):
            rest = self.database[len(prefix) :]
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

    @field_validator("recipients", mode="before")
    @classmethod
    def _groups(cls, v):
        # A plain list of addresses is the short form of {to: [...]}.
        if isinstance(v, dict):
            return {k: {"to": g} if isinstance(g, list) else g for k, g in v.items()}
        return v

    def addresses(self, names: list[str]) -> list[str]:
        """Expand recipient group names into addresses; plain addresses pass through."""
        out: list[str] = []
        for n in names:
            group = self.recipients.get(n)
            for a in group.to if group else ([n] if "@" in n else []):
                if a not in out:
                    out.append(a)
        return out

    def group_label(self, name: str) -> str:
        """What the office calls a recipient group: its configured label, the plan's
        name for office/leaders/superior, else the name as written."""
        group = self.recipients.get(name)
        if group and group.label:
            return group.label
        return RecipientGroup.label_of(name)

    def unknown_group(self, name: str) -> bool:
        """A name that is neither a configured group nor an e-mail address."""
        return name not in self.recipients and "@" not in name

    @property
    def full_user_agent(self) -> str:
        return f"{self.user_agent} {self.contact}" if self.contact else self.user_agent


def _hint(doc: yamlpos.PositionedDoc) -> Callable[[dict], str]:
    """For an unknown key at the top level or anywhere in a source: the allowed keys."""

    def hint(err: dict) -> str:
        loc = err["loc"]
        if err["type"] != "extra_forbidden" or not (len(loc) == 1 or loc[0] == "sources"):
            return ""
        model = _model_at(doc.data, loc[:-1])
        if model is None:
            return ""
        keys = "、".join(f.alias or n for n, f in model.model_fields.items() if n != "base_dir")
        if len(loc) == 3 and loc[0] == "sources":
            return f"{doc.data['sources'][loc[1]]['type']} 类型的来源可用的键：{keys}"
        return f"可用的键：{keys}"

    return hint


def _model_at(data: Any, path: tuple) -> type[BaseModel] | None:
    """The model whose keys apply at ``path`` of the config document."""
    model: type[BaseModel] | None = Config
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(part, int):  # an item of a list: the list's model, or its source type's
            if model is SourceConfig:
                kind = source_types().get(node.get("type")) if isinstance(node, dict) else None
                model = kind.config_model if kind else None
            continue
        field = model.model_fields.get(part) if model else None
        model = _submodel(field.annotation) if field else None
    return model


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if (found := _submodel(arg)) is not None:
            return found
    return None


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
                str(path),
                1,
                1,
                "找不到配置文件 (config file not found)；可复制 sentinel.example.yaml 后修改",
            )
        cfg = Config(base_dir=Path.cwd())
        set_office_zone(cfg.tz)
        return cfg
    doc = yamlpos.load_file(path, ConfigError)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ConfigError(str(path), 1, 1, "配置文件应由“键: 值”组成（database:、sources: ……）")
    cfg = yamlpos.validate(doc, Config, ConfigError, hint=_hint(doc))
    cfg.base_dir = path.resolve().parent
    cfg._file = path.resolve()
    check_groups(cfg, doc)
    set_office_zone(cfg.tz)
    return cfg  # type: ignore[return-value]


def salvage(path: str | os.PathLike | None = None) -> Config | None:
    """What can still be read of a file that does not load (``sentinel status`` with a
    broken edit): its database, folders and zone, and each source that validates on its
    own. None when not even its YAML can be read."""
    import yaml

    path = Path(path or os.environ.get("SENTINEL_CONFIG") or DEFAULT_PATH)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(data, dict):
        return None
    keep = {k: data[k] for k in ("database", "var_dir", "timezone") if isinstance(data.get(k), str)}
    sources = []
    for item in data.get("sources") or []:
        try:
            src = validate_source(item)
        except (ValidationError, SentinelError):
            continue
        if all(s.name != src.name for s in sources):
            sources.append(src)
    try:
        cfg = Config(**keep, sources=sources)
    except ValidationError:
        cfg = Config(sources=sources)
    cfg.base_dir = path.resolve().parent
    return cfg
