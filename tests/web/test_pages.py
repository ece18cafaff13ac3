"""The office works an incident from the queue to closed through the console's forms
(every action of the domain's table), a unit reports with a screenshot, and the other
pages show what they should. A test client here; the browser tests do it as a person."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from tests.web.conftest import CANTEEN, open_incident

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


def _post(client, incident, action, token, **data):
    r = client.post(f"/incidents/{incident}/actions/{action}", data={"csrf": token, **data})
    assert r.status_code == 200, r.text
    m = re.search(r'<p class="flash (ok|bad)" role="status">([^<]*)</p>', r.text)
    assert m, f"no message after {action}"
    return m.group(1) == "ok", m.group(2), r.text


def test_an_incident_is_worked_from_the_queue_to_closed(client, as_user, incident, clock):
    office = as_user("赵敏")
    queue = client.get("/")
    assert "二食堂饭菜变质？" in queue.text and f'href="/incidents/{incident}"' in queue.text
    page = client.get(f"/incidents/{incident}")
    # The matched term is highlighted in the post's text.
    assert '<p class="body"><mark>' in page.text  # the test's hits start at 0
    ok, msg, _ = _post(client, incident, "assess", office, cause="食堂卫生问题", severity="III",
                       development="可能扩散到微博")  # fmt: skip
    assert ok and msg == "已记录研判"
    ok, msg, _ = _post(client, incident, "escalate", office, note="报分管领导")
    assert ok and msg.startswith("已报告第")
    leader = as_user("李书记")
    ok, msg, _ = _post(client, incident, "ack", leader)
    assert ok and msg == "李书记 已确认收到"
    office = as_user("赵敏")
    ok, msg, _ = _post(client, incident, "classify", office, category="inquiry")
    assert ok and "询问质疑诉求" in msg
    ok, msg, _ = _post(client, incident, "assign", office, name="王主任")
    assert ok and msg == "已指派给 王主任"
    ok, msg, _ = _post(client, incident, "note", office, text="已约谈食堂承包方")
    assert ok
    ok, msg, _ = _post(client, incident, "reply", office, text="后勤处答复：涉事批次食材已封存送检")
    assert ok and "已送学院领导审定" in msg
    leader = as_user("李书记")
    ok, msg, _ = _post(client, incident, "reject", leader, note="请写明送检机构")
    assert ok and "已退回" in msg
    office = as_user("赵敏")
    _post(client, incident, "reply", office, text="后勤处答复：食材已送市疾控中心检测")
    leader = as_user("李书记")
    ok, msg, _ = _post(client, incident, "approve", leader)
    assert ok and "审定通过" in msg
    office = as_user("赵敏")
    ok, msg, _ = _post(client, incident, "publish", office, url="https://tieba.example.com/p/2")
    assert ok and "已发布" in msg
    r = client.post(
        f"/incidents/{incident}/actions/attach",
        data={"csrf": office, "note": "群聊截图"},
        files={"file": ("群聊.png", PNG, "image/png")},
    )
    assert "已添加 1 份材料" in r.text
    ok, msg, page = _post(client, incident, "resolve", office)
    assert not ok and "转入跟踪未完成" in msg
    clock.advance(minutes=20)
    ok, msg, page = _post(client, incident, "meeting", office, at="2026-11-23T09:10", place="二食堂",
                          attendees="后勤处、学生代表", questions="饭菜是否变质", answers="已送检")  # fmt: skip
    assert ok and msg == "已登记答疑会", msg
    for key in re.findall(r'name="item" value="([^"]+)"', page):
        ok, msg, page = _post(client, incident, "check", office, item=key, note="已办")
    ok, msg, page = _post(client, incident, "resolve", office)
    assert ok and msg == "已转入动态跟踪", msg
    ok, msg, _ = _post(client, incident, "close", office)  # a summary is required
    assert not ok
    ok, msg, page = _post(client, incident, "close", office, note="处置得当，舆情平息")
    assert ok and msg == "已结案"
    ok, msg, page = _post(client, incident, "reopen", office, note="又有新帖")
    assert ok and msg == "已重新打开"
    # Every act is in the event log under the person's name.
    log = page.split("处置记录")[-1]
    for who, what in [("李书记", "确认收到"), ("李书记", "答复审定通过"), ("赵敏", "处置得当"),
                      ("赵敏", "补充材料")]:  # fmt: skip
        assert re.search(who + r".{0,40}" + what, log), (who, what)
    # The file is a download with its type fixed, never rendered inline.
    item = re.search(rf'href="/incidents/{incident}/files/(\d+)"', page).group(1)
    f = client.get(f"/incidents/{incident}/files/{item}")
    assert f.content == PNG and f.headers["content-type"] == "image/png"
    assert f.headers["content-disposition"].startswith("attachment;")
    pack = client.get(f"/incidents/{incident}/evidence.zip")
    assert pack.headers["content-disposition"].startswith("attachment;")
    assert any(n.endswith(".png") for n in zipfile.ZipFile(io.BytesIO(pack.content)).namelist())


def test_the_queue_filters_and_puts_overdue_first(
    client, as_user, web_db, web_config, clock, people
):
    first = open_incident(web_db, web_config, clock, "https://a.example.com/1", "甲事件", CANTEEN)
    clock.advance(hours=30)  # the first one's deadlines pass
    second = open_incident(
        web_db,
        web_config,
        clock,
        "https://b.example.com/2",
        "乙事件",
        "江西警察学院宿舍停水三天",
        terms=("停水",),
        topic="water",
        category="hype",
        severity="II",
    )
    as_user("赵敏")
    html = client.get("/").text
    assert "逾期" in html and html.index("甲事件") < html.index("乙事件")
    assert "乙事件" in client.get("/?severity=II").text
    assert "甲事件" not in client.get("/?severity=II").text
    assert "甲事件" not in client.get("/?category=hype").text
    data = client.get("/api/incidents").json()
    assert [i["id"] for i in data["incidents"]] == [first, second] and data["overdue"] >= 1
    from storage.models import Incident

    with web_db.session() as s:  # a second page of the queue
        s.add_all(Incident(title=f"丙{n}", severity="III", terms=[]) for n in range(55))
    page = client.get("/?severity=III").text
    assert "第 1 / 2 页" in page and 'href="?severity=III&amp;page=2"' in page
    assert "第 2 / 2 页" in client.get("/?severity=III&page=2").text


def test_a_unit_reports_with_a_screenshot(client, as_user, people):
    token = as_user("保卫处刘老师")
    form = client.get("/report")
    assert "报案" in form.text and 'type="file"' in form.text
    r = client.post(
        "/report",
        data={"csrf": token, "title": "QQ群传言", "note": "学生群里说食堂有老鼠"},
        files={"file": ("截图.png", PNG, "image/png")},
    )
    assert r.status_code == 200 and "已立案" in r.text and "1 份材料已保存为证据" in r.text
    assert "QQ群传言" in r.text
    bad = client.post(
        "/report",
        data={"csrf": token, "title": "假图", "note": "x"},
        files={"file": ("a.png", b"MZ\x90\x00 not an image", "image/png")},
    )
    assert "报案未提交" in bad.text and "不是可接受的类型" in bad.text


def test_the_other_pages_read_as_the_office_expects(client, as_user, incident):
    token = as_user("赵敏")
    assert "二食堂饭菜变质" in client.get("/posts?q=食堂").text
    assert "没有找到帖文" in client.get("/posts?q=不存在的词").text
    assert "来源状态" in client.get("/sources").text
    stats = client.get("/stats")
    assert 'data-chart="' in stats.text and "/static/echarts.min.js" in stats.text
    assert "提及学院" in stats.text and "热点话题" in stats.text and "负面占比" in stats.text
    top = client.get("/api/stats?days=30").json()["top_sources"][0]["source"]
    assert f"{top}：" in stats.text  # the same trends as `sentinel stats`
    assert "用户" in client.get("/users").text and "李书记" in client.get("/users").text
    assert "摘要" in client.get("/digests").text
    weekly = client.get("/reports/weekly")
    assert weekly.status_code == 200 and "周" in weekly.text
    r = client.post(
        "/watchlists", data={"csrf": token, "text": "江西警察学院食堂饭菜变质，学生腹泻"}
    )
    assert r.status_code == 200 and "评分" in r.text and "<mark>" in r.text
    assert client.get("/static/echarts.min.js").status_code == 200


def test_a_snapshot_is_shown_as_text_or_in_a_sandbox(client, as_user, incident):
    as_user("赵敏")
    page = client.get(f"/incidents/{incident}").text
    snap = re.search(rf"/incidents/{incident}/snapshots/(\d+)", page).group(1)
    view = client.get(f"/incidents/{incident}/snapshots/{snap}")
    assert 'sandbox=""' in view.text and "SHA-256" in view.text
    assert "&lt;h1&gt;" in view.text  # the raw page as text
    frame = client.get(f"/incidents/{incident}/snapshots/{snap}/frame")
    assert frame.headers["content-security-policy"].startswith("sandbox;")
    assert "default-src 'none'" in frame.headers["content-security-policy"]
    assert client.get(f"/incidents/{incident}/snapshots/999999").status_code == 400


@pytest.mark.postgres
@pytest.mark.parametrize("web_url", ["postgresql"], indirect=True)
def test_the_console_works_on_postgresql(client, as_user, incident):
    token = as_user("赵敏")
    assert "二食堂饭菜变质？" in client.get("/").text
    ok, msg, page = _post(client, incident, "assess", token, cause="食堂卫生问题", severity="II")
    assert ok and msg == "已记录研判" and "食堂卫生问题" in page
    assert client.get("/api/incidents").json()["total"] == 1
    assert "二食堂饭菜变质" in client.get("/posts?q=食堂").text


def test_an_oversized_upload_is_refused_before_it_is_read(client, as_user, people):
    token = as_user("保卫处刘老师")
    big = b"\x89PNG\r\n\x1a\n" + b"0" * (12 * 1024 * 1024)
    r = client.post(
        "/report",
        data={"csrf": token, "title": "大图", "note": "x"},
        files={"file": ("big.png", big, "image/png")},
    )
    assert r.status_code == 413 and "提交的内容过大" in r.text
    r = client.post(
        "/report",
        data={"csrf": token, "title": "稍大", "note": "x"},
        files={"file": ("b.png", big[: 2 * 1024 * 1024], "image/png")},
    )
    assert "报案未提交" in r.text and "超过大小上限 1.0 MB" in r.text


def test_a_posts_polarity_shows_on_the_incident_and_in_post_search(
    client, as_user, web_db, incident
):
    """The polarity stored with the match (正面/中性/负面), as the mails and digests show it."""
    from sqlalchemy import update

    from storage.models import Match

    with web_db.session() as s:
        s.execute(update(Match).values(sentiment="negative", sentiment_score=-0.8))
    as_user("赵敏")
    page = client.get(f"/incidents/{incident}").text
    assert 'class="tag polarity-negative">负面</span>' in page
    found = client.get("/posts?q=食堂").text
    assert 'class="tag polarity-negative">负面</span>' in found
    api = client.get("/api/posts?q=食堂").json()
    assert api[0]["match"]["sentiment"] == {"label": "negative", "score": -0.8}
