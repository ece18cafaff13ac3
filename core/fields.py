"""Pydantic field types for the office's vocabulary: a field accepts the key, the label or
an alias (``炒作`` as well as ``hype``) and stores the key."""

from __future__ import annotations

from typing import Any

from core.vocabulary import Category, Role, Severity, Vocabulary


def field_type(vocab: type[Vocabulary]):
    """A pydantic field type for a vocabulary: accepts the key, the label or an alias
    (``炒作`` as well as ``hype``) and stores the key, so JSON output stays stable."""
    from typing import Annotated

    from pydantic import BeforeValidator, WithJsonSchema

    def _parse(v: Any) -> str:
        return vocab.parse(v).value

    return Annotated[
        str,
        BeforeValidator(_parse),
        WithJsonSchema({"enum": list(vocab.keys())}),
        VocabField(vocab),
    ]


class VocabField:
    """Marks a field type as one of a vocabulary's words (so a CLI or a form can offer
    the choices)."""

    def __init__(self, vocab: type[Vocabulary]):
        self.vocab = vocab


def vocabulary_of(field) -> type[Vocabulary] | None:
    """The vocabulary a pydantic field takes its words from, if any."""
    from typing import get_args

    metas = list(getattr(field, "metadata", []) or [])
    for arg in get_args(getattr(field, "annotation", None)):
        metas += list(getattr(arg, "__metadata__", ()))
    for m in metas:
        if isinstance(m, VocabField):
            return m.vocab
    return None


CategoryKey = field_type(Category)
SeverityKey = field_type(Severity)
RoleKey = field_type(Role)
