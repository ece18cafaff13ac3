"""The console's forms for the domain's action table (alerting.incidents.service):
each action's values model becomes a form, and a posted form becomes its values, the
way the CLI turns the same models into options. No rule is decided here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, get_origin

from core.fields import vocabulary_of

# Fields whose text is long enough for a text area.
LONG = {"text", "note", "cause", "state", "development", "measures", "scope", "questions",
        "answers"}  # fmt: skip


@dataclass
class FieldSpec:
    name: str
    label: str
    kind: str  # text | textarea | bool | select | list | datetime | file
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)


def fields_of(action) -> list[FieldSpec]:
    """The form fields of one action, ``by`` left out (the logged-in person acts)."""
    out = []
    for name, f in action.values.model_fields.items():
        if name == "by":
            continue
        vocab = vocabulary_of(f)
        extra = f.json_schema_extra or {}
        if extra.get("file"):
            kind = "file"
        elif vocab is not None:
            kind = "select"
        elif f.annotation is bool:
            kind = "bool"
        elif get_origin(f.annotation) is list:
            kind = "list"
        elif "datetime" in str(f.annotation):
            kind = "datetime"
        else:
            kind = "textarea" if name in LONG else "text"
        choices = [(m.value, m.label) for m in vocab] if vocab is not None else []
        out.append(FieldSpec(name, f.description or name, kind, f.is_required(), choices))
    return out


async def values_from(action, form, who_name: str) -> dict[str, Any]:
    """The values for ``service.perform`` from a posted form."""
    from alerting.incidents.files import Upload

    values: dict[str, Any] = {"by": who_name}
    for spec in fields_of(action):
        if spec.kind == "file":
            uploads = []
            for up in form.getlist(spec.name):
                if hasattr(up, "read") and getattr(up, "filename", None):
                    uploads.append(Upload(name=up.filename, data=await up.read()))
            values[spec.name] = uploads
            continue
        raw = form.get(spec.name)
        if spec.kind == "bool":
            values[spec.name] = raw in ("1", "on", "true", "yes")
        elif spec.kind == "list":
            items = [x.strip() for x in form.getlist(spec.name) for x in str(x).split(",")]
            if any(items):
                values[spec.name] = [x for x in items if x]
        elif isinstance(raw, str) and raw.strip():
            values[spec.name] = raw.strip()
    return values


def _labels() -> dict[str, tuple[str, bool]]:
    from alerting.incidents.service import ACTIONS

    out: dict[str, tuple[str, bool]] = {"title": ("标题", False), "url": ("网址", False),
                                        "file": ("截图或文件", False)}  # fmt: skip
    for action in ACTIONS.values():
        for name, f in action.values.model_fields.items():
            label = re.split("[（，]", f.description or name)[0]
            out.setdefault(name.replace("_", "-"), (label, f.annotation is bool))
    return out


_COMMAND = re.compile(r"sentinel incident (\w+)(?: \d+)?(?: --[^，。；）]*)?")
_FLAG = re.compile(r"(?:加 )?--([a-z][a-z-]*)(?: (?!并|或|后)[^\s，。；）()（]+)?")


def for_console(message: str) -> str:
    """The domain's sentence with the CLI's words (``--tracker 姓名``, ``sentinel
    incident reply 3 …``) said as the console's forms say them."""
    from alerting.incidents.service import ACTIONS

    labels = _labels()

    def command(m: re.Match) -> str:
        a = ACTIONS.get(m.group(1))
        return f"“{a.title}”操作" if a else m.group(0)

    def flag(m: re.Match) -> str:
        if m.group(1) == "by":
            return "登录"
        label, is_bool = labels.get(m.group(1), (m.group(1), False))
        return f"勾选“{label}”" if is_bool else f"“{label}”"

    return _FLAG.sub(flag, _COMMAND.sub(command, message))
