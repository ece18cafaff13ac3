"""`sentinel incidents` and `sentinel incident show` against a real SQLite file."""

from __future__ import annotations

import json

from click.testing import CliRunner

from alerting.incidents import intake
from alerting.notify.outbox import Outbox
from sentinel.cli import cli
from storage.db import Database
from tests.incidents.conftest import World


def _setup(tmp_path, clock, config):
    cfg = tmp_path / "sentinel.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'db.sqlite'}\ntimezone: Asia/Shanghai\n", encoding="utf-8"
    )
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    w = World(db, clock)
    with db.session() as s:
        p, m = w.post(
            s,
            "https://bbs.example.com/t/1",
            "食堂饭菜变质？",
            "请问江西警察学院食堂饭菜是不是变质了",
            terms=("食堂", "变质"),
        )
        intake(s, p, m, config=config, outbox=Outbox(db, config, now=clock.now), now=clock.now())
    db.dispose()
    return cfg


def test_incidents_list_and_show_json(tmp_path, clock, config):
    cfg = _setup(tmp_path, clock, config)
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert len(rows) == 1 and rows[0]["status"] == "reported" and rows[0]["category"] == "inquiry"
    iid = rows[0]["id"]
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incident", "show", str(iid), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["checklist"][0]["title"] == "网上答复处理意见"
    assert d["measured"]["first_source"]["url"] == "https://bbs.example.com/t/1"
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incident", "show", str(iid)])
    assert r.exit_code == 0 and "网上答复处理意见" in r.output and "首发来源" in r.output
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents"])
    assert "食堂饭菜变质" in r.output
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "--status", "closed", "--json"])
    assert json.loads(r.output) == []


def test_unknown_incident_is_one_clear_line(tmp_path, clock, config):
    cfg = _setup(tmp_path, clock, config)
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incident", "show", "99"])
    assert r.exit_code == 1 and "没有编号为 99 的事件" in r.output and "Traceback" not in r.output


def test_incidents_table_has_a_header_and_stays_readable_at_80_columns(tmp_path, clock, config):
    cfg = _setup(tmp_path, clock, config)
    r = CliRunner().invoke(
        cli, ["--config", str(cfg), "incidents"], env={"COLUMNS": "80"}, terminal_width=80
    )
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    from rich.cells import cell_len

    assert all(cell_len(line) <= 80 for line in lines)  # display width: a Chinese character is two
    header = next(line for line in lines if "编号" in line)
    for col in ("状态", "级别", "性质", "帖文/网站", "立案", "标题"):
        assert col in header
    assert "食堂饭菜变质" in r.output  # the title folds onto more lines, it is not cut
    assert "inquiry" not in r.output and "reported" not in r.output
