"""Source types come from one registry, the ``sentinel.sources`` entry points: the
built-ins are declared in pyproject.toml, and a plug-in installed beside sentinel (here
a real dist-info folder on sys.path) is usable from sentinel.yaml like them."""

from __future__ import annotations

import json
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from crawler.registry import GROUP, SourceTypeError, source_types
from sentinel.cli import cli
from tests.servers.http import LoopbackHTTPServer

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = '''
"""A college notice board that publishes its notices as a JSON list."""

import json
from typing import Literal

from pydantic import Field

from crawler.base import Batch, Outcome, RawPost, SourceConfig, SourceType
from crawler.http import FetchError, FetchOptions, shared_client


class NoticeBoardConfig(SourceConfig):
    """A JSON notice board."""

    type: Literal["noticeboard"] = Field("noticeboard", description="noticeboard")
    url: str = Field(description="The board's JSON URL.")
    board: str = Field("校园公告", description="The board's name, kept with each post.")


class NoticeBoard(SourceType):
    name = "noticeboard"
    config_model = NoticeBoardConfig

    def collect(self, state):
        cfg = self.config
        opts = FetchOptions(user_agent=self.context.user_agent, timeout=cfg.timeout,
                            obey_robots=cfg.obey_robots, delay=cfg.delay)
        try:
            fetched = shared_client().fetch(cfg.url, opts)
        except FetchError as e:
            return Outcome(state=state, error_kind=e.kind, error=e.message, requests=1)
        notices = json.loads(fetched.body)
        yield Batch(posts=[RawPost(url=n["url"], title=n["title"], text=n["text"], snapshot=fetched,
                                   extra={"board": cfg.board}) for n in notices])
        return Outcome(state=state, fetched=1, requests=1)
'''

NOTICES = [
    {
        "url": "http://board.example.edu.cn/n/1",
        "title": "江西警察学院食堂饭菜吃出虫子，请学校给个说法",
        "text": "请问江西警察学院二食堂饭菜里吃出虫子的事情有人管吗？同学们都很担心食品安全。",
    },
    {
        "url": "http://board.example.edu.cn/n/2",
        "title": "图书馆开放时间调整",
        "text": "本周起图书馆晚上开放到十点。",
    },
]


def install(site: Path, name: str, entry_points: str, module: str | None = None) -> Path:
    """A distribution as pip leaves it: a module and its NAME.dist-info folder."""
    site.mkdir(parents=True, exist_ok=True)
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")
    if module is not None:
        (site / f"{name}.py").write_text(module, encoding="utf-8")
    return site


@pytest.fixture
def noticeboard(tmp_path, monkeypatch):
    site = install(
        tmp_path / "site",
        "noticeboard_plugin",
        f"[{GROUP}]\nnoticeboard = noticeboard_plugin:NoticeBoard\n",
        PLUGIN,
    )
    monkeypatch.syspath_prepend(str(site))
    yield
    monkeypatch.delitem(__import__("sys").modules, "noticeboard_plugin", raising=False)


def write_config(tmp_path, source: dict) -> Path:
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "var_dir": str(tmp_path / "var"),
                "sources": [source],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return p


def test_the_builtin_types_are_the_entry_points_declared_in_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "entry-points"
    ][GROUP]
    assert set(declared) == {"feed", "site", "search"}
    types = source_types()
    for name, target in declared.items():
        module, cls = target.split(":")
        assert (
            types[name].__module__ == module
            and types[name].__name__ == cls
            and types[name].name == name
        )


def test_a_plugin_source_type_is_polled_from_sentinel_yaml(tmp_path, noticeboard):
    assert {"feed", "site", "search", "noticeboard"} <= set(source_types())
    with LoopbackHTTPServer() as srv:
        url = srv.add(
            "/notices.json",
            json.dumps(NOTICES, ensure_ascii=False).encode(),
            content_type="application/json",
        )
        path = write_config(
            tmp_path,
            {
                "name": "board",
                "type": "noticeboard",
                "url": url,
                "board": "学生处公告",
                "delay": 0,
                "obey_robots": False,
            },
        )
        r = CliRunner().invoke(cli, ["--config", str(path), "poll", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["sources"][0]["new"] == 2 and out["sources"][0]["errors"] == 0
    assert out["alerts"] == 1 and out["incidents_opened"] == 1
    r = CliRunner().invoke(cli, ["--config", str(path), "posts", "--json"])
    posts = json.loads(r.output)
    assert {p["source"] for p in posts} == {"board"} and len(posts) == 2
    r = CliRunner().invoke(cli, ["--config", str(path), "status", "--json"])
    [row] = json.loads(r.output)["sources"]
    assert row["type"] == "noticeboard" and row["health"] == "ok"


def test_a_plugin_config_key_it_does_not_declare_is_refused_naming_its_keys(tmp_path, noticeboard):
    path = write_config(
        tmp_path, {"name": "board", "type": "noticeboard", "url": "http://x/", "colour": "red"}
    )
    r = CliRunner().invoke(cli, ["--config", str(path), "config", "check"])
    assert r.exit_code == 2
    line = r.output.strip()
    assert "\n" not in line and "未知的键 'colour'" in line
    assert (
        "noticeboard 类型的来源可用的键：" in line
        and "board" in line
        and "url" in line
        and "interval" in line
    )


def test_a_plugin_is_gone_when_it_is_uninstalled(tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        site = install(
            tmp_path / "site",
            "noticeboard_plugin",
            f"[{GROUP}]\nnoticeboard = noticeboard_plugin:NoticeBoard\n",
            PLUGIN,
        )
        m.syspath_prepend(str(site))
        assert "noticeboard" in source_types()
    assert "noticeboard" not in source_types()


def test_a_broken_plugin_is_named_in_one_line(tmp_path, monkeypatch):
    site = install(
        tmp_path / "site",
        "broken_plugin",
        f"[{GROUP}]\nweibo = broken_plugin_missing:WeiboSource\n",
    )
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(
        SourceTypeError, match=r"来源类型 'weibo'（broken_plugin_missing:WeiboSource）无法加载"
    ):
        source_types()
    path = write_config(tmp_path, {"name": "a", "type": "feed", "url": "http://x/"})
    r = CliRunner().invoke(cli, ["--config", str(path), "config", "check"])
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "broken_plugin_missing" in r.output and len(r.output.strip().splitlines()) == 1


def test_a_type_claimed_twice_is_refused(tmp_path, monkeypatch):
    site = install(tmp_path / "site", "rival_plugin", f"[{GROUP}]\nfeed = rival_plugin:Feed\n")
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(SourceTypeError, match="来源类型 'feed' 被声明了两次"):
        source_types()
