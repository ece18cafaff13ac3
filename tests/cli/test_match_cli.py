"""The commands as the office runs them: watchlist check, match (text, stdin, --json,
--jsonl) and backtest against a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentinel.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "watchlists" / "jxpc.yaml"


@pytest.fixture
def config(tmp_path):
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        f"database: sqlite:///{tmp_path / 'db.sqlite'}\nwatchlists: [{DEFAULT}]\nvar_dir: {tmp_path / 'var'}\n",
        encoding="utf-8",
    )
    return p


def run(config, *args, input=None):
    return CliRunner().invoke(
        cli, ["--config", str(config), *args], input=input, catch_exceptions=False
    )


def test_watchlist_check_ok_in_chinese(config):
    r = run(config, "watchlist", "check")
    assert r.exit_code == 0, r.output
    assert "监测词表检查通过" in r.output and "1 个文件" in r.output


def test_watchlist_check_reports_every_broken_file_and_exits_1(config, tmp_path):
    bad1 = tmp_path / "bad1.yaml"
    bad1.write_text("entities:\n  - id: x\n    nmae: 江西警察学院\n", encoding="utf-8")
    bad2 = tmp_path / "bad2.yaml"
    bad2.write_text("topics: [\n", encoding="utf-8")
    r = run(config, "watchlist", "check", str(bad1), str(DEFAULT), str(bad2))
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{bad1}:2:5: ") or lines[0].startswith(f"{bad1}:3:5: ")
    assert lines[1].startswith(f"{bad2}:") and "YAML 格式错误" in lines[1]
    r = run(config, "watchlist", "check", str(bad1), "--json")
    assert r.exit_code == 1 and json.loads(r.output)["ok"] is False


def test_match_json_is_the_contract(config):
    text = "江 西 警*察 学 院食堂吃出虫子，请问有没有人管？"
    r = run(config, "match", text, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["mentioned"] is True and d["alert"] is True
    assert d["severity"] in ("I", "II", "III", "IV") and d["category"] == "inquiry"
    assert d["entities"] == ["江西警察学院"]
    name = d["hits"][0]
    assert (name["kind"], text[name["start"] : name["end"]]) == ("variant", "江 西 警*察 学 院")
    assert all({"term", "kind", "start", "end", "topic", "weight"} <= set(h) for h in d["hits"])


def test_match_reads_stdin_and_prints_chinese(config):
    r = run(config, "match", input="热烈祝贺江西警察学院毕业典礼圆满举行")
    assert r.exit_code == 0
    assert "提及，无需处置" in r.output and "理由" in r.output
    r = run(config, "match", "浙江警察学院学生打架")
    assert "未提到监测对象" in r.output


def test_match_jsonl_keeps_order_and_survives_bad_lines(config):
    lines = [
        json.dumps(
            {"id": "a", "title": "江西警院出事了", "text": "有人跳楼，速转"}, ensure_ascii=False
        ),
        json.dumps({"id": 2, "text": "今天天气不错"}, ensure_ascii=False),
        "not json",
        json.dumps({"id": "c", "text": "江西司法警官职业学院食堂"}, ensure_ascii=False),
    ]
    r = run(config, "match", "--jsonl", input="\n".join(lines) + "\n")
    assert r.exit_code == 0
    out = [json.loads(x) for x in r.output.strip().splitlines()]
    assert [o.get("id") for o in out] == ["a", 2, None, "c"]
    assert out[0]["alert"] and out[0]["category"] == "hype"
    assert out[1]["mentioned"] is False and out[3]["mentioned"] is False
    assert "error" in out[2]


def test_backtest_reports_added_and_dropped_against_recorded_matches(config, tmp_path):
    from sentinel import config as config_mod
    from storage.db import Database
    from storage.models import Match, Post, Source

    cfg = config_mod.load(config)
    db = Database(cfg.database_url)
    now = datetime.now(UTC)
    with db.session() as s:
        src = Source(name="forum", type="site")
        s.add(src)
        s.flush()
        texts = [
            ("江西警察学院食堂吃出虫子，请问有没有人管", None),  # never matched -> added
            ("江西警察学院毕业典礼", True),  # recorded as alert, now not -> dropped
            ("今天天气不错", False),  # unchanged
            ("江西警院有人跳楼，速转扩散", True),  # alert both times, score differs -> changed
        ]
        for k, (text, was_alert) in enumerate(texts):
            p = Post(
                source_id=src.id,
                url=f"https://f.example/{k}",
                title="",
                text=text,
                content_hash=str(k),
                fetched_at=now,
            )
            s.add(p)
            s.flush()
            if was_alert is not None:
                s.add(
                    Match(
                        post_id=p.id,
                        watchlist_version="old",
                        mentioned=bool(was_alert),
                        alert=was_alert,
                        score=50 if was_alert else 0,
                        category="inquiry" if was_alert else None,
                    )
                )
    db.dispose()
    r = run(config, "backtest", "--since", "30d", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["counts"]["posts"] == 4 and d["counts"]["unrecorded"] == 1
    assert [x["id"] for x in d["added"]] == [1]
    assert [x["id"] for x in d["dropped"]] == [2]
    assert [x["id"] for x in d["changed"]] == [4]
    r = run(config, "backtest", "--since", "30d")
    assert r.exit_code == 0 and "新增预警 1 条，取消预警 1 条" in r.output
