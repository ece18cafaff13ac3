"""Read watchlist files, validate them and merge them into one ``Watchlist``.

Every problem is a ``WatchlistError`` at ``FILE:LINE:COL`` of the offending node:
YAML syntax, unknown or missing keys, bad values, and the checks across files
(duplicate ids, a rule naming a topic that does not exist).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from core import yamlpos
from core.errors import WatchlistError
from core.vocabulary import Category
from watchlists.schema import (
    REF_HELP,
    Entity,
    Exclusion,
    Rule,
    Thresholds,
    Topic,
    WatchlistFile,
)


@dataclass
class Watchlist:
    """All watchlist files merged: what the matcher is built from."""

    entities: list[Entity] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    thresholds: Thresholds = field(default_factory=Thresholds)
    files: list[str] = field(default_factory=list)
    version: str = ""


def _hint(model_fields: dict):
    def hint(err: dict) -> str:
        if err["type"] != "extra_forbidden":
            return ""
        loc = err["loc"]
        allowed = {
            None: WatchlistFile,
            "entities": Entity,
            "topics": Topic,
            "exclusions": Exclusion,
            "rules": Rule,
            "thresholds": Thresholds,
        }
        section = loc[0] if len(loc) > 1 else None
        model = allowed.get(section)
        if model is None:
            return ""
        if section == "thresholds" and len(loc) > 2:
            from watchlists.schema import SeverityThresholds

            model = SeverityThresholds
        keys = [f.alias or n for n, f in model.model_fields.items()]
        return "可用的键：" + "、".join(keys)

    return hint


def load_file(path: str | Path) -> tuple[WatchlistFile, yamlpos.PositionedDoc]:
    """Parse and validate one file (no checks across files)."""
    doc = yamlpos.load_file(path, WatchlistError)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise WatchlistError(doc.file, 1, 1, "监测词表应由“键: 值”组成（entities:、topics: ……）")
    wl = yamlpos.validate(doc, WatchlistFile, WatchlistError, hint=_hint({}))
    _check_file(wl, doc)  # type: ignore[arg-type]
    return wl, doc  # type: ignore[return-value]


def _err(doc: yamlpos.PositionedDoc, loc: tuple, message: str) -> WatchlistError:
    line, col = doc.where(loc)
    return WatchlistError(doc.file, line, col, message)


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _check_file(wl: WatchlistFile, doc: yamlpos.PositionedDoc) -> None:
    for i, e in enumerate(wl.entities):
        for j, (name, role, _f, _p) in enumerate(e.all_names()):
            if len(name) < 2:
                raise _err(
                    doc,
                    ("entities", i, "name"),
                    f"名称 '{name}' 太短（至少 2 个字）",
                )
        for j, x in enumerate(e.initials):
            if len(x) < 2:
                raise _err(doc, ("entities", i, "initials", j), f"缩写 '{x}' 太短")
    for i, t in enumerate(wl.topics):
        for j, term in enumerate(t.terms):
            if len(term) < 2 and _is_cjk(term):
                raise _err(
                    doc,
                    ("topics", i, "terms", j),
                    f"词语 '{term}' 只有一个字，几乎每篇帖子都会命中；请用两个字以上的词",
                )
    for i, r in enumerate(wl.rules):
        for key in ("all", "any", "none"):
            for j, ref in enumerate(getattr(r, key)):
                if ref.startswith("category:") and Category.get(ref.split(":", 1)[1]) is None:
                    raise _err(
                        doc,
                        ("rules", i, key, j),
                        f"'{ref}' 中的类别未知，可选：{', '.join(Category.keys())}",
                    )
                if ":" in ref and ref.split(":", 1)[0] not in ("topic", "category", "entity"):
                    raise _err(
                        doc, ("rules", i, key, j), f"无法识别的条件 '{ref}'；可写：{REF_HELP}"
                    )


def load(paths: list[Path]) -> Watchlist:
    """Load and merge watchlist files. Raises WatchlistError for the first problem."""
    if not paths:
        raise WatchlistError(
            "watchlists", 1, 1, "找不到监测词表文件（请检查 sentinel.yaml 中的 watchlists）"
        )
    merged = Watchlist()
    h = hashlib.sha256()
    entity_ids: dict[str, str] = {}
    topic_ids: dict[str, str] = {}
    thresholds_from: str | None = None
    docs: list[tuple[WatchlistFile, yamlpos.PositionedDoc]] = []
    for path in paths:
        wl, doc = load_file(path)
        docs.append((wl, doc))
        h.update(Path(path).name.encode() + b"\0" + Path(path).read_bytes() + b"\0")
        merged.files.append(str(path))
        for i, e in enumerate(wl.entities):
            if e.id in entity_ids:
                raise _err(
                    doc,
                    ("entities", i, "id"),
                    f"监测对象 id '{e.id}' 已在 {entity_ids[e.id]} 中使用",
                )
            entity_ids[e.id] = doc.file
            merged.entities.append(e)
        for i, t in enumerate(wl.topics):
            if t.id in topic_ids:
                raise _err(
                    doc,
                    ("topics", i, "id"),
                    f"话题 id '{t.id}' 已在 {topic_ids[t.id]} 中使用",
                )
            topic_ids[t.id] = doc.file
            merged.topics.append(t)
        merged.exclusions.extend(wl.exclusions)
        merged.rules.extend(wl.rules)
        if wl.thresholds is not None:
            if thresholds_from is not None:
                raise _err(
                    doc,
                    ("thresholds",),
                    f"thresholds 已在 {thresholds_from} 中设置，只能设置一次",
                )
            thresholds_from = doc.file
            merged.thresholds = wl.thresholds
    # References in rules, checked once every file is known.
    for wl, doc in docs:
        for i, r in enumerate(wl.rules):
            for key in ("all", "any", "none"):
                for j, ref in enumerate(getattr(r, key)):
                    if ref.startswith("topic:") and ref[6:] not in topic_ids:
                        known = ", ".join(sorted(topic_ids)) or "(none)"
                        raise _err(
                            doc,
                            ("rules", i, key, j),
                            f"未知的话题 '{ref[6:]}'；已有话题：{known}",
                        )
    if not merged.entities:
        wl, doc = docs[0]
        raise _err(doc, (), "所有监测词表中都没有监测对象：请在 entities: 下写明学院名称")
    merged.version = h.hexdigest()
    return merged
