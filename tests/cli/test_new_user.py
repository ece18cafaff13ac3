"""A new user's mistakes, each answered with one clear Chinese line and a sensible exit
status — never a traceback. Real SQLite files; servers on 127.0.0.1 only."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentinel.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "watchlists" / "jxpc.yaml"


def _write_config(tmp_path: Path, extra: str = "") -> Path:
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        f"database: sqlite:///{tmp_path / 'db.sqlite'}\nwatchlists: [{DEFAULT}]\nvar_dir: {tmp_path / 'var'}\n"
        + extra,
        encoding="utf-8",
    )
    return p


@pytest.fixture
def config(tmp_path):
    return _write_config(tmp_path)


def run(config, *args, input=None):
    return CliRunner().invoke(
        cli, ["--config", str(config), *args], input=input, catch_exceptions=False
    )


def one_line_error(result, code: int = 1) -> str:
    out = result.output.strip()
    assert result.exit_code == code, result.output
    assert "Traceback" not in out and "\n" not in out, out
    return out


@pytest.fixture
def incident(config):
    """A ticket opened the way a unit opens one: a manual report (报案)."""
    assert run(config, "user", "add", "王五", "--role", "unit", "--unit", "后勤处").exit_code == 0
    assert run(config, "user", "add", "张三", "--role", "office").exit_code == 0
    r = run(
        config,
        "report",
        "--url",
        "https://forum.example.com/t/1",
        "--title",
        "食堂涨价",
        "--by",
        "王五",
        "--json",
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.output)["id"]


# -- files the user asked for ---------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ("digest", "--out", "{bad}/d.html"),
        ("report", "weekly", "--out", "{bad}/w.html"),
        ("incident", "review", "{id}", "--out", "{bad}/r.html"),
        ("incident", "evidence", "{id}", "--collect", "--by", "张三", "--out", "{bad}/e.zip"),
    ],
)
def test_unwritable_out_path_is_one_line(config, incident, tmp_path, args):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")  # a file where a folder should be: the folder cannot be created
    args = [a.format(bad=blocker, id=incident) for a in args]
    out = one_line_error(run(config, *args))
    assert out.startswith("错误：无法写入") and str(blocker) in out


def test_out_path_that_is_a_folder_is_one_line(config, tmp_path):
    out = one_line_error(run(config, "digest", "--out", str(tmp_path)))
    assert "文件夹" in out


# -- periods -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cmd", [("digest",), ("posts",), ("backtest",)])
def test_wrong_since_is_a_chinese_usage_error(config, cmd):
    r = run(config, *cmd, "--since", "yesterday")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "'--since'" in r.output and "不是时间段" in r.output


def test_digest_since_takes_a_date_like_posts(config):
    r = run(config, "digest", "--since", "2020-01-01", "--json")
    assert r.exit_code == 0, r.output
    assert "subject" in json.loads(r.output)


def test_wrong_silence_duration_is_chinese(config):
    r = run(config, "silence", "add", "--term", "食堂", "--for", "soon", "--by", "张三")
    assert (
        r.exit_code == 2 and "不是有效的时间段" in r.output and "is not a duration" not in r.output
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the database -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url, words",
    [
        ("postgresql+psycopg://office:s3cret@127.0.0.1:{port}/sentinel", "连接被拒绝"),
        ("mysql://office@127.0.0.1/sentinel", "不支持的数据库"),
        ("not a url", "数据库地址"),
    ],
)
def test_unreachable_or_unsupported_database_is_one_chinese_line(tmp_path, url, words):
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        f'database: "{url.format(port=_free_port())}"\nwatchlists: [{DEFAULT}]\n', encoding="utf-8"
    )
    for cmd in (("incidents",), ("status", "--json"), ("user", "list")):
        out = one_line_error(run(p, *cmd))
        assert out.startswith("错误：") and words in out
        assert "s3cret" not in out and "sqlalche.me" not in out


def test_sqlite_folder_that_cannot_be_created_is_one_line(tmp_path):
    (tmp_path / "var").write_text("a file, not a folder")
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        f"database: sqlite:///var/db/sentinel.db\nwatchlists: [{DEFAULT}]\n", encoding="utf-8"
    )
    out = one_line_error(run(p, "incidents"))
    assert "无法创建数据库文件夹" in out


# -- tickets and silences -----------------------------------------------------------------------
def test_missing_incident_is_one_line_for_every_action(config, incident):
    for args in (
        ("show", "999"),
        ("ack", "999", "--by", "张三"),
        ("note", "999", "x", "--by", "张三"),
        ("review", "999", "--out", "r.html"),
        ("evidence", "999"),
    ):
        out = one_line_error(run(config, "incident", *args))
        assert "没有编号为 999 的事件" in out


def test_classify_says_the_category_in_chinese(config, incident):
    r = run(config, "incident", "classify", str(incident), "hype", "--by", "张三")
    assert (
        r.exit_code == 0 and "已定性为第二类（恶意传播炒作）" in r.output and "hype" not in r.output
    )


def test_unknown_user_is_named(config, incident):
    out = one_line_error(run(config, "incident", "assign", str(incident), "无名", "--by", "张三"))
    assert "没有名为 '无名' 的用户" in out


def test_silence_on_a_missing_incident_is_refused(config, incident):
    out = one_line_error(run(config, "silence", "add", "--incident", "999", "--by", "张三"))
    assert "没有编号为 999 的事件" in out
    r = run(config, "silence", "add", "--incident", str(incident), "--json", "--by", "张三")
    assert r.exit_code == 0 and json.loads(r.output)["value"] == str(incident)


def test_silence_on_an_unknown_source_warns(config):
    assert run(config, "user", "add", "张三", "--role", "office").exit_code == 0
    r = run(config, "silence", "add", "--source", "colege-bar", "--by", "张三")
    assert r.exit_code == 0 and "没有名为 'colege-bar' 的来源" in r.output


def test_weekly_report_needs_at_least_one_day(config, tmp_path):
    r = run(config, "report", "weekly", "--out", str(tmp_path / "w.md"), "--days", "0")
    assert r.exit_code == 2 and not (tmp_path / "w.md").exists()


def test_backtest_leaves_manual_reports_out(config, incident):
    r = run(config, "backtest", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["counts"]["posts"] == 0 and report["dropped"] == []


# -- no config file --------------------------------------------------------------------------------
def test_no_config_file_in_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    r = CliRunner().invoke(cli, ["config", "check"], catch_exceptions=False)
    assert r.exit_code == 2
    assert r.output.strip().startswith("sentinel.yaml:1:1: 找不到配置文件")
    r = CliRunner().invoke(cli, ["incidents", "--json"], catch_exceptions=False)
    assert r.exit_code == 0
    assert json.loads(r.stdout) == [] and "没有 sentinel.yaml" in r.stderr


def test_missing_named_config_is_a_positioned_chinese_line(tmp_path):
    out = one_line_error(run(tmp_path / "nope.yaml", "status"), code=2)
    assert out.startswith(f"{tmp_path / 'nope.yaml'}:1:1: 找不到配置文件")


def test_config_check_json_and_hidden_password(tmp_path):
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        'database: "postgresql+psycopg://office:s3cret@db.example/sentinel"\nwatchlists: [none/*.yaml]\n',
        encoding="utf-8",
    )
    r = run(p, "config", "check", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["ok"] and "s3cret" not in r.output and any("没有匹配到" in n for n in d["notes"])


# -- match -------------------------------------------------------------------------------------------
def test_match_with_empty_input_says_so(config):
    for args, stdin in ((("match",), ""), (("match", "  ", "--json"), None)):
        out = one_line_error(run(config, *args, input=stdin))
        assert out == "错误：没有要评分的文字（输入为空）"


def test_match_without_text_at_a_terminal_does_not_wait(config):
    """`sentinel match` typed alone must explain itself, not sit reading the keyboard."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    try:
        r = subprocess.run(
            [str(Path(sys.executable).parent / "sentinel"), "--config", str(config), "match"],
            check=False,
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert r.returncode == 2 and "请给出要评分的文字" in r.stderr and "Traceback" not in r.stderr


def test_match_jsonl_bad_lines_are_reported_in_chinese(config):
    r = run(
        config, "match", "--jsonl", input='not json\n[1, 2]\n{"id": 7, "text": "江西警察学院"}\n'
    )
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert (
        [x.get("line") for x in rows[:2]] == [1, 2] and rows[2]["id"] == 7 and rows[2]["mentioned"]
    )
    assert "应为" in rows[1]["error"] and "not an object" not in r.output


# -- mail -----------------------------------------------------------------------------------------------
def test_digest_send_with_the_smtp_server_down_keeps_the_message(tmp_path):
    port = _free_port()  # nothing listens there: connection refused
    p = _write_config(
        tmp_path,
        f"smtp: {{host: 127.0.0.1, port: {port}, from: yuqing@example.edu.cn, timeout: 5}}\n"
        "recipients: {office: [yuqing@example.edu.cn]}\n",
    )
    r = run(p, "digest", "--send")
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    assert "待重试 1" in r.output and "稍后自动重试" in r.output
    r = run(p, "outbox", "--json")
    rows = json.loads(r.output)
    assert [x["status"] for x in rows] == ["retry"] and "无法连接邮件服务器" in rows[0][
        "last_error"
    ]


def test_digest_send_without_smtp_says_where_the_mail_is(tmp_path):
    p = _write_config(tmp_path, "recipients: {office: [yuqing@example.edu.cn]}\n")
    r = run(p, "digest", "--send")
    assert r.exit_code == 0 and "未配置 smtp" in r.output and "sentinel outbox send" in r.output


def test_digest_send_to_nobody_is_refused(config):
    out = one_line_error(run(config, "digest", "--send", "--to", "leaderz"))
    assert "没有收件人" in out and "leaderz" in out
    assert json.loads(run(config, "outbox", "--json").output) == []


def test_posts_of_an_unknown_source_is_named(config):
    out = one_line_error(run(config, "posts", "--source", "colege-bar"))
    assert "没有名为 'colege-bar' 的来源" in out


def test_a_dead_source_is_explained_in_the_offices_words(tmp_path):
    import yaml as _yaml

    p = tmp_path / "sentinel.yaml"
    p.write_text(
        _yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "var_dir": str(tmp_path / "var"),
                "sources": [
                    {
                        "name": "dead",
                        "type": "feed",
                        "url": "http://127.0.0.1:9/rss.xml",
                        "timeout": 2,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    from click.testing import CliRunner as _Runner

    from sentinel.cli import cli as _cli

    r = _Runner().invoke(_cli, ["--config", str(p), "poll"])
    assert "连接被拒绝" in r.output and "Traceback" not in r.output
    r = _Runner().invoke(_cli, ["--config", str(p), "status"])
    assert "连接被拒绝" in r.output


def test_command_line_mistakes_are_explained_in_chinese():
    from click.testing import CliRunner as _Runner

    from sentinel.cli import cli as _cli

    cases = [
        (["pol"], "没有这个命令：pol", "poll"),
        (["posts", "--limitt", "3"], "没有这个选项：--limitt", "--limit"),
        (["incident", "show", "abc"], "不是事件编号", "incident show --help"),
        (["incidents", "--status", "bogus"], "不是有效的事件状态", "已报案"),
    ]
    for args, words, more in cases:
        r = _Runner().invoke(_cli, args)
        assert r.exit_code == 2, (args, r.output)
        assert words in r.output and more in r.output, r.output
        assert "Error:" not in r.output and "Traceback" not in r.output
