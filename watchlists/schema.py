"""The watchlist file format: what the office writes in ``watchlists/*.yaml``.

Four sections, each a list, plus optional thresholds:

- ``entities``: who we watch (the college), with every way people name it;
- ``topics``: sensitive terms grouped by subject, each with a weight and the plan's
  handling category (inquiry / hype / illegal / constructive);
- ``exclusions``: words that cancel a hit (another school with a similar name, another
  use of a word, an old story);
- ``rules``: AND / OR / NOT combinations with proximity that add points, force or
  suppress an alert, or set the category.

Every model forbids unknown keys, so a misspelt key is an error that names the
allowed ones (``watchlists.loader`` adds the hint and the file position).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from core.vocabulary import CategoryKey as Category
from core.vocabulary import SeverityKey as Severity

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _check_id(v: str) -> str:
    if not _ID.match(v):
        raise ValueError(f"id '{v}' 只能用小写字母、数字、- 或 _")
    return v


# A short machine name (entity or topic id), used in rules as topic:ID.
Id = Annotated[str, AfterValidator(_check_id)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _clean_term(v: str) -> str:
    v = v.strip()
    if not v:
        raise ValueError("词语不能为空")
    return v


class EntityName(Strict):
    """One name of an entity with its own matching options (overrides the entity's)."""

    name: str = Field(description="The name as people write it.")
    fuzzy: bool | None = Field(
        None, description="Also match one dropped, added or swapped character."
    )
    pinyin: bool | None = Field(None, description="Also match homophones and pinyin spellings.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _clean_term(v)


NameItem = str | EntityName


class Entity(Strict):
    """The organisation we watch and all its names."""

    id: Id = Field(description="Short machine name, e.g. jxpc.")
    name: str = Field(description="Full official name; also the first search query.")
    aliases: list[NameItem] = Field(
        default_factory=list, description="Short names and common variants."
    )
    former: list[NameItem] = Field(default_factory=list, description="Former names.")
    english: list[str] = Field(
        default_factory=list, description="English names (case and spaces ignored)."
    )
    initials: list[str] = Field(
        default_factory=list,
        description="Initialisms and mixed forms such as JX警院; matched exactly, never fuzzily.",
    )
    units: list[str] = Field(
        default_factory=list,
        description="Distinctive names of departments or units that by themselves identify the college.",
    )
    fuzzy: bool = Field(
        True, description="Default for names: tolerate one dropped, added or swapped character."
    )
    pinyin: bool = Field(
        True, description="Default for names: match homophones and pinyin spellings."
    )
    search: bool = Field(True, description="Use the names as queries of search sources.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _clean_term(v)

    @field_validator("english", "initials", "units")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        return [_clean_term(x) for x in v]

    def all_names(self) -> list[tuple[str, str, bool, bool]]:
        """(name, role, fuzzy, pinyin) for the full name, aliases and former names."""
        out = [(self.name, "name", self.fuzzy, self.pinyin)]
        for role, items in (("alias", self.aliases), ("former", self.former)):
            for it in items:
                if isinstance(it, str):
                    out.append((_clean_term(it), role, self.fuzzy, self.pinyin))
                else:
                    out.append(
                        (
                            it.name,
                            role,
                            self.fuzzy if it.fuzzy is None else it.fuzzy,
                            self.pinyin if it.pinyin is None else it.pinyin,
                        )
                    )
        return out


class Topic(Strict):
    """A group of sensitive terms about one subject."""

    id: Id = Field(description="Short machine name, used in rules as topic:ID.")
    name: str = Field(description="Name shown to the office, e.g. 食堂与食品安全.")
    category: Category = Field(description="The plan's handling category the topic points to.")
    weight: int = Field(ge=0, le=100, description="Points (0-100) a hit on this topic is worth.")
    terms: list[str] = Field(min_length=1, description="The terms; any one is a hit.")
    signal: bool = Field(
        False,
        description="True for the vocabulary of a handling category (请问, 扩散, 建议...): "
        "these decide the category before the subject topics do.",
    )
    except_: list[str] = Field(
        default_factory=list,
        alias="except",
        description="Longer words that contain a term but mean something else (打架子鼓 for 打架).",
    )
    english: list[str] = Field(
        default_factory=list,
        description="English terms for posts in English (protest, food poisoning); "
        "case, spaces and endings (-s, -ed, -ing) are handled.",
    )
    fuzzy: bool = Field(
        True, description="Also match terms with one wrong character (terms of 5+ characters)."
    )
    pinyin: bool = Field(
        True,
        description="Also match a term written in pinyin or initials (跳lou, tiaolou, xsr) "
        "or with characters that sound the same (性骚饶, terms of 3+ characters).",
    )

    @field_validator("terms", "except_", "english")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        return [_clean_term(x) for x in v]


class Exclusion(Strict):
    """Words that cancel hits: the entity inside another school's name, a word used
    in another sense, or a post that is about something else altogether."""

    name: str = Field(description="What this exclusion is for, shown in the reasons.")
    terms: list[str] = Field(min_length=1, description="Words or phrases to look for.")
    scope: Literal["entity", "topic", "post"] = Field(
        "entity",
        description="entity: cancel name hits inside these words; topic: cancel topic hits inside "
        "them; post: a post containing them is not an alert.",
    )

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        return [_clean_term(x) for x in v]


REF_HELP = "entity、topic:话题id、category:inquiry|hype|illegal|constructive，或一个普通词语"


class Rule(Strict):
    """A boolean combination of hits. References: ``entity``, ``topic:ID``,
    ``category:NAME`` or a plain word (matched like a topic term)."""

    name: str = Field(description="Name shown in the reasons.")
    all: list[str] = Field(
        default_factory=list, description="Every reference must be present (AND)."
    )
    any: list[str] = Field(default_factory=list, description="At least one must be present (OR).")
    none: list[str] = Field(default_factory=list, description="None may be present (NOT).")
    near: int | None = Field(
        None,
        ge=1,
        description="Characters: the all/any hits must lie this close to a name of the entity.",
    )
    add: int = Field(
        0, ge=-100, le=100, description="Points added to the score when the rule holds."
    )
    alert: bool | None = Field(None, description="true: always an alert; false: never an alert.")
    category: Category | None = Field(None, description="Set the handling category.")
    severity: Severity | None = Field(None, description="The severity is at least this.")

    @model_validator(mode="after")
    def _something(self) -> Rule:
        if not (self.all or self.any):
            raise ValueError("规则需要 all 或 any 条件")
        if self.add == 0 and self.alert is None and self.category is None and self.severity is None:
            raise ValueError("规则须有作用：add、alert、category 或 severity 至少写一项")
        return self


class SeverityThresholds(Strict):
    """Minimum score for each severity level."""

    IV: int = Field(40, ge=0, le=100, description="Ⅳ级 一般.")
    III: int = Field(60, ge=0, le=100, description="Ⅲ级 较大.")
    II: int = Field(80, ge=0, le=100, description="Ⅱ级 重大.")
    I: int = Field(95, ge=0, le=100, description="Ⅰ级 特别重大.")

    @model_validator(mode="after")
    def _ordered(self) -> SeverityThresholds:
        if not (self.IV <= self.III <= self.II <= self.I):
            raise ValueError("级别分数线须逐级升高：IV ≤ III ≤ II ≤ I")
        return self


class Thresholds(Strict):
    """Scoring knobs."""

    mention: int = Field(
        10, ge=0, le=100, description="Score of a post that only names the college."
    )
    alert: int = Field(40, ge=0, le=100, description="Score from which a post is an alert.")
    near: int = Field(
        30, ge=1, description="Characters: a topic hit this close to a name counts in full."
    )
    far_factor: float = Field(
        0.5, ge=0, le=1, description="Share of the weight a distant topic hit keeps."
    )
    severity: SeverityThresholds = Field(
        default_factory=SeverityThresholds, description="Severity levels."
    )


class WatchlistFile(Strict):
    """One watchlist file. Several files are merged; ids must be unique across them."""

    title: str | None = Field(None, description="What this file watches.")
    entities: list[Entity] = Field(default_factory=list, description="Who we watch.")
    topics: list[Topic] = Field(default_factory=list, description="Sensitive topics.")
    exclusions: list[Exclusion] = Field(default_factory=list, description="What cancels a hit.")
    rules: list[Rule] = Field(
        default_factory=list, description="Boolean combinations with proximity."
    )
    thresholds: Thresholds | None = Field(
        None, description="Scoring knobs (at most one file may set them)."
    )
