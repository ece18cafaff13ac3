"""The matcher: is this post about us, and must the office act on it?

``load_matcher(paths)`` builds a ``Matcher`` from watchlist files; ``match(text,
title)`` answers with a ``MatchResult``. The work is staged so that the common case
is cheap:

1. the prefilter (``alerting.prefilter``) looks at the raw text for anything that
   could be one of the entity's names — most posts stop here;
2. candidates are normalised with an offset map (``alerting.normalize``) and the
   names are found exactly, as variants, by pinyin/homophone and fuzzily
   (``alerting.entities``); names inside another school's name are cancelled;
3. only posts that name the entity get topic matching (``alerting.topics``: one
   automaton, jieba on windows around short terms, rapidfuzz for long terms),
   scoring (``alerting.score``) and their polarity (``alerting.sentiment``, ~0.15 ms
   a post: the other posts never pay for it).

``MatcherHolder`` keeps the current matcher for the daemon, reloading when a file
changes and keeping the last good one when an edit is broken.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerting.entities import EntityFinder, EntitySpan
from alerting.negative import language, refine
from alerting.normalize import Normalized, normalize, normalize_term
from alerting.score import Located, score
from alerting.sentiment import Sentiment, polarity
from alerting.topics import TopicFinder, TopicSpan, make_tokenizer
from core.errors import SentinelError, WatchlistError
from watchlists import loader
from watchlists.loader import Watchlist

log = logging.getLogger(__name__)


@dataclass
class Hit:
    """One hit: a name of the entity or a topic term, located in the original text."""

    term: str
    kind: str  # exact | variant | fuzzy | pinyin
    start: int
    end: int
    topic: str | None
    weight: int
    field: str  # title | text
    entity: str | None = None
    category: str | None = None
    surface: str = ""  # the text as written at [start, end)
    signal: bool = False  # a word of a category's vocabulary (请问, 转发...), not of the story

    def to_dict(self) -> dict[str, Any]:
        d = {
            "term": self.term,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "topic": self.topic,
            "weight": self.weight,
            "field": self.field,
            "surface": self.surface,
        }
        if self.entity:
            d["entity"] = self.entity
        if self.category:
            d["category"] = self.category
        if self.signal:
            d["signal"] = True
        return d


@dataclass
class MatchResult:
    mentioned: bool = False
    alert: bool = False
    score: int = 0
    severity: str | None = None
    category: str | None = None
    entities: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    sentiment: Sentiment | None = None  # computed for mentioned posts only

    def to_dict(self) -> dict[str, Any]:
        """The contract JSON of ``sentinel match --json`` (``sentiment`` is null for a
        post that does not mention the entity, unless the caller filled it in)."""
        return {
            "mentioned": self.mentioned,
            "alert": self.alert,
            "score": self.score,
            "severity": self.severity,
            "category": self.category,
            "entities": list(self.entities),
            "hits": [h.to_dict() for h in self.hits],
            "reasons": list(self.reasons),
            "sentiment": self.sentiment.to_dict() if self.sentiment else None,
        }


def post_text(text: str, title: str = "") -> str:
    """Title and body as one text, the form the polarity model reads."""
    return f"{title}\n{text}" if title and text else (title or text or "")


class Matcher:
    """Built once per watchlist version; ``match`` is thread-safe (read-only state)."""

    def __init__(self, wl: Watchlist, cache_dir: Path | None = None, *, use_language: bool = True):
        self.watchlist = wl
        self.use_language = use_language  # False: keyword weights alone (for measuring)
        self.version = wl.version
        self.entities_finder = EntityFinder(wl)
        self.prefilter = self.entities_finder.prefilter
        self.tokenizer = make_tokenizer(wl, cache_dir)
        self.topics_finder = TopicFinder(wl, self.tokenizer)
        self._entity_names = {e.id: e.name for e in wl.entities}
        self._rule_words = sorted(
            {
                r
                for rule in wl.rules
                for r in (*rule.all, *rule.any, *rule.none)
                if r != "entity" and not r.startswith(("topic:", "category:"))
            }
        )

    def entity_names(self) -> list[str]:
        """Names to put into search queries: full, short, former and English names."""
        out: list[str] = []
        for e in self.watchlist.entities:
            if not e.search:
                continue
            for name, *_ in e.all_names():
                if name not in out:
                    out.append(name)
            for name in e.english:
                if name not in out:
                    out.append(name)
        return out

    # ------------------------------------------------------------------------------------
    def match(self, text: str, title: str = "") -> MatchResult:
        text = text or ""
        title = title or ""
        gate = self.prefilter.maybe
        if not (gate(title) or gate(text)):
            return MatchResult()
        fields = [(f, normalize(s)) for f, s in (("title", title), ("text", text)) if s]
        found: list[tuple[str, Normalized, list[EntitySpan], list]] = []
        any_name = False
        for fname, n in fields:
            names = self.entities_finder.find(n)
            excl, exceptions = self.topics_finder.contexts(n)
            names = [
                e
                for e in names
                if not any(
                    x.i < e.j
                    and e.i < x.j
                    and self.watchlist.exclusions[x.exclusion].scope == "entity"
                    for x in excl
                )
            ]
            any_name = any_name or bool(names)
            found.append((fname, n, names, [excl, exceptions]))
        if not any_name:
            return MatchResult()
        return self._score(found)

    def _score(self, found) -> MatchResult:
        wl = self.watchlist
        hits: list[Hit] = []
        names_loc: list[Located] = []
        topics_loc: list[Located] = []
        words: dict[str, list[Located]] = {}
        post_excl: list[str] = []
        entities: list[str] = []
        for fname, n, names, (excl, exceptions) in found:
            blocked = [(x.i, x.j) for x in excl if wl.exclusions[x.exclusion].scope == "topic"]
            for x in excl:
                ex = wl.exclusions[x.exclusion]
                if ex.scope == "post" and ex.name not in post_excl:
                    post_excl.append(ex.name)
            for e in names:
                if self._entity_names[e.entity] not in entities:
                    entities.append(self._entity_names[e.entity])
                hits.append(
                    Hit(
                        e.term,
                        e.kind,
                        e.start,
                        e.end,
                        None,
                        0,
                        fname,
                        entity=e.entity,
                        surface=n.original[e.start : e.end],
                    )
                )
                names_loc.append(Located(fname, e.start, e.end, None, e.term, e.kind))
            tspans: list[TopicSpan] = self.topics_finder.find(n, names, blocked, exceptions)
            for t in tspans:
                topic = wl.topics[t.topic]
                hits.append(
                    Hit(
                        t.term,
                        t.kind,
                        t.start,
                        t.end,
                        topic.id,
                        topic.weight,
                        fname,
                        category=topic.category,
                        surface=n.original[t.start : t.end],
                        signal=topic.signal,
                    )
                )
                topics_loc.append(Located(fname, t.start, t.end, t.topic, t.term, t.kind))
            for w in self._rule_words:
                norm = normalize_term(w)
                k = n.text.find(norm)
                while k != -1 and norm:
                    s, e2 = n.span(k, k + len(norm))
                    words.setdefault(w, []).append(Located(fname, s, e2, None, w))
                    k = n.text.find(norm, k + 1)
        v = score(wl, names_loc, topics_loc, words, post_excl)
        hits.sort(key=lambda h: (h.field != "title", h.start, h.end))
        originals = {fname: n.original for fname, n, *_ in found}
        mood = polarity(post_text(originals.get("text", ""), originals.get("title", "")))
        refine(
            v,
            language([(fname, n) for fname, n, *_ in found], names_loc),
            mood,
            wl.thresholds,
            excluded=bool(post_excl),
            signals={wl.topics[t.topic].category for t in topics_loc if wl.topics[t.topic].signal},
            use_language=self.use_language,
        )
        return MatchResult(
            mentioned=True,
            alert=v.alert,
            score=v.score,
            severity=v.severity,
            category=v.category,
            entities=entities,
            hits=hits,
            reasons=v.reasons,
            sentiment=mood,
        )


def default_cache_dir() -> Path:
    """Where jieba's cache goes when no folder is given (tests, one-off scripts); the
    daemon and the CLI pass ``config.cache_dir``, under ``var_dir``."""
    return Path(tempfile.gettempdir()) / "sentinel-cache"


def load_matcher(paths: list[Path], cache_dir: Path | None = None) -> Matcher:
    """Build a matcher from watchlist files. Raises WatchlistError (FILE:LINE:COL)."""
    wl = loader.load([Path(p) for p in paths])
    return Matcher(wl, cache_dir=cache_dir or default_cache_dir())


class MatcherHolder:
    """The daemon's current matcher. ``get()`` reloads when a watchlist file changes
    (its list, size, mtime or content) and keeps the last good matcher when the new
    files are broken; ``error`` then holds the error line (None when all is well).
    ``cache_dir`` is where jieba keeps its dictionary cache (``config.cache_dir``)."""

    def __init__(self, resolver: Callable[[], list[Path]], cache_dir: Path | None = None):
        self.resolver = resolver
        self.cache_dir = cache_dir  # the daemon's is config.cache_dir, under var_dir
        self.error: str | None = None
        self._matcher: Matcher | None = None
        self._stamp: tuple | None = None
        self._digest: str | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> Matcher | None:
        """The matcher loaded last (None before the first ``get()``), files unchecked."""
        return self._matcher

    def _stamp_of(self, paths: list[Path]) -> tuple:
        out = []
        for p in paths:
            try:
                st = Path(p).stat()
                out.append((str(p), st.st_mtime_ns, st.st_size))
            except OSError:
                out.append((str(p), None, None))
        return tuple(out)

    def get(self) -> Matcher:
        with self._lock:
            try:
                paths = [Path(p) for p in self.resolver()]
            except SentinelError as e:
                return self._failed(e)
            stamp = self._stamp_of(paths)
            if self._matcher is not None and stamp == self._stamp:
                return self._matcher
            digest = _digest(paths)
            self._stamp = stamp
            if self._matcher is not None and digest == self._digest:
                return self._matcher  # touched but not changed
            try:
                matcher = load_matcher(paths, cache_dir=self.cache_dir)
            except WatchlistError as e:
                return self._failed(e)
            if self.error:
                log.info("监测词表已恢复正常")
            self.error = None
            self._matcher, self._digest = matcher, digest
            return matcher

    def _failed(self, exc: SentinelError) -> Matcher:
        message = str(exc)
        if message != self.error:
            log.error("监测词表有误，继续使用上一版有效词表：%s", message)
        self.error = message
        if self._matcher is None:
            raise exc
        return self._matcher


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p).encode() + b"\0")
        try:
            h.update(Path(p).read_bytes())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()


_SHARED: dict[tuple, MatcherHolder] = {}
_SHARED_LOCK = threading.Lock()


def shared_holder(resolver: Callable[[], list[Path]], cache_dir: Path | None) -> MatcherHolder:
    """One ``MatcherHolder`` per set of watchlist files in this process, for callers that
    match now and then (a report by hand in the console): the second report reuses the
    loaded matcher instead of loading jieba and the watchlists again, and an edited file
    still reloads (``get()`` checks every call). At most eight sets are kept."""
    key = (tuple(str(p) for p in resolver()), str(cache_dir))
    with _SHARED_LOCK:
        holder = _SHARED.pop(key, None) or MatcherHolder(resolver, cache_dir=cache_dir)
        _SHARED[key] = holder  # the newest last
        while len(_SHARED) > 8:
            del _SHARED[next(iter(_SHARED))]
        return holder
