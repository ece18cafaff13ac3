"""The console in headless Chromium, as people use it: each role logs in, the office
works an incident from the queue to closed, a leader acknowledges and approves the reply
on a phone, a unit reports with a screenshot, the chart draws; screenshots of the main
pages, desktop and phone, go to tests/artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.web.browser import PHONE, Tab
from tests.web.conftest import PASSWORD, serve
from tests.web.test_pages import PNG

pytestmark = pytest.mark.slow


def _one_column(page) -> None:
    """Nothing wider than the phone: the page does not scroll sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width


def test_the_office_and_a_leader_work_an_incident_to_closed(browser, app, incident, clock):
    with serve(app) as base:
        office = Tab(browser, base)
        p = office.go("/")
        assert p.locator("input[name=password]").count() == 1  # the login page, not the queue
        office.shot("login-desktop")
        p = office.login("赵敏", PASSWORD)
        assert p.locator("h1").inner_text() == "事件工单"
        office.shot("queue-desktop")
        p.click("table.queue a:text('二食堂饭菜变质？')")
        assert p.locator("h1").inner_text().startswith(f"事件 #{incident}")
        assert p.locator(".post mark").count() >= 1
        assert office.act("快速研判", cause="食堂卫生问题", severity="III") == "已记录研判"
        assert office.act("逐级报告").startswith("已报告第")
        assert "已起草第1稿答复" in office.act("起草答复", text="后勤处答复：食材已封存送检")
        office.shot("incident-desktop")

        leader = Tab(browser, base, viewport=PHONE)
        p = leader.login("李书记", PASSWORD)
        leader.shot("queue-phone")
        _one_column(p)
        leader.go(f"/incidents/{incident}")
        _one_column(leader.page)
        leader.shot("incident-phone")
        assert leader.act("确认收到") == "李书记 已确认收到"
        assert leader.act("审定通过") == "已审定通过第1稿答复"
        # Office-only forms are not offered to a leader.
        assert leader.page.locator("details summary:text-is('结案')").count() == 0

        p = office.go(f"/incidents/{incident}")
        assert office.act("定性分类", category="inquiry").startswith("已定性为")
        assert office.act("发布答复", url="https://tieba.example.com/p/2") == "已发布第1稿答复"
        clock.advance(minutes=20)
        assert (
            office.act(
                "登记答疑会",
                at="2026-11-23T09:10",
                place="二食堂",
                attendees="后勤处",
                questions="是否变质",
                answers="已送检",
            )
            == "已登记答疑会"
        )
        while office.page.locator("ol.checklist form").count():
            office.page.locator("ol.checklist form").first.locator("button").click()
            office.page.wait_for_load_state()
        assert office.act("指派", name="王主任") == "已指派给 王主任"
        assert office.act("转入跟踪") == "已转入动态跟踪"
        assert office.act("结案", note="处置得当") == "已结案"
        log = office.page.locator("ol.events").inner_text()
        assert re.search(r"李书记\s*确认收到", log) and re.search(r"李书记\s*答复审定通过", log)
        for t in (office, leader):
            assert not t.dialogs and not t.outside, (t.dialogs, t.outside)
            t.close()


def test_a_unit_reports_with_a_screenshot_and_the_chart_draws(
    browser, app, people, tmp_path, web_db, web_config, clock
):
    from datetime import timedelta

    from tests.web.conftest import CANTEEN, open_incident

    start = clock.now()
    for day, n in enumerate((3, 1, 4, 1, 5, 2)):
        for i in range(n):
            clock.t = start - timedelta(days=6 - day, minutes=i)
            open_incident(
                web_db, web_config, clock, f"https://bbs.example.com/{day}/{i}", "食堂", CANTEEN
            )
    clock.t = start
    shot = tmp_path / "群聊截图.png"
    shot.write_bytes(PNG)
    with serve(app) as base:
        unit = Tab(browser, base, viewport=PHONE)
        unit.login("保卫处刘老师", PASSWORD)
        p = unit.go("/report")
        _one_column(p)
        p.fill("input[name=title]", "QQ群传言食堂有老鼠")
        p.fill("textarea[name=note]", "学生群里有人发照片说食堂有老鼠")
        p.set_input_files("input[name=file]", str(shot))
        unit.shot("report-phone")
        p.click("button:text('提交报案')")
        p.wait_for_load_state()
        assert "已立案" in p.locator(".flash").inner_text()
        assert "1 份材料已保存为证据" in p.locator(".flash").inner_text()
        assert "群聊截图.png" in p.locator("ul.evidence").inner_text()
        unit.close()

        office = Tab(browser, base)
        office.login("赵敏", PASSWORD)
        for path, name in [
            ("/report", "report"),
            ("/posts?q=老鼠", "posts"),
            ("/sources", "sources"),
            ("/users", "users"),
        ]:
            office.go(path)
            office.shot(f"{name}-desktop")
        p = office.go("/watchlists")
        p.fill(
            "textarea[name=text]", "江西警察学院二食堂的饭菜变质了，好几个同学拉肚子，学校不给说法"
        )
        p.click("button:text('检测')")
        p.wait_for_load_state()
        assert "评分" in p.locator(".result").inner_text()
        assert p.locator(".result mark").count() >= 1
        office.shot("watchlists-desktop")
        p = office.go("/stats")
        p.wait_for_selector("#volume-chart[data-rendered='1'] svg", timeout=10000)
        office.shot("stats-desktop")
        phone = Tab(browser, base, viewport=PHONE)
        phone.login("赵敏", PASSWORD)
        p = phone.go("/stats")
        p.wait_for_selector("#volume-chart svg", timeout=10000)
        _one_column(p)
        phone.shot("stats-phone")
        for t in (office, phone):
            assert not t.dialogs and not t.outside, (t.dialogs, t.outside)
            t.close()
