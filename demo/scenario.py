"""The demo's script: which post appears on which simulated site, and when.

A story in seven strands about 江西警察学院, compressed into about three minutes at
speed 1 (the first sensitive post appears after 6 seconds):

(a) an inquiry about the canteen's prices and food (询问质疑诉求),
(b) a hype wave about the canteen, reposted and near-copied on three sites (恶意传播炒作),
(c) a fabricated rumour calling for a gathering on the sports ground (捏造诽谤煽动),
(d) a constructive suggestion about the canteen's management (建设性意见),
(e) neutral campus news naming the college (graduation, sports meet, training),
(f) noise that does not concern the college (another school with a similar name
    included), and
(g) a second wave of the canteen story after things had calmed down.

Times are scenario seconds from the world's start. ``CampusWorld`` turns its clock
(real seconds since start, or an injected clock) into scenario seconds with its
``speed`` factor, and shows only the posts whose time has come.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SITES = ("forum", "news", "tieba")
KINDS = ("inquiry", "hype", "illegal", "constructive", "neutral", "noise")


@dataclass(frozen=True)
class ScenarioPost:
    """One post of the script.

    ``appear_after`` is in scenario seconds after the world's start; a post with an
    ``age`` was already online when the world started (published ``age`` real seconds
    before). ``kind`` is the plan's category the post is written to fall into (or
    neutral/noise); ``repost_of`` names the post it copies; ``wave`` numbers the
    canteen story's waves (1, 2; 0 for everything else).
    """

    key: str
    site: str
    id: int
    appear_after: float
    title: str
    body: str
    author: str
    replies: int = 0
    views: int = 0
    kind: str = "noise"
    wave: int = 0
    repost_of: str | None = None
    age: float = 0.0
    relative_time: bool = False

    def __post_init__(self) -> None:
        if self.site not in SITES:
            raise ValueError(f"post {self.key}: unknown site {self.site!r}; use one of {SITES}")
        if self.kind not in KINDS:
            raise ValueError(f"post {self.key}: unknown kind {self.kind!r}; use one of {KINDS}")
        if self.appear_after < 0 or self.age < 0:
            raise ValueError(f"post {self.key}: appear_after and age must not be negative")

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]

    @property
    def text(self) -> str:
        """Title and body as one plain text."""
        return self.title + "\n" + "\n".join(self.paragraphs)


class Scenario:
    """An ordered script of posts with lookups by site, id and key."""

    def __init__(self, posts: Iterable[ScenarioPost]):
        self.posts: list[ScenarioPost] = sorted(
            posts, key=lambda p: (p.appear_after, -p.age, p.key)
        )
        keys: set[str] = set()
        ids: set[tuple[str, int]] = set()
        for p in self.posts:
            if p.key in keys:
                raise ValueError(f"two posts have the key {p.key!r}")
            if (p.site, p.id) in ids:
                raise ValueError(f"two posts on {p.site} have the id {p.id}")
            keys.add(p.key)
            ids.add((p.site, p.id))
        for p in self.posts:
            if p.repost_of and p.repost_of not in keys:
                raise ValueError(f"post {p.key} reposts unknown post {p.repost_of!r}")
        self._by_key = {p.key: p for p in self.posts}
        self._by_id = {(p.site, p.id): p for p in self.posts}

    def __iter__(self):
        return iter(self.posts)

    def __len__(self) -> int:
        return len(self.posts)

    @property
    def duration(self) -> float:
        """Scenario seconds until the last post has appeared."""
        return max((p.appear_after for p in self.posts), default=0.0)

    def post(self, key: str) -> ScenarioPost:
        return self._by_key[key]

    def find(self, site: str, post_id: int) -> ScenarioPost | None:
        return self._by_id.get((site, post_id))

    def visible(self, elapsed: float, site: str | None = None) -> list[ScenarioPost]:
        """Posts whose time has come after ``elapsed`` scenario seconds, newest first."""
        out = [
            p for p in self.posts if p.appear_after <= elapsed and (site is None or p.site == site)
        ]
        out.sort(key=lambda p: (p.appear_after, -p.age, p.id), reverse=True)
        return out

    def of_kind(self, kind: str) -> list[ScenarioPost]:
        return [p for p in self.posts if p.kind == kind]

    def reposts_of(self, key: str) -> list[ScenarioPost]:
        return [p for p in self.posts if p.repost_of == key]


from demo.scenario_posts import POSTS

DEFAULT_SCENARIO = Scenario(POSTS)


def default_scenario() -> Scenario:
    """The bundled scenario (immutable posts; safe to share)."""
    return DEFAULT_SCENARIO
