"""Which incident a matched post belongs to: the same story, or a new one.

A post joins an incident when it is
1. a repost or copy of one of its posts (``Post.duplicate_of_id``, set by the pipeline) —
   whatever the incident's state: a repost never opens a second incident;
2. near-duplicate text of one of its recent posts (shingle containment, so a repost with
   a comment added still counts); or
3. the same story told in other words: it names one of the incident's entities and shares
   at least ``min_shared_terms`` story terms (watchlist topic terms, not the category
   vocabulary such as 请问 or 转发) or ``min_shared_words`` story keywords (TF-IDF, names
   and generic words left out) with it — a category-3 (fabrication, incitement) or
   category-4 (suggestion) post only with an incident of its own category, unless the
   incident is under watch (tracking) or reopened, which takes any post of its story
   (the secondary crisis),
and (for 2 and 3) the incident is still open, or in tracking, and its last post lies
inside the clustering window. The best-scoring incident wins.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerting.incidents.settings import ClusteringSettings
from storage.models import Incident, IncidentPost, Match, Post

_NOISE = re.compile(r"[\W_]+", re.UNICODE)
MAX_COMPARED_POSTS = 40
# Words too common in posts about a college to say which story a post tells.
_GENERIC = frozenset(
    [
        "学校",
        "学院",
        "大家",
        "这么",
        "今天",
        "昨天",
        "什么",
        "没有",
        "一个",
        "我们",
        "他们",
        "你们",
        "现在",
        "已经",
        "真的",
        "还是",
        "这个",
        "那个",
        "自己",
        "知道",
        "网友",
        "记者",
        "同学",
        "学生",
        "老师",
        "事情",
        "问题",
        "情况",
        "相关",
        "表示",
        "目前",
        "近日",
        "本网讯",
    ]
)
_tfidf_lock = threading.Lock()
_tfidf = None


def _extractor(cache_dir: Path | None):
    """jieba's TF-IDF keyword extractor on a tokenizer of our own (its cache under var/)."""
    global _tfidf
    with _tfidf_lock:
        if _tfidf is None:
            import jieba
            import jieba.analyse

            tok = jieba.Tokenizer()
            if cache_dir is not None:
                cache_dir.mkdir(parents=True, exist_ok=True)
                tok.tmp_dir = str(cache_dir)
            tfidf = jieba.analyse.TFIDF()
            tfidf.tokenizer = tok
            _tfidf = tfidf
        return _tfidf


def story_words(post: Post, match: Match | None, cache_dir: Path | None = None) -> set[str]:
    """The post's most telling words (TF-IDF), without the college's names, the category
    vocabulary (转发, 请问...) and words every campus post uses. Kept on the post."""
    cached = (post.extra or {}).get("story_words")
    if cached is not None:
        return set(cached)
    words = set(
        _extractor(cache_dir).extract_tags(f"{post.title or ''}\n{post.text or ''}", topK=20)
    )
    drop = set()
    for h in (match.hits if match is not None else None) or ():
        if isinstance(h, dict) and (not h.get("topic") or h.get("signal")):
            drop.update(x for x in (h.get("surface"), h.get("term")) if x)
    words = {w for w in words if w not in _GENERIC and not any(w in d for d in drop)}
    post.extra = {**(post.extra or {}), "story_words": sorted(words)}
    return words


@dataclass
class StoryKey:
    """What a match says about the story: the entities named and the topic terms hit."""

    entities: set[str]
    terms: set[str]
    topics: set[str]
    category: str | None = None

    def as_list(self) -> list[str]:
        """What Incident.terms stores: the topic terms (the mails show them as they are)."""
        return sorted(self.terms)

    @classmethod
    def of_incident(cls, session: Session, incident: Incident) -> StoryKey:
        """The incident's terms, and the entities and topics of its posts' matches."""
        key = cls(set(), {str(t) for t in incident.terms or () if isinstance(t, str)}, set())
        matches = session.scalars(
            select(Match)
            .join(IncidentPost, IncidentPost.post_id == Match.post_id)
            .where(IncidentPost.incident_id == incident.id)
            .order_by(IncidentPost.id)
            .limit(200)
        )
        for m in matches:
            k = story_key(m)
            key.entities |= k.entities
            key.topics |= k.topics
        return key


def story_key(match: Match | None) -> StoryKey:
    """Entities and topic terms of a match (hits without a topic are entity hits)."""
    key = StoryKey(set(), set(), set(), match.category if match is not None else None)
    if match is None:
        return key
    for e in match.entities or ():
        name = e.get("name") or e.get("entity") if isinstance(e, dict) else e
        if name:
            key.entities.add(str(name))
    for h in match.hits or ():
        if not isinstance(h, dict):
            continue
        topic = h.get("topic")
        term = h.get("term")
        # Category vocabulary (请问, 转发, 扩散...) says how something is said, not what
        # story it is: two unrelated posts both saying 转发 are not one incident.
        if topic and term and not h.get("signal"):
            key.terms.add(str(term))
            key.topics.add(str(topic))
    return key


def shingles(text: str, n: int = 3) -> set[str]:
    s = _NOISE.sub("", (text or "").lower())
    return {s[i : i + n] for i in range(max(len(s) - n + 1, 0))}


def similarity(a: set[str], b: set[str]) -> float:
    """Containment of the smaller text in the larger (0–1): a repost with a comment is ~1."""
    if len(a) < 8 or len(b) < 8:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def post_time(post: Post, now: datetime) -> datetime:
    return post.published_at or post.fetched_at or now


def duplicate_root(session: Session, post: Post) -> int | None:
    """The earliest post of a chain of copies (the pipeline links copies to the earliest)."""
    seen: set[int] = set()
    root = post.duplicate_of_id
    while root is not None and root not in seen:
        seen.add(root)
        nxt = session.scalar(select(Post.duplicate_of_id).where(Post.id == root))
        if nxt is None:
            break
        root = nxt
    return root


@dataclass
class Placement:
    incident: Incident
    reason: str  # same_post | repost | near_duplicate | shared_terms
    similarity: float = 0.0


def find_incident(
    session: Session,
    post: Post,
    match: Match | None,
    settings: ClusteringSettings,
    now: datetime,
    cache_dir: Path | None = None,
    closed_since: datetime | None = None,
) -> Placement | None:
    """The incident this post belongs to, or None when it is a new story. Incidents
    closed after ``closed_since`` keep their watch: a post of their story (told in other
    words too, not only a repost) is placed with them — it is their second wave."""
    # Already placed (a re-run after a crash): the same answer again.
    ip = session.scalar(select(IncidentPost).where(IncidentPost.post_id == post.id))
    if ip is not None:
        return Placement(session.get(Incident, ip.incident_id), "same_post", 1.0)

    root = duplicate_root(session, post)
    if root is not None:
        family = select(Post.id).where(or_(Post.id == root, Post.duplicate_of_id == root))
        ip = session.scalar(
            select(IncidentPost)
            .where(IncidentPost.post_id.in_(family))
            .order_by(IncidentPost.id)
            .limit(1)
        )
        if ip is not None:
            return Placement(session.get(Incident, ip.incident_id), "repost", 1.0)

    t = post_time(post, now)
    since = t - timedelta(seconds=settings.window)
    live = (Incident.status != "closed") & or_(
        Incident.last_post_at >= since, Incident.status.in_(("tracking", "reopened"))
    )
    if closed_since is not None:
        live = live | ((Incident.status == "closed") & (Incident.closed_at >= closed_since))
    candidates = session.scalars(select(Incident).where(live).order_by(Incident.id.desc())).all()
    if not candidates:
        return None

    key = story_key(match)
    mine = shingles(f"{post.title or ''}{post.text or ''}")
    words = story_words(post, match, cache_dir)
    best: Placement | None = None
    best_score = 0.0
    for inc in candidates:
        score, reason, sim = _affinity(session, inc, key, mine, words, settings, cache_dir)
        if score > best_score:
            best, best_score = Placement(inc, reason, sim), score
    return best


def _affinity(
    session: Session,
    inc: Incident,
    key: StoryKey,
    mine: set[str],
    words: set[str],
    settings: ClusteringSettings,
    cache_dir: Path | None,
) -> tuple[float, str, float]:
    rows = session.execute(
        select(Post, Match)
        .join(IncidentPost, IncidentPost.post_id == Post.id)
        .outerjoin(Match, Match.post_id == Post.id)
        .where(IncidentPost.incident_id == inc.id)
        .order_by(IncidentPost.id.desc())
        .limit(MAX_COMPARED_POSTS)
    ).all()
    sim = max(
        (similarity(mine, shingles(f"{p.title or ''}{p.text or ''}")) for p, _m in rows),
        default=0.0,
    )
    if sim >= settings.near_duplicate:
        return 2.0 + sim, "near_duplicate", sim
    theirs = StoryKey.of_incident(session, inc)
    if (
        settings.require_entity
        and theirs.entities
        and key.entities
        and not (theirs.entities & key.entities)
    ):
        return 0.0, "", sim
    # An inquiry that turns into a hype wave is one story whose nature escalates. But a
    # fabrication or incitement (category 3: evidence, law enforcement) and a suggestion
    # (category 4: adopt and reply) are worked apart: told in other words, they join
    # only a ticket of their own category. A story under watch (tracking) or just
    # reopened takes any new post about it: that is the secondary crisis.
    watched = inc.status in ("tracking", "reopened", "closed")
    apart = {"illegal", "constructive"}
    if (
        not watched
        and key.category
        and inc.category
        and key.category != inc.category
        and (key.category in apart or inc.category in apart)
    ):
        return 0.0, "", sim
    shared = len(theirs.terms & key.terms)
    their_words: set[str] = set()
    for p, m in rows:
        their_words |= story_words(p, m, cache_dir)
    shared_words = len(words & their_words)
    if shared >= settings.min_shared_terms or shared_words >= settings.min_shared_words:
        return 1.0 + shared / 100 + shared_words / 1000 + sim / 10000, "shared_terms", sim
    return 0.0, "", sim
