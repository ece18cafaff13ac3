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
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from alerting.incidents.settings import IncidentSettings
from alerting.notify.channels.smtp import SmtpConfig
from alerting.notify.settings import NotifySettings
from core import yamlpos
from core.durations import Duration, OptionalDuration
from core.errors import ConfigError
from core.times import set_office_zone
from core.vocabulary import CategoryKey, RecipientGroup, SeverityKey
from crawler.base import SourceConfig, source_types

DEFAULT_PATH = "sentinel.yaml"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BUILTIN_WATCHLISTS = PACKAGE_ROOT / "watchlists"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DigestConfig(Strict):
    """A digest of matched posts sent on a schedule."""

    name: str = Field(description="Name of the digest, e.g. daily.")
    cron: str = Field(description='Cron expression in the configured time zone, e.g. "0 8 * * *".')
    to: list[str] = Field(default_factory=lambda: ["office"], description="Recipient groups or addresses.")
    since: OptionalDuration = Field(None, description="Period covered; default: since the previous run.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(v)
        except ValueError as e:
            raise ValueError(f"cron 表达式 '{v}' 无效（{e}），例如 \"0 8 * * *\" 表示每天 8:00") from None
        return v


class EscalationLevel(Strict):
    """One level of reporting: who is told, and how long they have to acknowledge."""

    notify: list[str] = Field(description="Recipient groups or addresses told at this level.")
    ack_within: Duration = Field(1800, description="Time to acknowledge before the next level is told.")


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


def _group_references(cfg: Config):
    """Every place the file names recipient groups: (path in the YAML, name)."""
    for i, rule in enumerate(cfg.escalation):
        for j, level in enumerate(rule.levels):
            for k, n in enumerate(level.notify):
                yield ("escalation", i, "levels", j, "notify", k), n
    for i, d in enumerate(cfg.digests):
        for k, n in enumerate(d.to):
            yield ("digests", i, "to", k), n
    for i, r in enumerate(cfg.notify.routes):
        for k, n in enumerate(r.to):
            yield ("notify", "routes", i, "to", k), n
    for k, n in enumerate(cfg.notify.default_to):
        yield ("notify", "default_to", k), n
    for n in cfg.notify.channels.root:
        yield ("notify", "channels", n), n
    for k, n in enumerate(cfg.incidents.default_escalation.notify):
        yield ("incidents", "default_escalation", "notify", k), n


def _check_groups(cfg: Config, doc) -> None:
    """A group named in the file but defined nowhere is an error at its position (a
    misspelt `leaderz` would otherwise drop the message silently). Names the file does
    not write itself (the defaults) are checked when they are used."""
    known = "、".join(cfg.recipients) or "（recipients 中尚未定义任何组）"
    for loc, name in _group_references(cfg):
        if loc not in doc.positions:
            continue
        if cfg.unknown_group(name):
            line, col = doc.where(loc)
            raise ConfigError(doc.file, line, col, f"收件组“{name}”未在 recipients 中定义；已定义的组：{known}")


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
        cfg = Config(base_dir=Path.cwd())
        set_office_zone(cfg.tz)
        return cfg
    doc = yamlpos.load_file(path, ConfigError)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ConfigError(str(path), 1, 1, "配置文件应由“键: 值”组成（database:、sources: ……）")
    data = dict(doc.data or {})
    if isinstance(data.get("sources"), list):
        data["sources"] = [_load_source(doc, i) for i in range(len(data["sources"]))]
    doc.data = data
    cfg = yamlpos.validate(doc, Config, ConfigError, hint=_hint)
    cfg.base_dir = path.resolve().parent
    _check_groups(cfg, doc)
    set_office_zone(cfg.tz)
    return cfg  # type: ignore[return-value]
