"""Every recipient group the config file names must be defined: a misspelt `leaderz`
is an error at its position, not a message that silently goes nowhere."""

from __future__ import annotations

from core.errors import ConfigError


def _group_references(cfg):
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


def check_groups(cfg, doc) -> None:
    """A group named in the file but defined nowhere is an error at its position (a
    misspelt `leaderz` would otherwise drop the message silently). Names the file does
    not write itself (the defaults) are checked when they are used."""
    known = "、".join(cfg.recipients) or "（recipients 中尚未定义任何组）"
    for loc, name in _group_references(cfg):
        if loc not in doc.positions:
            continue
        if cfg.unknown_group(name):
            line, col = doc.where(loc)
            raise ConfigError(
                doc.file, line, col, f"收件组“{name}”未在 recipients 中定义；已定义的组：{known}"
            )
