"""The people commands as the office and a unit's information manager type them (real
SQLite file, a real loopback site)."""

from __future__ import annotations

import hashlib
import json

from click.testing import CliRunner
from sqlalchemy import select

from sentinel.cli import cli
from storage import web_sessions
from storage.db import Database
from storage.models import User
from storage.types import utcnow
from storage.web_sessions import SessionPolicy
from tests.incidents.test_reports import PAGE, png
from tests.servers.http import LoopbackHTTPServer


def _cfg(tmp_path, extra: str = ""):
    cfg = tmp_path / "sentinel.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'db.sqlite'}\nvar_dir: {tmp_path / 'var'}\ntimezone: Asia/Shanghai\n"
        "recipients:\n  office: [yuqing@example.edu.cn]\n  leaders: [leader@example.edu.cn]\n"
        + extra,
        encoding="utf-8",
    )
    return cfg


def _runner(cfg):
    def run(*args, ok=True, input=None, env=None):
        r = CliRunner().invoke(cli, ["--config", str(cfg), *args], input=input, env=env)
        if ok:
            assert r.exit_code == 0, (args, r.output)
        return r

    return run


def test_a_unit_reports_a_page_and_a_screenshot_and_sees_only_its_unit(tmp_path):
    cfg = _cfg(tmp_path, "incidents:\n  reports:\n    allow_private: true\n")
    run = _runner(cfg)
    run("user", "add", "赵敏", "--role", "office", "--email", "zhaomin@example.edu.cn")
    run(
        "user",
        "add",
        "刘老师",
        "--role",
        "unit",
        "--unit",
        "保卫处",
        "--email",
        "liu@example.edu.cn",
    )
    run("user", "add", "孙老师", "--role", "unit", "--unit", "学生处")
    shot = tmp_path / "截图.png"
    shot.write_bytes(png())
    with LoopbackHTTPServer() as srv:
        url = srv.add("/thread-9.html", PAGE)
        r = run(
            "report", "--url", url, "--note", "论坛有人发帖", "--file", str(shot), "--by", "刘老师"
        )
        assert srv.requests_to("/thread-9.html") == 1
    assert "已立案" in r.output and "网页快照已保存为证据" in r.output
    assert hashlib.sha256(PAGE.encode()).hexdigest() in r.output
    assert hashlib.sha256(png()).hexdigest() in r.output
    d = json.loads(run("incident", "show", "1", "--json").output)
    assert (
        d["units"] == ["保卫处"] and len(d["evidence"]) == 2 and d["reports"][0]["by"] == "刘老师"
    )
    assert [i["id"] for i in json.loads(run("incidents", "--unit", "保卫处", "--json").output)] == [
        1
    ]
    assert json.loads(run("incidents", "--unit", "学生处", "--json").output) == []
    assert json.loads(run("incidents", "--json", env={"SENTINEL_USER": "孙老师"}).output) == []
    assert len(json.loads(run("incidents", "--json", "--by", "刘老师").output)) == 1
    r = run("incident", "show", "1", "--by", "孙老师", ok=False)
    assert r.exit_code == 1 and "不属于学生处" in r.output
    r = run("incident", "attach", "1", "--file", str(shot), "--by", "孙老师", ok=False)
    assert r.exit_code == 1 and "本单位" in r.output
    bad = tmp_path / "病毒.png"
    bad.write_bytes(b"MZ" + b"\x00\x90" * 200)
    r = run("incident", "attach", "1", "--file", str(bad), "--by", "刘老师", ok=False)
    assert r.exit_code == 1 and "不是可接受的类型" in r.output and "Traceback" not in r.output
    pdf = tmp_path / "情况说明.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    assert (
        "已添加 1 份材料"
        in run("incident", "attach", "1", "--file", str(pdf), "--by", "刘老师").output
    )


def test_a_report_without_url_needs_a_title_and_a_note(tmp_path):
    run = _runner(_cfg(tmp_path))
    run("user", "add", "刘老师", "--role", "unit", "--unit", "保卫处")
    r = run("report", "--title", "群聊", "--by", "刘老师", ok=False)
    assert r.exit_code == 2 and "--note" in r.output
    r = run("report", "--title", "群聊", "--note", "QQ群里有人说要去行政楼聚集", "--by", "刘老师")
    assert "已立案" in r.output


def test_a_strangers_ack_on_the_command_line_changes_nothing(tmp_path):
    run = _runner(_cfg(tmp_path))
    run("user", "add", "赵敏", "--role", "office")
    run("report", "--title", "群聊", "--note", "QQ群里有人说要去行政楼聚集", "--by", "赵敏")
    r = run("incident", "ack", "1", "--by", "随便谁", ok=False)
    assert r.exit_code == 1 and "没有名为 '随便谁' 的用户" in r.output
    assert "随便谁" not in run("incident", "show", "1", "--json").output
    assert (
        json.loads(run("incident", "ack", "1", "--by", "赵敏", "--json").output)["acknowledged_by"]
        == "赵敏"
    )


def test_passwords_are_stored_as_argon2_hashes(tmp_path):
    cfg = _cfg(tmp_path)
    run = _runner(cfg)
    run("user", "add", "赵敏", "--role", "office")
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with db.session() as s:  # 赵敏 is signed in to the console somewhere
        sid = web_sessions.start(s, s.scalar(select(User)), utcnow())
    db.dispose()
    r = run("user", "passwd", "赵敏", "--password-stdin", input="短\n", ok=False)
    assert r.exit_code == 1 and "至少 8 个字符" in r.output
    assert (
        "已设置"
        in run(
            "user", "passwd", "赵敏", "--password-stdin", input="江西警院 correct horse\n"
        ).output
    )
    r = run("user", "passwd", "赵敏", input="one-password\nanother-one\n", ok=False)
    assert r.exit_code == 1 and "不一致" in r.output
    listed = run("user", "list", "--json").output
    assert json.loads(listed)[0]["has_password"] is True and "argon2" not in listed
    from alerting.incidents import users

    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with db.session() as s:
            # A password set on the command line ends the console sessions at once.
            assert web_sessions.find(s, sid, utcnow(), SessionPolicy()) is None
            assert s.scalar(select(User.password_hash)).startswith("$argon2id$")
            assert users.check_password(s, "赵敏", "江西警院 correct horse").name == "赵敏"
            assert users.check_password(s, "赵敏", "wrong") is None
            assert users.check_password(s, "无名", "江西警院 correct horse") is None
    finally:
        db.dispose()


def test_what_the_office_types_wrong_is_told_in_chinese(tmp_path):
    run = _runner(_cfg(tmp_path))
    run("user", "add", "赵敏", "--role", "office")
    run("report", "--title", "群聊", "--note", "QQ群里有人说要去行政楼聚集", "--by", "赵敏")
    meeting = ["--place", "活动中心", "--attendees", "学生", "--questions", "问", "--answers", "答"]
    r = run("incident", "meeting", "1", "--at", "明天", *meeting, "--by", "赵敏", ok=False)
    assert (
        r.exit_code == 1 and "--at 召开时间 应为时间，如 2026-11-25 15:00，而不是“明天”" in r.output
    )
    (tmp_path / "截图").mkdir()
    folder = run(
        "incident", "attach", "1", "--file", str(tmp_path / "截图"), "--by", "赵敏", ok=False
    )
    assert folder.exit_code == 2 and "“" + str(tmp_path / "截图") + "”是文件夹" in folder.output
    missing = run(
        "incident", "attach", "1", "--file", str(tmp_path / "没有.png"), "--by", "赵敏", ok=False
    )
    assert missing.exit_code == 1 and "找不到文件" in missing.output
    for out in (r.output, folder.output, missing.output):
        assert "Input should" not in out and "No such file" not in out and "directory" not in out
        assert "Traceback" not in out
