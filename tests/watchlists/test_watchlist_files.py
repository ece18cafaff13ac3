"""Watchlist files: the default one is valid, and every kind of mistake the office
can make is reported as FILE:LINE:COL: message at the right node."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from alerting.matcher import MatcherHolder
from core.errors import WatchlistError
from watchlists import loader

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "watchlists" / "jxpc.yaml"

MINIMAL = """\
entities:
  - id: jxpc
    name: 江西警察学院
topics:
  - id: canteen
    name: 食堂
    category: inquiry
    weight: 40
    terms: [吃出虫子]
"""


def write(tmp_path: Path, text: str, name: str = "w.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def error_of(path: Path | list[Path]) -> WatchlistError:
    with pytest.raises(WatchlistError) as exc:
        loader.load(path if isinstance(path, list) else [path])
    return exc.value


def test_default_watchlist_is_valid_and_covers_the_plan():
    wl = loader.load([DEFAULT])
    assert wl.entities[0].name == "江西警察学院"
    names = [n for n, *_ in wl.entities[0].all_names()]
    assert {"江西警院", "江西省公安专科学校", "江西公安专科学校"} <= set(names)
    assert {"Jiangxi Police College", "Jiangxi Police Institute"} <= set(wl.entities[0].english)
    ids = {t.id for t in wl.topics}
    assert {
        "canteen",
        "dormitory",
        "fees",
        "admission",
        "discipline",
        "bullying",
        "accident",
        "conduct",
        "corruption",
        "internship",
        "training",
        "gathering",
        "rumour",
    } <= ids
    assert {t.category for t in wl.topics if t.signal} == {
        "inquiry",
        "hype",
        "illegal",
        "constructive",
    }
    assert any("江西司法警官职业学院" in x.terms for x in wl.exclusions)
    assert len(wl.version) == 64


def test_default_watchlist_is_commented_in_chinese():
    text = DEFAULT.read_text(encoding="utf-8")
    comments = [
        line for line in text.splitlines() if line.lstrip().startswith("#") or " # " in line
    ]
    assert len(comments) > 30
    assert "处置类别" in text and "排除" in text


@pytest.mark.parametrize(
    "text, line, col, words",
    [
        (
            MINIMAL.replace("    weight: 40", "    weight: 40\n    colour: red"),
            9,
            5,
            ["未知的键 'colour'", "可用的键", "weight"],
        ),
        (
            MINIMAL.replace("    weight: 40", "    wieght: 40"),
            8,
            5,
            ["未知的键 'wieght'", "weight"],
        ),
        (MINIMAL.replace("category: inquiry", "category: complaint"), 7, 15, ["category"]),
        (MINIMAL.replace("weight: 40", "weight: 400"), 8, 13, ["weight", "100"]),
        (MINIMAL.replace("[吃出虫子]", "[吃]"), 9, 13, ["只有一个字"]),
        (MINIMAL.replace("    name: 食堂\n", ""), 5, 5, ["缺少必填的键 'name'"]),
        (MINIMAL.replace("terms: [吃出虫子]", "terms: [吃出虫子"), 10, 1, ["YAML 格式错误"]),
        (MINIMAL.replace("  - id: jxpc", "  - id: JX PC"), 2, 9, ["小写字母"]),
        (
            MINIMAL + "rules:\n  - name: x\n    all: [entity, topic:nope]\n    add: 5\n",
            12,
            19,
            ["未知的话题 'nope'", "canteen"],
        ),
        (MINIMAL + "rules:\n  - name: x\n    all: [entity]\n", 11, 5, ["规则须有作用"]),
        (
            MINIMAL + "rules:\n  - name: x\n    all: [entity, category:rumour]\n    add: 5\n",
            12,
            19,
            ["类别未知"],
        ),
        ("- just\n- a list\n", 1, 1, ["键: 值"]),
        (MINIMAL + "thresholds:\n  severity: {IV: 90, III: 60}\n", 11, 13, ["逐级升高"]),
    ],
)
def test_mistakes_are_reported_at_their_position(tmp_path, text, line, col, words):
    p = write(tmp_path, text)
    e = error_of(p)
    assert (e.file, e.line, e.col) == (str(p), line, col), str(e)
    for w in words:
        assert w in e.message, str(e)
    assert str(e).startswith(f"{p}:{line}:{col}: ")


def test_duplicate_ids_across_files_and_double_thresholds(tmp_path):
    a = write(tmp_path, MINIMAL, "a.yaml")
    b = write(tmp_path, MINIMAL.replace("id: jxpc", "id: other"), "b.yaml")
    e = error_of([a, b])
    assert e.file == str(b) and e.line == 5 and "话题 id 'canteen' 已在" in e.message
    c = write(tmp_path, "thresholds: {alert: 50}\n", "c.yaml")
    d = write(tmp_path, "thresholds: {alert: 60}\n", "d.yaml")
    e = error_of([a, c, d])
    assert e.file == str(d) and "只能设置一次" in e.message


def test_missing_file_no_entities_and_bad_utf8(tmp_path):
    assert error_of(tmp_path / "nope.yaml").message == "找不到文件"
    e = error_of(write(tmp_path, "topics: []\n"))
    assert "没有监测对象" in e.message
    p = tmp_path / "gbk.yaml"
    p.write_bytes("title: 江西\n".encode("gbk"))
    assert "UTF-8" in error_of(p).message


def test_files_merge_and_the_version_follows_the_content(tmp_path):
    a = write(tmp_path, MINIMAL, "a.yaml")
    b = write(
        tmp_path,
        "topics:\n  - {id: extra, name: 额外, category: hype, weight: 30, terms: [速转]}\n",
        "b.yaml",
    )
    wl = loader.load([a, b])
    assert [t.id for t in wl.topics] == ["canteen", "extra"]
    v1 = wl.version
    b.write_text(b.read_text(encoding="utf-8").replace("速转", "扩散"), encoding="utf-8")
    assert loader.load([a, b]).version != v1


def test_holder_reloads_on_change_and_keeps_the_last_good_matcher(tmp_path):
    p = write(tmp_path, MINIMAL)
    holder = MatcherHolder(lambda: [p], cache_dir=tmp_path / "cache")
    m1 = holder.get()
    assert holder.error is None
    assert holder.get() is m1  # unchanged: same object, no rebuild
    assert m1.match("江西警察学院食堂吃出虫子").alert

    # A broken edit: the last good matcher stays, the error names the position.
    p.write_text(
        MINIMAL.replace("    weight: 40", "    weight: 40\n    colour: red"), encoding="utf-8"
    )
    _bump(p)
    assert holder.get() is m1
    assert holder.error and holder.error.startswith(f"{p}:9:5: 未知的键 'colour'")

    # Fixed, with a new term: reloaded, error cleared.
    p.write_text(MINIMAL.replace("[吃出虫子]", "[吃出虫子, 拉肚子]"), encoding="utf-8")
    _bump(p)
    m2 = holder.get()
    assert m2 is not m1 and m2.version != m1.version and holder.error is None
    assert [h.term for h in m2.match("江西警察学院的同学拉肚子").hits if h.topic] == ["拉肚子"]


def test_holder_without_any_good_version_raises(tmp_path):
    p = write(tmp_path, "entities: [")
    holder = MatcherHolder(lambda: [p], cache_dir=tmp_path / "cache")
    with pytest.raises(WatchlistError):
        holder.get()
    assert holder.error and holder.error.startswith(str(p))


def test_the_daemons_matcher_keeps_the_jieba_cache_under_var_dir(tmp_path):
    from sentinel.config import Config
    from sentinel.pipeline import Pipeline
    from storage.db import Database

    cfg = Config(
        base_dir=tmp_path, watchlists=[str(DEFAULT)], database=f"sqlite:///{tmp_path / 'db.sqlite'}"
    )
    db = Database(cfg.database_url)
    holder = Pipeline(cfg, db).matchers
    holder.get()
    assert holder.cache_dir == tmp_path / "var" / "cache" == cfg.cache_dir
    assert any((tmp_path / "var" / "cache").iterdir())
    db.dispose()


def _bump(p: Path) -> None:
    # Make sure the mtime moves even on coarse file systems.
    t = time.time() + 2
    import os

    os.utime(p, (t, t))
