"""Checklists as the plan writes them (issue 11, point 6): 正面引导 for inquiries, 教育有关人员
and 正面引导 for hype, one line saying what each item means, shown on the ticket; and the
same-day reply clock met only by a published reply, not by an approval. Both databases
(the ticket through the CLI on SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import select

from alerting.incidents import intake, playbooks, replies, tick, views
from sentinel.cli import cli
from storage.models import ChecklistItem, Incident, OutboxMessage

CANTEEN = "请问江西警察学院第二食堂的饭菜是不是变质了？昨天中午吃完好几个同学拉肚子。"


def test_the_built_in_checklists_have_the_plans_items_each_with_one_line_of_meaning(config):
    books = playbooks.for_config(config)
    titles = {cat: [i.title for i in book.items] for cat, book in books.items()}
    assert "正面引导" in titles["inquiry"]
    assert {"教育有关人员", "正面引导"} <= set(titles["hype"])
    assert "网上答复处理意见" in titles["inquiry"] and "公开答复" in titles["constructive"]
    for cat, book in books.items():
        for item in book.items:
            assert item.means and "\n" not in item.means.strip(), (cat, item.key)


def test_each_item_says_what_it_means_on_the_ticket(db, config, outbox, clock, world, people):
    with db.session() as s:
        p, m = world.post(
            s, "https://bbs.example.com/t/3", "食堂饭菜被炒作", CANTEEN, category="hype"
        )
        inc, _ = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
        d = views.detail(s, inc, clock.now(), config=config)
    by_title = {i["title"]: i["means"] for i in d["checklist"]}
    assert by_title["教育有关人员"] == "对发布、传播不良信息的有关人员进行教育"
    assert by_title["正面引导"] == "及时进行正面引导"
    assert all(by_title.values())


def test_the_cli_ticket_prints_the_meaning_under_each_item(tmp_path):
    cfg = tmp_path / "sentinel.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'db.sqlite'}\nvar_dir: {tmp_path / 'var'}\n"
        "timezone: Asia/Shanghai\nrecipients:\n  office: [yuqing@example.edu.cn]\n",
        encoding="utf-8",
    )

    def run(*args):
        r = CliRunner().invoke(cli, ["--config", str(cfg), *args])
        assert r.exit_code == 0, (args, r.output)
        return r.output

    run("user", "add", "赵敏", "--role", "office")
    run("report", "--title", "群里传食堂饭菜变质", "--note", CANTEEN, "--by", "赵敏")
    run("incident", "classify", "1", "inquiry", "--by", "赵敏")
    lines = run("incident", "show", "1").splitlines()
    at = next(i for i, line in enumerate(lines) if "☐ 正面引导 期限" in line)
    assert "positive_guidance" not in "\n".join(lines)  # by number and title, not its code
    assert lines[at + 1].strip() == "做好正面引导的有关工作，发布权威信息，回应关切"


def test_an_approved_reply_not_yet_published_does_not_meet_the_same_day_clock(
    db, config, outbox, clock, world, people
):
    clock.t = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    with db.session() as s:
        p, m = world.post(s, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN)
        inc, _ = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
        iid = inc.id
        replies.draft(s, inc, "已送检。", by="赵敏", config=config, outbox=outbox, now=clock.now())
        replies.approve(s, inc, by="李书记", config=config, outbox=outbox, now=clock.now())
    clock.t = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 00:00 the next day in Shanghai
    assert tick(db, config=config, outbox=outbox, now=clock.now())["overdue"] == 1
    with db.session() as s:
        item = s.scalar(
            select(ChecklistItem).where(
                ChecklistItem.incident_id == iid, ChecklistItem.key == "reply_online"
            )
        )
        assert item.done_at is None and item.overdue_alerted_at is not None
        [alert] = s.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.kind == "overdue")
        ).all()
        assert "网上答复处理意见" in alert
        assert s.get(Incident, iid).status != "closed"
