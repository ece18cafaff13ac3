"""What the office types and reads at the command line: groups by their names, config
check covering every file the daemon loads, ids as mails write them."""

from __future__ import annotations

from click.testing import CliRunner

from sentinel.cli import cli


def _run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_a_misspelt_group_in_escalation_is_a_positioned_error(tmp_path):
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        "recipients:\n  office: [a@example.edu.cn]\n  superior: [b@example.gov.cn]\n"
        "escalation:\n  - levels:\n      - {notify: [office, superiour], ack_within: 30m}\n",
        encoding="utf-8",
    )
    r = _run("--config", str(p), "config", "check")
    assert r.exit_code == 2, r.output
    assert (
        f"{p}:6:" in r.output and "superiour" in r.output and "未在 recipients 中定义" in r.output
    )


def test_a_group_with_a_label_is_shown_by_its_label(tmp_path):
    from sentinel import config as config_mod

    p = tmp_path / "sentinel.yaml"
    p.write_text(
        "recipients:\n  leaders: {label: 院领导, to: [l@example.edu.cn]}\n  office: [o@example.edu.cn]\n",
        encoding="utf-8",
    )
    cfg = config_mod.load(p)
    assert cfg.group_label("leaders") == "院领导" and cfg.group_label("office") == "舆情办"
    assert cfg.addresses(["leaders", "office"]) == ["l@example.edu.cn", "o@example.edu.cn"]


def test_config_check_fails_on_a_broken_watchlist(tmp_path):
    wl = tmp_path / "bad.yaml"
    wl.write_text("entities:\n  - id: x\n    names: [江西警察学院]\ntopics: [\n", encoding="utf-8")
    p = tmp_path / "sentinel.yaml"
    p.write_text(f"watchlists: [{wl}]\n", encoding="utf-8")
    r = _run("--config", str(p), "config", "check")
    assert r.exit_code != 0, r.output
    assert f"{wl}:" in r.output and "Traceback" not in r.output


def test_config_check_fails_on_a_named_watchlist_that_is_not_there(tmp_path):
    """The daemon cannot load a watchlist file that is not there; a glob matching no file
    yet stays a note (tests/cli/test_new_user.py)."""
    p = tmp_path / "sentinel.yaml"
    p.write_text("watchlists: [watchlists/jxpc.yaml]\n", encoding="utf-8")
    r = _run("--config", str(p), "config", "check")
    assert r.exit_code != 0, r.output
    assert f"{tmp_path / 'watchlists' / 'jxpc.yaml'}:1:1: 找不到文件" in r.output
    assert "配置文件有效" not in r.output


def test_config_check_fails_on_broken_playbooks(tmp_path):
    pb = tmp_path / "playbooks.yaml"
    pb.write_text("inquiry:\n  items:\n    - {key: a, title: 甲, due: soon}\n", encoding="utf-8")
    p = tmp_path / "sentinel.yaml"
    p.write_text("incidents: {playbooks: playbooks.yaml}\n", encoding="utf-8")
    r = _run("--config", str(p), "config", "check")
    assert r.exit_code != 0, r.output
    assert f"{pb}:" in r.output and "Traceback" not in r.output


def _incident(tmp_path):
    """A config with groups and one reported incident (a manual report)."""
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        f"database: sqlite:///{tmp_path / 's.db'}\nrecipients:\n  office: [o@example.edu.cn]\n"
        "  leaders: {label: 院领导, to: [l@example.edu.cn]}\n",
        encoding="utf-8",
    )
    assert (
        _run(
            "--config",
            str(p),
            "user",
            "add",
            "赵敏",
            "--role",
            "office",
            "--email",
            "z@example.edu.cn",
        ).exit_code
        == 0
    )
    r = _run(
        "--config",
        str(p),
        "report",
        "--url",
        "https://bbs.example.com/t/1",
        "--title",
        "食堂问题",
        "--note",
        "有人反映",
        "--by",
        "赵敏",
    )
    assert r.exit_code == 0, r.output
    return p


def test_escalating_to_an_unknown_group_is_refused_and_records_nothing(tmp_path):
    p = _incident(tmp_path)
    assert _run("--config", str(p), "incident", "assess", "1", "--by", "赵敏").exit_code == 0
    r = _run("--config", str(p), "incident", "escalate", "1", "--to", "leaderz", "--by", "赵敏")
    assert r.exit_code == 1 and "leaderz" in r.output and "未在 recipients 中定义" in r.output
    shown = _run("--config", str(p), "incident", "show", "#1", "--json").output
    assert "leaderz" not in shown and '"escalations": []' in shown.replace("\n", "").replace(
        "  ", ""
    )


def test_escalation_names_the_group_by_its_label(tmp_path):
    p = _incident(tmp_path)
    assert _run("--config", str(p), "incident", "assess", "#1", "--by", "赵敏").exit_code == 0
    r = _run("--config", str(p), "incident", "escalate", "#1", "--to", "leaders", "--by", "赵敏")
    assert r.exit_code == 0 and "已报告第1级：院领导" in r.output, r.output


def test_the_acting_user_comes_from_sentinel_user(tmp_path):
    p = _incident(tmp_path)
    r = _run(
        "--config", str(p), "incident", "note", "#1", "已联系食堂", env={"SENTINEL_USER": "赵敏"}
    )
    assert r.exit_code == 0, r.output
    show = _run("--config", str(p), "incident", "show", "1").output
    assert "赵敏" in show and "已联系食堂" in show
    r = _run("--config", str(p), "incident", "note", "1", "再记一笔", env={"SENTINEL_USER": ""})
    assert r.exit_code == 2 and "SENTINEL_USER" in r.output


def test_every_action_in_the_domain_table_is_a_command():
    from alerting.incidents.service import ACTIONS
    from sentinel.cli.incidents import incident_group

    assert set(ACTIONS) <= set(incident_group.commands)
    for name, action in ACTIONS.items():
        assert action.title in (incident_group.commands[name].help or "")
