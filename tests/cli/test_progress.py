"""Long work shows a progress bar on a terminal (``poll`` over many sources, ``backtest``
over many posts) and nothing extra with ``--json`` or into a pipe."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from sentinel.cli import cli
from tests.servers.http import LoopbackHTTPServer

TERMINAL = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "100"}


def _feed(i: int) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f{i}</title>'
        f"<item><title>新闻 {i}</title><link>http://n{i}.example.edu.cn/1</link>"
        f"<description>江西警察学院今日举行活动。</description></item></channel></rss>"
    )


@pytest.fixture
def config(tmp_path):
    with LoopbackHTTPServer() as srv:
        sources = []
        for i in range(12):
            srv.add(f"/f{i}.xml", _feed(i), content_type="application/rss+xml")
            sources.append(
                {"name": f"f{i}", "type": "feed", "url": srv.url(f"/f{i}.xml"), "delay": 0}
            )
        p = tmp_path / "sentinel.yaml"
        p.write_text(
            yaml.safe_dump(
                {
                    "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
                    "var_dir": str(tmp_path / "var"),
                    "sources": sources,
                }
            ),
            encoding="utf-8",
        )
        yield str(p)


def test_poll_and_backtest_show_a_progress_bar_on_a_terminal(config):
    r = CliRunner().invoke(cli, ["--config", config, "poll"], env=TERMINAL)
    assert r.exit_code == 0, r.output
    assert "采集" in r.stderr and "12/12" in r.stderr
    r = CliRunner().invoke(cli, ["--config", config, "backtest"], env=TERMINAL)
    assert r.exit_code == 0 and "回测" in r.stderr and "12/12" in r.stderr


def test_with_json_or_into_a_pipe_there_is_no_progress_bar(config):
    r = CliRunner().invoke(cli, ["--config", config, "poll", "--json"], env=TERMINAL)
    assert r.exit_code == 0 and r.stderr == ""
    assert len(json.loads(r.stdout)["sources"]) == 12
    r = CliRunner().invoke(cli, ["--config", config, "backtest", "--json"], env=TERMINAL)
    assert r.exit_code == 0 and r.stderr == "" and json.loads(r.stdout)["counts"]["posts"] == 12
    r = CliRunner().invoke(cli, ["--config", config, "poll"])  # not a terminal
    assert r.exit_code == 0 and "12/12" not in r.stderr
