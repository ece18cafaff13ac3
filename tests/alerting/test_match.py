"""The matcher's behaviour: names and their evasions with exact offsets, topics,
scoring, categories, exclusions and the contract JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.matcher import Hit, MatchResult, load_matcher
from alerting.normalize import normalize
from alerting.score import apply_spread

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    return load_matcher(
        [ROOT / "watchlists" / "jxpc.yaml"], cache_dir=tmp_path_factory.mktemp("cache")
    )


def name_hit(r: MatchResult) -> Hit:
    hits = [h for h in r.hits if h.topic is None]
    assert hits, r.to_dict()
    return hits[0]


@pytest.mark.parametrize(
    "text, surface, kind",
    [
        ("消息：江西警察学院食堂", "江西警察学院", "exact"),
        ("听说江西警院宿舍", "江西警院", "exact"),
        ("原江西省公安专科学校", "江西省公安专科学校", "exact"),
        ("at Jiangxi Police College today", "Jiangxi Police College", "exact"),
        ("at jiangxi  police   college today", "jiangxi  police   college", "variant"),
        ("我在江 西 警*察 学 院上学", "江 西 警*察 学 院", "variant"),
        ("我在江西【警察】学院上学", "江西【警察】学院", "variant"),
        ("我在江🙂西🙂警🙂察🙂学🙂院上学", "江🙂西🙂警🙂察🙂学🙂院", "variant"),
        ("我在江西警察學院上學", "江西警察學院", "variant"),
        ("我在ＪＸ警院上学", "ＪＸ警院", "variant"),
        ("我在JX警院上学", "JX警院", "exact"),
        ("我在江西jing察学院上学", "江西jing察学院", "pinyin"),
        ("我在江西警察xueyuan上学", "江西警察xueyuan", "pinyin"),
        ("我在jiangxijingchaxueyuan上学", "jiangxijingchaxueyuan", "pinyin"),
        ("我在江西井察学院上学", "江西井察学院", "pinyin"),
        ("我在江西警查学院上学", "江西警查学院", "pinyin"),
        ("我在江西警学院上学", "江西警学院", "fuzzy"),
        ("我在江西察警学院上学", "江西察警学院", "fuzzy"),
    ],
)
def test_name_forms_are_found_with_offsets_into_the_original(m, text, surface, kind):
    r = m.match(text)
    assert r.mentioned
    h = name_hit(r)
    assert text[h.start : h.end] == surface
    assert h.kind == kind
    assert r.entities == ["江西警察学院"]


@pytest.mark.parametrize(
    "text",
    [
        "江西司法警官职业学院食堂吃出虫子",
        "浙江警察学院学生打架",
        "广西警察学院宿舍停电",
        "江西警官学校有人跳楼",
        "江西警官学院学费上涨",
        "我在江西，警察学院的朋友说考试很难",
        "江西警方通报一起案件，学院路封闭",
        "警察学院的学生",
        "jxnews.com.cn 江西新闻",
    ],
)
def test_other_schools_and_near_misses_are_not_mentioned(m, text):
    r = m.match(text)
    assert not r.mentioned, r.to_dict()
    assert r.to_dict()["hits"] == [] and r.score == 0 and r.severity is None


def test_latin_initials_do_not_hit_inside_words(m):
    assert not m.match("the ajx警院 thing").mentioned
    assert m.match("the jx警院 thing").mentioned
    assert not m.match("visit xjiangxi police collegex").mentioned


def test_neutral_mention_is_mentioned_but_not_an_alert(m):
    r = m.match("热烈祝贺江西警察学院2024届毕业典礼圆满举行")
    assert r.mentioned and not r.alert
    assert r.severity is None and r.category is None
    assert any("不预警" in x or "无需处置" in x for x in r.reasons)


def test_sensitive_post_is_an_alert_with_category_severity_and_chinese_reasons(m):
    text = "江西警察学院食堂吃出虫子，请问学校给个说法？"
    r = m.match(text)
    assert r.mentioned and r.alert
    assert r.category == "inquiry" and r.severity in ("IV", "III")
    assert 30 <= r.score <= 100
    topics = {h.topic for h in r.hits if h.topic}
    assert {"canteen", "inquiry-words"} <= topics
    for h in r.hits:
        assert text[h.start : h.end] == h.surface
    assert r.reasons[0].startswith("点名：")
    assert any("食堂与食品安全" in x for x in r.reasons)


@pytest.mark.parametrize(
    "text, category",
    [
        ("江西警察学院有人跳楼了，速转扩散！", "hype"),
        ("明天集合，大家一起去堵江西警察学院的校门", "illegal"),
        ("建议学校延长图书馆开放时间，江西警察学院的同学都这么想", "constructive"),
        ("请问江西警察学院的退费什么时候到账", "inquiry"),
    ],
)
def test_handling_category_follows_the_plan(m, text, category):
    r = m.match(text)
    assert r.alert and r.category == category, r.reasons


def test_incitement_is_at_least_level_three(m):
    r = m.match("江西警察学院全体学生明天罢课，约好了去行政楼静坐，速转")
    assert r.alert and r.category == "illegal"
    assert r.severity in ("III", "II", "I")


def test_topic_terms_inside_the_name_or_longer_words_do_not_count(m):
    r = m.match("江西警察学院的同学在打架子鼓")
    assert not [h for h in r.hits if h.topic == "bullying"]
    r = m.match("江西警察学院")
    assert [h.topic for h in r.hits] == [None]


def test_distant_topic_counts_half(m):
    near = m.match("江西警察学院有人打架")
    far = m.match("江西警察学院" + "今天天气很好我们去公园散步" * 5 + "有人打架")
    assert near.score > far.score > 10


def test_title_is_matched_with_its_own_offsets(m):
    r = m.match("有人坠楼，求扩散", title="江西警察学院出大事了")
    h = name_hit(r)
    assert h.field == "title" and (h.start, h.end) == (0, 6)
    t = next(x for x in r.hits if x.topic == "accident")
    assert t.field == "text" and (t.start, t.end) == (2, 4)
    assert r.alert and r.category == "hype"


def test_contract_json_shape(m):
    d = m.match("江西警院宿舍停电").to_dict()
    assert set(d) >= {"mentioned", "alert", "score", "severity", "category", "entities", "hits"}
    for h in d["hits"]:
        assert set(h) >= {"term", "kind", "start", "end", "topic", "weight"}
        assert h["kind"] in ("exact", "variant", "fuzzy", "pinyin")
    empty = m.match("今天天气不错").to_dict()
    assert empty["mentioned"] is False and empty["hits"] == [] and empty["severity"] is None


def test_empty_and_odd_input(m):
    assert not m.match("").mentioned
    assert not m.match("   \n\t ").mentioned
    assert not m.match("😀" * 1000).mentioned
    r = m.match("江西警察学院" * 200)
    assert r.mentioned and len([h for h in r.hits if h.topic is None]) == 200


def test_entity_names_for_search_queries(m):
    names = m.entity_names()
    assert names[0] == "江西警察学院"
    assert "江西警院" in names and "Jiangxi Police College" in names
    assert "JX警院" not in names


def test_version_is_a_stable_content_hash(tmp_path):
    a = load_matcher([ROOT / "watchlists" / "jxpc.yaml"], cache_dir=tmp_path)
    b = load_matcher([ROOT / "watchlists" / "jxpc.yaml"], cache_dir=tmp_path)
    assert a.version == b.version and len(a.version) == 64


def test_jieba_cache_lives_in_the_given_folder(tmp_path):
    load_matcher([ROOT / "watchlists" / "jxpc.yaml"], cache_dir=tmp_path / "c")
    assert any((tmp_path / "c").iterdir())
    assert not list((ROOT / "alerting").glob("*.cache"))


def test_normalize_keeps_offsets():
    n = normalize("江 西【警察】學院ＡＢ c😀d")
    assert n.text == "江西警察学院abcd"
    for i, ch in enumerate(n.text):
        assert normalize(n.original[n.offsets[i]]).text == ch
    assert n.span(0, 6) == (0, 9)


def test_apply_spread_raises_score_and_severity():
    assert apply_spread(35, "IV", 0, 1, 0) == (35, "IV")
    score, sev = apply_spread(35, "IV", posts_per_hour=120, sites=12, engagement=200_000)
    assert score == 95 and sev == "I"
    score, sev = apply_spread(50, "III", posts_per_hour=6, sites=1, engagement=0)
    assert (score, sev) == (55, "III")
    assert apply_spread(10, None, 200, 20, 10**6) == (70, None)
    assert apply_spread(99, "II", 200, 20, 10**6) == (100, "I")
