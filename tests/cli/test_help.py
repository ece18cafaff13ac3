"""Every --help as the office reads it in an 80-column terminal: in Chinese (no Click
words, no list of stored keys as the only way to say a choice), and no line running
past the right edge."""

from __future__ import annotations

import itertools
import re

import click
from click.testing import CliRunner
from rich.cells import cell_len

from sentinel.cli import cli
from sentinel.cli.helptext import wrap


def _commands(cmd=cli, path=()):
    yield list(path)
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _commands(sub, (*path, name))


def _help(path: list[str]) -> str:
    r = CliRunner().invoke(cli, [*path, "--help"], env={"COLUMNS": "80"}, prog_name="sentinel")
    assert r.exit_code == 0, (path, r.output)
    return r.output


# Click's own words, an English sentence, a bare list of stored keys.
_ENGLISH = re.compile(
    r"\[OPTIONS\]|COMMAND|\[ARGS\]|default:|\brequired\b|\bTEXT\b|INTEGER|FLOAT|RANGE"
    r"|Positional arguments|\[\w+\|\w+|\b(?!sentinel\b)[a-z]{2,} (?!weekly\b)[a-z]{2,} [a-z]{2,}\b"
)


def test_every_help_is_in_chinese_and_fits_80_columns():
    seen = 0
    for path in _commands():
        out = _help(path)
        seen += 1
        assert out.startswith("用法：sentinel"), (path, out[:80])
        for line in out.splitlines():
            assert cell_len(line) <= 80, (path, cell_len(line), line)
            assert not _ENGLISH.search(line.replace("sentinel ", "")), (path, line)
    assert seen > 40


def test_a_choice_says_its_words_in_chinese_and_takes_them():
    out = _help(["incident", "classify"])
    assert "ID 处置类别" in out.splitlines()[0]  # the usage line names the choice
    flat = re.sub(r"\s+", "", out)
    assert "可用：询问质疑诉求（inquiry）、恶意传播炒作（hype）" in flat
    assert "事件编号，如 12 或 #12" in out
    role = _help(["user", "add"])
    assert "[默认：舆情办工作人员]" in role and "[default" not in role


def test_help_lines_wrap_between_chinese_characters_never_before_punctuation():
    text = "只列出这一状态的事件；可用：已报案（reported）、研判中（assessing）、已结案（closed）、已重新打开（reopened）"
    for columns in range(16, 60):  # "（reported）、" is 14 wide and one piece
        lines = wrap(text, columns)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for line in lines:
            assert cell_len(line) <= columns, (columns, line)
            assert line[0] not in "，。；：、）", (columns, lines)
            assert line[-1] != "（", (columns, lines)
        assert not any(
            re.search(r"[a-z]$", a) and re.match(r"[a-z]", b) for a, b in itertools.pairwise(lines)
        )
