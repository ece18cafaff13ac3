"""Which incident a matched post belongs to: the same story, or a new one.

A post joins an incident when it is
1. a repost or copy of one of its posts (``Post.duplicate_of_id``, set by the pipeline) —
   whatever the incident's state: a repost never opens a second incident;
2. near-duplicate text of one of its recent posts (shingle containment, so a repost with
   a comment added still counts); or
3. the same story told in other words: it names one of the incident's entities and shares
   at least ``min_shared_terms`` topic terms with it (story terms, not the category
   vocabulary such as 请问 or 转发), and it is not a category-3 post (fabrication,
   incitement) joining a story of another category, or the reverse,
and (for 2 and 3) the incident is still open, or in tracking, and its last post lies
inside the clustering window. The best-scoring incident wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerting.incidents.settings import ClusteringSettings
from storage.models import Incident, IncidentPost, Match, Post

_NOISE = re.compile(r"[\W_]+", re.UNICODE)
MAX_COMPARED_POSTS = 40


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
    session: Session, post: Post, match: Match | None, settings: ClusteringSettings, now: datetime
) -> Placement | None:
    """The incident this post belongs to, or None when it is a new story."""
    # Already placed (a re-run after a crash): the same answer again.
    ip = session.scalar(select(IncidentPost).where(IncidentPost.post_id == post.id))
    if ip is not None:
        return Placement(session.get(Incident, ip.incident_id), "same_post", 1.0)

    root = duplicate_root(session, post)
    if root is not None:
        family = select(Post.id).where(or_(Post.id == root, Post.duplicate_of_id == root))
        ip = session.scalar(
            select(IncidentPost).where(IncidentPost.post_id.in_(family)).order_by(IncidentPost.id).limit(1)
        )
        if ip is not None:
            return Placement(session.get(Incident, ip.incident_id), "repost", 1.0)

    t = post_time(post, now)
    since = t - timedelta(seconds=settings.window)
    candidates = session.scalars(
        select(Incident)
        .where(
            Incident.status != "closed",
            or_(Incident.last_post_at >= since, Incident.status.in_(("tracking", "reopened"))),
        )
        .order_by(Incident.id.desc())
    ).all()
    if not candidates:
        return None

    key = story_key(match)
    mine = shingles(f"{post.title or ''}{post.text or ''}")
    best: Placement | None = None
    best_score = 0.0
    for inc in candidates:
        score, reason, sim = _affinity(session, inc, key, mine, settings)
        if score > best_score:
            best, best_score = Placement(inc, reason, sim), score
    return best


def _affinity(
    session: Session, inc: Incident, key: StoryKey, mine: set[str], settings: ClusteringSettings
) -> tuple[float, str, float]:
    texts = session.execute(
        select(Post.title, Post.text)
        .join(IncidentPost, IncidentPost.post_id == Post.id)
        .where(IncidentPost.incident_id == inc.id)
        .order_by(IncidentPost.id.desc())
        .limit(MAX_COMPARED_POSTS)
    ).all()
    sim = max((similarity(mine, shingles(f"{t or ''}{x or ''}")) for t, x in texts), default=0.0)
    if sim >= settings.near_duplicate:
        return 2.0 + sim, "near_duplicate", sim
    theirs = StoryKey.of_incident(session, inc)
    if settings.require_entity and theirs.entities and key.entities and not (theirs.entities & key.entities):
        return 0.0, "", sim
    shared = len(theirs.terms & key.terms)
    if (key.category == "illegal") != (inc.category == "illegal"):
        # Fabrication and incitement (category 3) is handled apart — evidence, law
        # enforcement — so it joins another story only as a copy, never on shared terms.
        return 0.0, "", sim
    if shared >= settings.min_shared_terms:
        return 1.0 + shared / 100 + sim / 1000, "shared_terms", sim
    return 0.0, "", sim
