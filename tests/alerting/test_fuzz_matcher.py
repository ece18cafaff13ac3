"""Property-based tests of the matcher: any text — noise, or the college's names and
topic words mixed with noise, control characters, odd Unicode — is matched without an
exception, and every hit points at the text it claims to have found."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from alerting.matcher import load_matcher

ROOT = Path(__file__).resolve().parents[2]
WATCHLIST = ROOT / "watchlists" / "jxpc.yaml"
EXAMPLES = int(os.environ.get("SENTINEL_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _words() -> list[str]:
    """Entity names and topic terms of the shipped watchlist, so inputs get past the
    prefilter and through the whole matcher, not only its first gate."""
    doc = yaml.safe_load(WATCHLIST.read_text(encoding="utf-8"))
    words: list[str] = []
    for e in doc.get("entities") or []:
        for key in ("name", "short", "aliases", "former", "english", "initialisms"):
            v = e.get(key)
            words += [v] if isinstance(v, str) else [w for w in (v or []) if isinstance(w, str)]
    for t in doc.get("topics") or []:
        words += [w for w in t.get("terms") or [] if isinstance(w, str)]
    return sorted(set(words)) or ["江西警察学院"]


WORDS = _words()
noise = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
posts = st.lists(
    st.one_of(
        st.sampled_from(WORDS), noise, st.sampled_from(["\x1b[2J", "\u200b", "·", " ", "\n"])
    ),
    max_size=30,
).map("".join)


@pytest.fixture(scope="module")
def matcher(tmp_path_factory):
    return load_matcher([WATCHLIST], cache_dir=tmp_path_factory.mktemp("jieba"))


@FUZZ
@given(text=st.one_of(noise, posts), title=st.one_of(st.just(""), noise, posts))
def test_matching_any_text_never_raises_and_hits_point_into_the_text(matcher, text, title):
    r = matcher.match(text, title=title)
    event("alert" if r.alert else "mentioned" if r.mentioned else "not mentioned")
    json.dumps(r.to_dict(), ensure_ascii=False)  # the contract JSON can always be written
    assert 0 <= r.score and (r.alert <= r.mentioned)
    for h in r.hits:
        source = title if h.field == "title" else text
        assert 0 <= h.start <= h.end <= len(source)
        assert h.surface == source[h.start : h.end]


def test_the_fuzzer_reaches_past_the_prefilter(matcher):
    assert matcher.match("江西警察学院食堂吃出虫子，请问学校管不管？").mentioned
