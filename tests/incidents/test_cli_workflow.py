"""An office member works a ticket from 报案 to 结案 with the CLI alone (real SQLite file)."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from sentinel.cli import cli


def _cfg(tmp_path):
    cfg = tmp_path / "sentinel.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'db.sqlite'}\n"
        "timezone: Asia/Shanghai\n"
        "watchlists: []\n"
        "recipients:\n  office: [yuqing@example.edu.cn]\n  leaders: [leader@example.edu.cn]\n"
        "  superior: [duty@superior.example.gov.cn]\n",
        encoding="utf-8",
    )
    return cfg


def test_office_member_works_a_ticket_from_report_to_close(tmp_path):
    cfg = _cfg(tmp_path)

    def run(*args, ok=True):
        r = CliRunner().invoke(cli, ["--config", str(cfg), *args])
        if ok:
            assert r.exit_code == 0, (args, r.output)
        return r

    def js(*args):
        return json.loads(run(*args, "--json").output)

    run("user", "add", "赵敏", "--role", "office", "--email", "zhaomin@example.edu.cn")
    run("user", "add", "李书记", "--role", "leader", "--email", "leader@example.edu.cn")
    run(
        "user",
        "add",
        "保卫处王老师",
        "--role",
        "unit",
        "--unit",
        "保卫处",
        "--email",
        "wang@example.edu.cn",
    )
    run("user", "add", "学生处张老师", "--role", "unit", "--unit", "学生处")
    assert {u["name"] for u in js("user", "list")} == {
        "赵敏",
        "李书记",
        "保卫处王老师",
        "学生处张老师",
    }

    d = js(
        "report",
        "--url",
        "https://tieba.example.com/p/123?utm_source=x",
        "--title",
        "食堂饭菜变质",
        "--note",
        "学生在贴吧反映二食堂饭菜变质，多人腹泻",
        "--by",
        "保卫处王老师",
        "--category",
        "inquiry",
    )
    assert d["opened"] and d["status"] == "reported" and d["reporter"] == "保卫处王老师"
    iid = str(d["id"])
    again = js(
        "report",
        "--url",
        "https://tieba.example.com/p/123",
        "--title",
        "同一帖",
        "--by",
        "学生处张老师",
    )
    assert not again["opened"] and str(again["id"]) == iid

    assert (
        js(
            "incident",
            "assess",
            iid,
            "--by",
            "赵敏",
            "--cause",
            "食堂卫生问题",
            "--development",
            "可能扩散到微博",
            "--severity",
            "III",
        )["status"]
        == "assessing"
    )
    e = js("incident", "escalate", iid, "--by", "赵敏", "--note", "报分管领导和上级")
    assert e["status"] == "escalated" and e["escalation"]["groups"] == ["leaders", "superior"]
    assert js("incident", "ack", iid, "--by", "李书记")["acknowledged_by"] == "李书记"
    assert js("incident", "classify", iid, "inquiry", "--by", "赵敏")["status"] == "handling"
    run("incident", "assign", iid, "赵敏", "--by", "赵敏")

    r = run("incident", "resolve", iid, "--by", "赵敏", ok=False)
    assert r.exit_code == 1 and "未完成的处置事项" in r.output
    run(
        "incident",
        "reply",
        iid,
        "--text",
        "后勤处已在贴吧答复：涉事批次食材已封存送检",
        "--by",
        "赵敏",
    )
    run("incident", "approve", iid, "--by", "李书记")
    run("incident", "publish", iid, "--by", "赵敏", "--url", "https://tieba.example.com/p/124")
    held = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    run(
        "incident",
        "meeting",
        iid,
        "--at",
        held,
        "--place",
        "二食堂",
        "--attendees",
        "后勤处、学生代表",
        "--questions",
        "饭菜是否变质",
        "--answers",
        "已送检，结果公示",
        "--by",
        "赵敏",
    )
    run("incident", "check", iid, "查找信息源", "--by", "赵敏", "--note", "发帖人为本校学生")
    run("incident", "check", iid, "positive_guidance", "--by", "赵敏", "--note", "官微发布说明")
    run("incident", "note", iid, "已约谈食堂承包方", "--by", "赵敏")
    assert js("incident", "resolve", iid, "--by", "赵敏")["status"] == "tracking"

    r = run("incident", "close", iid, "--by", "赵敏", ok=False)
    assert r.exit_code != 0  # a summary is required
    run("incident", "review", iid, "--out", str(tmp_path / "review.html"))
    run("incident", "review", iid, "--out", str(tmp_path / "review.md"))
    html = (tmp_path / "review.html").read_text(encoding="utf-8")
    assert "<svg" in html and "后勤处已在贴吧答复" in html and "李书记" in html
    assert (
        js("incident", "close", iid, "--by", "赵敏", "--note", "答复及时，舆情平息")["status"]
        == "closed"
    )

    d = js("incident", "show", iid)
    kinds = [ev["kind"] for ev in d["events"]]
    for k in (
        "reported",
        "opened",
        "assessed",
        "escalation_sent",
        "acknowledged",
        "classified",
        "check",
        "note",
        "reply_drafted",
        "reply_approved",
        "reply_published",
        "meeting",
    ):
        assert k in kinds
    steps = [ev["data"]["to"] for ev in d["events"] if ev["kind"] == "transition"]
    assert steps == ["assessing", "escalated", "handling", "tracking", "closed"]
    assert js("incidents", "--status", "closed")[0]["id"] == int(iid)
    run("report", "weekly", "--out", str(tmp_path / "weekly.html"))
    assert "网络舆情周报" in (tmp_path / "weekly.html").read_text(encoding="utf-8")

    assert (
        "已重新打开" in run("incident", "reopen", iid, "--by", "赵敏", "--note", "又有新帖").output
    )

    ev = js(
        "incident",
        "evidence",
        iid,
        "--collect",
        "--by",
        "赵敏",
        "--out",
        str(tmp_path / "pack.zip"),
    )
    assert ev["export"]["verified"]
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:
        assert "manifest.json" in z.namelist()


def test_cli_errors_are_one_line(tmp_path):
    cfg = _cfg(tmp_path)
    assert CliRunner().invoke(cli, ["--config", str(cfg), "user", "add", "x"]).exit_code == 0
    r = CliRunner().invoke(
        cli, ["--config", str(cfg), "incident", "assign", "1", "无名", "--by", "x"]
    )
    assert r.exit_code == 1 and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["--config", str(cfg), "report", "--url", "not a url", "--by", "x"])
    assert r.exit_code == 1 and "不是有效的网址" in r.output
    r = CliRunner().invoke(cli, ["--config", str(cfg), "user", "add", "甲", "--email", "bad"])
    assert r.exit_code == 1 and "电子邮件" in r.output
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "--overdue", "--json"])
    assert r.exit_code == 0 and json.loads(r.output) == []
