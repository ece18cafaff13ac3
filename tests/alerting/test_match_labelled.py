"""Precision and recall of the default watchlist on the labelled set
(tests/alerting/labelled/posts.yaml), printed per category, with floors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alerting.matcher import load_matcher

ROOT = Path(__file__).resolve().parents[2]
LABELLED = Path(__file__).parent / "labelled" / "posts.yaml"
CATEGORIES = ("inquiry", "hype", "illegal", "constructive")


@pytest.fixture(scope="module")
def matcher(tmp_path_factory):
    return load_matcher(
        [ROOT / "watchlists" / "jxpc.yaml"], cache_dir=tmp_path_factory.mktemp("cache")
    )


def labelled() -> list[dict]:
    return yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["posts"]


def evaluate(matcher) -> dict:
    """Counts per label: mentioned, alert and each category (a category is predicted
    only for alerts)."""
    stats = {k: {"tp": 0, "fp": 0, "fn": 0} for k in ("mentioned", "alert", *CATEGORIES)}
    wrong = []
    for post in labelled():
        r = matcher.match(post["text"], title=post.get("title", ""))
        truth = {
            "mentioned": post["mentioned"],
            "alert": post["alert"],
            **{c: post["alert"] and post.get("category") == c for c in CATEGORIES},
        }
        pred = {
            "mentioned": r.mentioned,
            "alert": r.alert,
            **{c: r.alert and r.category == c for c in CATEGORIES},
        }
        for k, s in stats.items():
            if truth[k] and pred[k]:
                s["tp"] += 1
            elif pred[k] and not truth[k]:
                s["fp"] += 1
            elif truth[k] and not pred[k]:
                s["fn"] += 1
        if truth != pred:
            wrong.append(
                (
                    post["tag"],
                    post["text"],
                    post.get("category"),
                    r.mentioned,
                    r.alert,
                    r.category,
                    r.score,
                )
            )
    return {"stats": stats, "wrong": wrong}


def pr(s: dict) -> tuple[float, float]:
    p = s["tp"] / (s["tp"] + s["fp"]) if s["tp"] + s["fp"] else 1.0
    r = s["tp"] / (s["tp"] + s["fn"]) if s["tp"] + s["fn"] else 1.0
    return p, r


def test_labelled_set_is_large_and_covers_every_case():
    posts = labelled()
    tags = {p["tag"] for p in posts}
    assert len(posts) >= 150
    for tag in (
        "spaces",
        "punctuation",
        "brackets",
        "emoji",
        "pinyin-one",
        "initials",
        "homophone",
        "dropped",
        "swapped",
        "traditional",
        "fullwidth",
        "neutral",
        "other-school",
        *CATEGORIES,
    ):
        assert tag in tags, tag


def test_precision_and_recall_per_category(matcher, capsys):
    result = evaluate(matcher)
    with capsys.disabled():
        print(f"\nlabelled set: precision / recall (n = {len(labelled())})")
        for k, s in result["stats"].items():
            p, r = pr(s)
            print(f"  {k:<13} P={p:.2f} R={r:.2f}  (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})")
        for w in result["wrong"]:
            print("  miss:", w)
    stats = result["stats"]
    for k in ("mentioned", "alert"):
        p, r = pr(stats[k])
        assert p >= 0.97 and r >= 0.97, (k, p, r)
    for c in CATEGORIES:
        p, r = pr(stats[c])
        assert p >= 0.8 and r >= 0.8, (c, p, r)


def test_no_other_school_is_ever_mentioned(matcher):
    for post in labelled():
        if post["tag"] in ("other-school", "generic"):
            r = matcher.match(post["text"], title=post.get("title", ""))
            assert not r.mentioned, (post["text"], [h.to_dict() for h in r.hits])
