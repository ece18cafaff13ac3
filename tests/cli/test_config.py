"""A bad sentinel.yaml is one clear line with file, line and column — never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.errors import ConfigError
from sentinel import config as config_mod
from sentinel.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def check(tmp_path, text: str):
    p = tmp_path / "sentinel.yaml"
    p.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(p), "config", "check"])
    return p, result


@pytest.mark.parametrize(
    "text, line, col, words",
    [
        ("database: sqlite:///x.db\ntimezon: Asia/Shanghai\n", 2, 1, "未知的键 'timezon'"),
        (
            "sources:\n  - name: a\n    type: feed\n    url: http://x/\n    interval: soon\n",
            5,
            15,
            "不是时长",
        ),
        ("smtp:\n  host: h\n  port: abc\n  from: a@b\n", 3, 9, "port"),
        ("sources: [\n  name: a\n", 3, 1, "YAML 格式错误"),
        ("sources:\n  - name: a\n    type: ftp\n", 3, 11, "未知的来源类型 'ftp'"),
        (
            "sources:\n  - name: a\n    type: feed\n    url: http://x/\n    colour: red\n",
            5,
            5,
            "未知的键 'colour'",
        ),
        ("timezone: Mars/Olympus\n", 1, 11, "未知的时区"),
    ],
)
def test_bad_config_is_one_positioned_line(tmp_path, text, line, col, words):
    p, result = check(tmp_path, text)
    assert result.exit_code == 2, result.output
    out = result.output.strip()
    assert "\n" not in out and "Traceback" not in out
    assert out.startswith(f"{p}:{line}:{col}: "), out
    assert words in out


def test_unknown_source_key_names_the_allowed_keys(tmp_path):
    _, result = check(
        tmp_path, "sources:\n  - name: a\n    type: feed\n    url: http://x/\n    colour: red\n"
    )
    assert "interval" in result.output and "url" in result.output


def test_duplicate_source_names_are_refused(tmp_path):
    text = "sources:\n" + "".join(
        f"  - name: a\n    type: feed\n    url: http://x/{i}\n" for i in range(2)
    )
    _, result = check(tmp_path, text)
    assert result.exit_code == 2 and "都叫 'a'" in result.output


def test_missing_explicit_config_is_reported(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.yaml"), "config", "check"])
    assert result.exit_code == 2 and "config file not found" in result.output


def test_config_path_from_environment(tmp_path, monkeypatch):
    p = tmp_path / "c.yaml"
    p.write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    monkeypatch.setenv("SENTINEL_CONFIG", str(p))
    assert config_mod.load().base_dir == tmp_path


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    p = tmp_path / "sub" / "sentinel.yaml"
    p.parent.mkdir()
    p.write_text("database: sqlite:///var/x.db\nwatchlists: [lists/*.yaml]\n", encoding="utf-8")
    cfg = config_mod.load(p)
    assert cfg.database_url == f"sqlite:///{tmp_path / 'sub' / 'var' / 'x.db'}"
    (tmp_path / "sub" / "lists").mkdir()
    (tmp_path / "sub" / "lists" / "a.yaml").write_text("{}", encoding="utf-8")
    assert cfg.watchlist_files() == [tmp_path / "sub" / "lists" / "a.yaml"]


def test_smtp_password_only_from_environment(tmp_path, monkeypatch):
    p = tmp_path / "s.yaml"
    p.write_text("smtp: {host: h, port: 25, from: a@b, password: secret}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="未知的键 'password'"):
        config_mod.load(p)
    p.write_text("smtp: {host: h, port: 25, from: a@b, username: u}\n", encoding="utf-8")
    monkeypatch.setenv("SENTINEL_SMTP_PASSWORD", "pw")
    assert config_mod.load(p).smtp.password == "pw"


def test_example_config_is_valid():
    cfg = config_mod.load(ROOT / "sentinel.example.yaml")
    assert {s.type for s in cfg.sources} == {"feed", "site", "search"}
    assert cfg.smtp.security == "starttls"


def test_config_error_from_the_real_console_command(tmp_path):
    p = tmp_path / "sentinel.yaml"
    p.write_text("databse: x\n", encoding="utf-8")
    sentinel = Path(sys.executable).parent / "sentinel"
    r = subprocess.run(
        [str(sentinel), "--config", str(p), "status"], check=False, capture_output=True, text=True
    )
    assert r.returncode == 2
    assert (
        r.stderr.strip()
        == f"{p}:1:1: 未知的键 'databse'；可用的键：" + r.stderr.split("可用的键：")[1].strip()
    )
    assert "Traceback" not in r.stderr


def test_a_misspelt_required_key_is_reported_as_the_typo(tmp_path):
    _, result = check(tmp_path, "smtp:\n  host: h\n  port: 25\n  frm: a@b\n")
    assert result.exit_code == 2
    assert result.output.strip().endswith("未知的键 'frm'") and ":4:3:" in result.output


def test_a_search_crawled_as_a_site_takes_the_same_crawl_keys_as_a_site(tmp_path):
    text = (
        "sources:\n"
        "  - name: forum-search\n    type: search\n    format: site\n"
        "    url: 'http://bbs.example.cn/search?kw={query}'\n"
        "    crawl_timeout: 10m\n    max_requests: 50\n    encoding: gbk\n"
        "    list: {item: 'a.s.xst::attr(href)', max_pages: 2}\n"
        "  - name: forum\n    type: site\n    urls: ['http://bbs.example.cn/']\n    crawl_timeout: 10m\n"
    )
    p, result = check(tmp_path, text)
    assert result.exit_code == 0, result.output
    search, site = config_mod.load(p).sources
    assert search.crawl_timeout == site.crawl_timeout == 600
    assert search.list.max_pages == 2 and search.encoding == "gbk" and search.max_requests == 50


def test_an_unknown_key_deep_in_a_source_names_the_keys_allowed_there(tmp_path):
    text = "sources:\n  - name: a\n    type: site\n    urls: ['http://x/']\n    list: {itme: a}\n"
    p, result = check(tmp_path, text)
    assert result.exit_code == 2
    assert (
        result.output.startswith(f"{p}:5:12: 未知的键 'itme'")
        and "item、next、max_pages" in result.output
    )


def test_source_mistakes_are_explained_in_chinese_where_they_are(tmp_path):
    cases = [
        (
            "sources:\n  - name: a\n    url: http://x/\n",
            2,
            5,
            "来源缺少 type，可选：feed、search、site",
        ),
        (
            "sources:\n  - name: a\n    type: feed\n    url: http://x/1\n  - name: a\n    type: feed\n    url: http://x/2\n",
            5,
            11,
            "有两个来源都叫 'a'",
        ),
        (
            "sources:\n  - name: a\n    type: site\n    urls: [http://x/]\n    encoding: klingon\n",
            5,
            15,
            "未知的编码 'klingon'",
        ),
        (
            "sources:\n  - name: a\n    type: search\n    url: http://x/\n",
            4,
            10,
            "搜索网址中必须有 {query}",
        ),
        ("sources:\n  - just a line\n", 2, 5, "每个来源应写成“键: 值”的形式"),
    ]
    for text, line, col, words in cases:
        p, result = check(tmp_path, text)
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"{p}:{line}:{col}: ") and words in result.output, (
            result.output
        )


def test_the_same_mistake_reads_the_same_through_model_validate_and_load(tmp_path):
    """Sources are validated in one place: Config itself, whichever way it is built."""
    import yaml
    from pydantic import ValidationError

    text = "sources:\n  - name: a\n    type: ftp\n"
    with pytest.raises(ValidationError) as direct:
        config_mod.Config.model_validate(yaml.safe_load(text))
    [err] = direct.value.errors()
    assert err["loc"] == ("sources", 0, "type") and "未知的来源类型 'ftp'" in err["msg"]
    _, result = check(tmp_path, text)
    assert err["msg"] in result.output


def test_a_loaded_config_dumps_each_source_with_its_own_keys_and_reads_back_the_same():
    cfg = config_mod.load(ROOT / "sentinel.example.yaml")
    dumped = cfg.model_dump(mode="json")
    search = next(s for s in dumped["sources"] if s["name"] == "forum-search")
    assert search["crawl_timeout"] == 300 and search["list"]["max_pages"] == 2
    again = config_mod.Config.model_validate(dumped)
    assert [type(s) for s in again.sources] == [type(s) for s in cfg.sources]
    assert again.sources == cfg.sources
