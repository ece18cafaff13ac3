"""Load YAML while remembering where every node stands, so that validation errors
can point at ``FILE:LINE:COL`` of the offending key or value.

Both ``sentinel.yaml`` and the watchlists use this; pydantic's error ``loc`` tuples
are looked up in the position map built here.
"""

from __future__ import annotations

import re
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
        raise error_cls(file, 1, 1, f"YAML 格式错误：无法识别的写法（{e}）") from None
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
    # Said by ``_describe`` with the key's name; these words are for ``kind_words``.
    "missing": "必须填写",
    "extra_forbidden": "不是可用的选项",
}


def kind_words(kind: str) -> str | None:
    """What a pydantic error type means, in the office's words (None when we have none):
    for values typed outside YAML files, such as an action's options."""
    return _KINDS.get(kind)


# PyYAML's syntax problems in the office's words (the messages are English and name
# parser states; what the office needs is what to fix). Each pattern matches the start
# of PyYAML's ``problem``; ``{0}`` is its first group (a character, a name).
_PROBLEMS = [
    (r"expected ',' or '\]', but got '<stream end>'", "缺少右方括号 ]"),
    (r"expected ',' or '\}', but got '<stream end>'", "缺少右花括号 }"),
    (r"expected ',' or '\]', but got", "方括号 [ ] 中的列表有误：各项之间用逗号分隔，并以 ] 结尾"),
    (r"expected ',' or '\}', but got", "花括号 { } 中的内容有误：各项之间用逗号分隔，并以 } 结尾"),
    (
        r"mapping values are not allowed here",
        "这里不能出现冒号：值里有冒号时请加引号；也可能是这一行的缩进与上一行不一致",
    ),
    (r"found character '\\t' that cannot start any token", "不能用 Tab 缩进，请用空格"),
    (r"found a tab character", "不能用 Tab 缩进，请用空格"),
    (r"found character '(.)' that cannot start any token", "值不能以“{0}”开头，请给这个值加上引号"),
    (r"found unexpected end of stream", "引号没有闭合：缺少结尾的引号"),
    (
        r"found unknown escape character '?(.?)",
        "双引号中的“\\{0}”不是有效的转义；Windows 路径请改用单引号，或用正斜杠 /",
    ),
    (r"found undefined alias '?([^']*)", "引用了未定义的锚点“*{0}”；值以 * 开头时请加引号"),
    (
        r"expected alphabetic or numeric character",
        "“&”或“*”后面应是名称；值以 & 或 * 开头时请加引号",
    ),
    (
        r"expected <block end>, but found '<block sequence start>'",
        "缩进有误：这一列表项与上文的缩进没有对齐",
    ),
    (
        r"expected <block end>, but found '<block mapping start>'",
        "缩进有误：这一行与同级的键没有对齐",
    ),
    (
        r"expected <block end>, but found '-'",
        "列表项“- ”不能出现在这里：请检查缩进，或把它放在某个键下面",
    ),
    (r"expected <block end>, but found '\?'", "这一行应为“键: 值”，但上文是列表；请检查缩进"),
    (
        r"expected <block end>, but found '<scalar>'",
        "引号结束后还有多余的内容：整个值应放在一对引号里",
    ),
    (r"expected <block end>, but found '([\]}])'", "多了一个“{0}”"),
    (r"expected <block end>", "缩进有误：请检查这一行与上文的对齐"),
    (
        r"expected '<document start>', but found '<block mapping start>'",
        "缩进有误：文件的第一层键应从行首写起，不要缩进",
    ),
    (r"expected '<document start>', but found '([\]}])'", "多了一个“{0}”"),
    (r"expected '<document start>'", "这里应是新的一行“键: 值”，请检查上一行是否已写完"),
    (r"could not find expected ':'", "缺少冒号：“键: 值”的冒号后要有一个空格"),
    (r"did not find expected key", "这一行应为“键: 值”，请检查缩进和引号"),
    (r"did not find expected '-' indicator", "列表项应以“- ”开头，请检查缩进"),
    (r"did not find expected node content", "缺少值"),
    (r"expected the node content", "缺少值"),
    (r"expected a comment or a line break", "引号结束后还有多余的内容：整个值应放在一对引号里"),
    (
        r"could not determine a constructor for the tag",
        "不支持以 ! 开头的 YAML 标签，请去掉或给值加引号",
    ),
    (r"found duplicate anchor", "同一个锚点名“&”用了两次"),
    (r"found unhashable key", "键不能是列表或“键: 值”，请改成文字"),
    (
        r"while scanning a block scalar|expected chomping or indentation indicators",
        "“|”或“>”后面只能跟缩进数字或 +、-",
    ),
]


def _problem(problem: str) -> str:
    for pattern, zh in _PROBLEMS:
        m = re.match(pattern, problem)
        if m:
            return zh.replace("{0}", m.group(1)) if m.groups() else zh
    return f"无法识别的写法（{problem}）"


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
        if (
            kind.startswith(
                {
                    "ge": "greater_than_equal",
                    "gt": "greater_than",
                    "le": "less_than_equal",
                    "lt": "less_than",
                }[bound]
            )
            and bound in ctx
        ):
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
        typo_parents = {
            tuple(_clean_loc(e["loc"]))[:-1] for e in errors if e["type"] == "extra_forbidden"
        }
        errors = [
            e
            for e in errors
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
    return tuple(
        p
        for p in loc
        if not (isinstance(p, str) and ("[" in p or "-" in p and p.startswith("function")))
    )
