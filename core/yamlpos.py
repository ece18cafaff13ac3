"""Load YAML while remembering where every node stands, so that validation errors
can point at ``FILE:LINE:COL`` of the offending key or value.

Both ``sentinel.yaml`` and the watchlists use this; pydantic's error ``loc`` tuples
are looked up in the position map built here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from core.errors import PositionedError

Pos = tuple[int, int]  # 1-based line and column


@dataclass
class PositionedDoc:
    """A parsed YAML document and the position of every path in it."""

    file: str
    data: Any
    positions: dict[tuple, Pos] = field(default_factory=dict)
    key_positions: dict[tuple, Pos] = field(default_factory=dict)

    def where(self, loc: tuple) -> Pos:
        """Best position for a path: the exact node, else the nearest parent that exists."""
        loc = tuple(loc)
        while loc:
            if loc in self.positions:
                return self.positions[loc]
            loc = loc[:-1]
        return self.positions.get((), (1, 1))

    def sub(self, path: tuple) -> PositionedDoc:
        """The document below ``path``, with positions re-rooted there."""
        n = len(path)
        node = self.data
        for p in path:
            node = node[p]
        return PositionedDoc(
            file=self.file,
            data=node,
            positions={k[n:]: v for k, v in self.positions.items() if k[:n] == path},
            key_positions={k[n:]: v for k, v in self.key_positions.items() if k[:n] == path},
        )

    def key_where(self, loc: tuple) -> Pos:
        """Position of the key itself (for 'unknown key' errors), else of its value."""
        return self.key_positions.get(tuple(loc)) or self.where(loc)


def _mark(node: yaml.Node) -> Pos:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _walk(node: yaml.Node, path: tuple, doc: PositionedDoc) -> None:
    doc.positions[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            doc.key_positions[path + (key,)] = _mark(key_node)
            _walk(value_node, path + (key,), doc)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), doc)


def load_text(text: str, file: str, error_cls: type[PositionedError]) -> PositionedDoc:
    """Parse one YAML document; a syntax error becomes ``error_cls`` with its position."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (e.problem or str(e)).strip()
        raise error_cls(file, line, col, f"YAML 格式错误：{_problem(problem)}") from None
    except yaml.YAMLError as e:
        raise error_cls(file, 1, 1, f"YAML 格式错误：{e}") from None
    doc = PositionedDoc(file=file, data=data)
    if node is not None:
        _walk(node, (), doc)
    return doc


def load_file(path: str | Path, error_cls: type[PositionedError]) -> PositionedDoc:
    """Read and parse a YAML file; unreadable files and bad UTF-8 are positioned errors."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error_cls(str(path), 1, 1, "找不到文件") from None
    except OSError as e:
        raise error_cls(str(path), 1, 1, f"无法读取文件：{e.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise error_cls(str(path), line, 1, "文件不是 UTF-8 编码，请另存为 UTF-8") from None
    return load_text(text, str(path), error_cls)


# pydantic's error types in the words of the office (the YAML files are theirs).
_KINDS = {
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字",
    "list_type": "应为列表，如 [甲, 乙]",
    "dict_type": "应为“键: 值”的形式",
    "model_type": "应为“键: 值”的形式",
    "model_attributes_type": "应为“键: 值”的形式",
    "too_short": "内容太少",
    "string_too_short": "不能为空",
}
_PROBLEMS = {
    "expected ',' or ']', but got '<stream end>'": "缺少右方括号 ]",
    "expected ',' or '}', but got '<stream end>'": "缺少右花括号 }",
    "mapping values are not allowed here": "这里不能出现冒号（值里有冒号时请加引号）",
    "found character '\\t' that cannot start any token": "不能用 Tab 缩进，请用空格",
}


def _problem(problem: str) -> str:
    for en, zh in _PROBLEMS.items():
        if problem.startswith(en):
            return zh
    return problem


def _describe(err: dict) -> str:
    kind, msg, loc = err["type"], err["msg"], err["loc"]
    name = ".".join(str(p) for p in loc) or "（顶层）"
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"未知的键 '{loc[-1]}'"
    if kind == "missing":
        return f"缺少必填的键 '{loc[-1]}'"
    if kind == "literal_error":
        return f"{name}：应为以下之一：{ctx.get('expected', '')}"
    for bound, word in (("ge", "不小于"), ("gt", "大于"), ("le", "不大于"), ("lt", "小于")):
        if kind.startswith({"ge": "greater_than_equal", "gt": "greater_than", "le": "less_than_equal",
                            "lt": "less_than"}[bound]) and bound in ctx:
            return f"{name}：应{word} {ctx[bound]}"
    if kind in _KINDS:
        return f"{name}：{_KINDS[kind]}"
    msg = msg.removeprefix("Value error, ")
    return f"{name}：{msg}"


def validate(
    doc: PositionedDoc,
    model: type[BaseModel],
    error_cls: type[PositionedError],
    hint: Callable[[dict], str] | None = None,
    context: dict | None = None,
) -> BaseModel:
    """Validate ``doc.data`` with a pydantic model; the first error becomes ``error_cls``
    at the node's position. ``hint`` may add a sentence (e.g. the allowed keys)."""
    data = doc.data if doc.data is not None else {}
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key shows up twice: as an unknown key and as a missing one. The
        # unknown key, on its own line, is what the person actually has to fix.
        typo_parents = {tuple(_clean_loc(e["loc"]))[:-1] for e in errors if e["type"] == "extra_forbidden"}
        errors = [
            e for e in errors
            if not (e["type"] == "missing" and tuple(_clean_loc(e["loc"]))[:-1] in typo_parents)
        ] or errors
        # Report the error that stands first in the file: what the user reads first.
        def position(err: dict) -> Pos:
            loc = _clean_loc(err["loc"])
            return doc.key_where(loc) if err["type"] == "extra_forbidden" else doc.where(loc)

        err = min(errors, key=position)
        line, col = position(err)
        err = dict(err, loc=_clean_loc(err["loc"]))
        message = _describe(err)
        if hint:
            extra = hint(err)
            if extra:
                message = f"{message}；{extra}"
        raise error_cls(doc.file, line, col, message) from None


def _clean_loc(loc: tuple) -> tuple:
    # pydantic puts union/tagged-union member names into loc (e.g. 'feed', 'function-after');
    # keep only parts that exist in the YAML structure.
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or "-" in p and p.startswith("function"))))
