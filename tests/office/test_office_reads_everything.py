"""The guard: every document the office gets in the demo scenario, read as the office
reads it — no Python repr, no None, no UTC time, no internal English key, no traceback —
and what each point of issue 10 changed, as the office sees it."""

from __future__ import annotations

import re

from tests.office.documents import keys, problems, utc_renderings


def test_the_guard_reads_every_kind_of_document(office_documents):
    docs = office_documents
    kinds = {k for _i, k, *_ in docs.facts["outbox"]}
    assert {
        "new_incident",
        "incident_update",
        "escalation",
        "reminder",
        "overdue",
        "secondary_crisis",
        "source_down",
        "source_recovered",
        "reply_approval",
        "reply_decision",
        "unit_notice",
        "config_error",
        "digest",
    } <= kinds
    assert len(docs.mails) == len(docs.facts["outbox"])  # every stored mail was received
    assert (
        docs.digest_html and docs.weekly_html and docs.weekly_md and docs.incidents and docs.status
    )
    assert set(docs.reviews) == set(docs.shows) == set(docs.facts["incidents"])
    assert {"stats --since 60d", "posts --matched", "outbox", "digest --since 60d"} <= set(docs.cli)


def test_no_document_shows_a_repr_none_utc_an_internal_key_or_a_traceback(office_documents):
    docs = office_documents
    utc_forms = utc_renderings(docs.stamps)
    assert utc_forms  # the check has something to look for
    found = [f"{name}: {p}" for name, text in docs.all() for p in problems(text, utc_forms)]
    assert not found, "\n".join(found[:40])


def test_the_guard_itself_finds_each_kind_of_problem():
    from datetime import UTC, datetime

    t = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    forms = utc_renderings({t})
    for bad in (
        "负责人：None",
        "{'a': 1}",
        "2026-11-23T02:00:00+00:00",
        "10:00 UTC",
        "状态：reported",
        "第1级 → office",
        "操作人 system",
        "Traceback (most recent call last)",
        "立案 2026-11-23 02:00",
        "<storage.models.Incident object at 0x7f>",
        "来源：manual-report",
    ):
        assert problems(bad, forms), bad
    for fine in (
        "立案 2026-11-23 10:00",
        "执行：sentinel incident check 1 reply_online --by 姓名",
        "原帖：https://bbs.example.com/thread-1-1.html",
        "robots.txt 禁止采集 2 个页面",
        "可设置 render: true 或 fields",
        "yuqing@example.edu.cn",
    ):
        assert not problems(fine, forms), (fine, problems(fine, forms))
    assert {"office", "leaders", "superior", "system", "reported"} <= keys()


# -- 4. escalation reports carry the story ----------------------------------------------
def _leaders_report(docs, incident_id):
    return next(
        m
        for m in docs.mails
        if "leader@" in m.to and f"#{incident_id}】舆情报告（第2级" in m.subject
    )


def test_the_level2_report_to_leaders_stands_on_its_own(office_documents):
    docs = office_documents
    m = _leaders_report(docs, 1)
    for part in (m.text, m.html):
        assert (
            "网民“警院小白”在警院校园论坛发帖《请问学校二食堂最近是不是涨价了？》" in part
        )  # the story
        assert re.search(
            r"截至 \d{4}-\d\d-\d\d \d\d:\d\d，相关帖文 \d+ 条，涉及 \d+ 个网站", part
        )  # spread
        assert "首发来源" in part and "警院校园论坛" in part
        assert (
            "拟定性与处置措施：第二类（恶意传播炒作）" in part and "说明事实/处理情况（期限" in part
        )
        assert "请您：" in part and "请审阅事件情况并确认收到" in part
        assert "回复舆情办（yuqing@jxpc.example.edu.cn）" in part  # how, without a console yet
        assert re.search(
            r"请于 \d{4}-\d\d-\d\d \d\d:\d\d（北京时间）前确认收到", part
        )  # the deadline
        assert "院领导、省公安厅宣传处" in part  # the groups by their labels
    assert "主要帖文" in m.html and len(re.findall(r'<div class="post"', m.html)) == 3
    assert re.search(r"<mark[^>]*>吃出虫子</mark>", m.html)  # matched terms highlighted
    assert re.search(r'<a href="http://127\.0\.0\.\d:\d+/[^"]+"[^>]*>查看原帖</a>', m.html)  # links
    assert "sentinel incident ack" not in m.text  # a leader is not asked to type a command


def test_a_leader_s_copy_carries_a_one_tap_link_and_every_copy_the_console(office_documents):
    docs = office_documents
    mine = _leaders_report(docs, 1)
    for part in (mine.text, mine.html):
        assert "一键确认收到" in part and "此链接仅供李书记本人使用" in part
        assert re.search(r"http://127\.0\.0\.1:8080/ack/[\w.-]+", part)
        assert "在舆情处置平台确认：http://127.0.0.1:8080/incidents/1" in part
    duty = next(
        m for m in docs.mails if "duty@" in m.to and "#1】舆情报告（第2级" in m.subject
    )  # the superior department has no account: no link, the other ways to answer
    assert "一键确认收到" not in duty.text and "/ack/" not in duty.text
    assert "回复舆情办（yuqing@jxpc.example.edu.cn）" in duty.text
    approval = next(m for m in docs.mails if "答复待审定（第1稿）" in m.subject)
    assert "leader@" in approval.to and "一键审定通过" in approval.text
    assert re.search(r"http://127\.0\.0\.1:8080/approve/[\w.-]+", approval.text)
    assert "下周起公示菜品价格" in approval.text and "起草人：赵敏" in approval.text
    decided = next(m for m in docs.mails if "答复已审定，可以发布（第1稿）" in m.subject)
    assert "李书记" in decided.text and "yuqing@" in decided.to
    receipt = next(m for m in docs.mails if "报案回执" in m.subject)
    assert "houqin@" in receipt.to and "后勤处信息员（后勤处）报送的情况" in receipt.text
    broken = next(m for m in docs.mails if "【配置有误】" in m.subject)
    assert "sentinel.yaml:" in broken.text and "沿用上一版有效配置" in broken.subject


# -- 5 and 6. times, groups, the system, warnings and errors in Chinese -----------------
def test_groups_the_system_and_sources_are_named_as_the_office_names_them(office_documents):
    docs = office_documents
    html, md = docs.reviews[docs.facts["rumour_id"]]
    for doc in (html, md):
        assert "院领导、省公安厅宣传处" in doc and "北京时间" in doc
    assert "固定证据" in html and re.search(r"<td>固定证据</td>.*?<td>系统</td>", html, re.DOTALL)
    show = docs.shows[1]
    assert "第2级 → 院领导、省公安厅宣传处" in show and "首发来源：警院校园论坛" in show
    assert "传播扩大，危害程度升至Ⅱ级 重大" in show and "（北京时间）" in show


def test_the_source_down_mail_says_what_went_wrong_in_chinese(office_documents):
    down = next(m for m in office_documents.mails if "【采集异常】" in m.subject)
    assert "来源“江西教育网”连续" in down.subject
    assert "错误类型：网站服务器出错" in down.text and "http_5xx" not in down.text
    back = next(m for m in office_documents.mails if "【采集恢复】" in m.subject)
    assert "江西教育网" in back.subject


# -- 7. one mail when an incident opens; urgency; labels; brackets; inline styles ---------
def test_an_incident_opens_with_one_mail_that_is_alert_and_first_report(office_documents):
    docs = office_documents
    for iid, inc in docs.facts["incidents"].items():
        at_open = [
            x
            for x in docs.facts["outbox"]
            if x[0] == iid and x[2] == inc["opened_at"] and "yuqing@jxpc.example.edu.cn" in x[3]
        ]
        assert len(at_open) == 1, (iid, at_open)
    first = next(m for m in docs.mails if "【舆情预警】" in m.subject and "#1" in m.text)
    assert "舆情预警（第1级报告）" in first.text and "本邮件同时是第1级报告" in first.text
    assert re.search(r"确认期限：\d{4}-\d\d-\d\d \d\d:\d\d", first.text)
    assert "sentinel incident ack 1 --by 姓名" in first.text  # what the office does, and how


def test_grave_incidents_look_urgent_and_minor_ones_calm(office_documents):
    docs = office_documents
    sev = {iid: i["severity"] for iid, i in docs.facts["incidents"].items()}
    by_subject = {m.subject: m for m in docs.mails}
    rumour = next(m for s, m in by_subject.items() if "【舆情预警】【Ⅰ级" in s)
    assert rumour.subject.startswith("【特急】") and "#b71c1c" in rumour.html
    assert re.search(r'<td class="band"[^>]*style="[^"]*background: #b71c1c', rumour.html)
    hype = next(m for s, m in by_subject.items() if "【Ⅱ级 重大" in s and "舆情续报" in s)
    assert hype.subject.startswith("【紧急】")
    calm = next(m for s, m in by_subject.items() if "【Ⅳ级 一般】" in s)
    assert not calm.subject.startswith("【") or calm.subject.startswith("【舆情预警】")
    assert "#b71c1c" not in calm.html and "#546e7a" in calm.html
    assert "IV" in sev.values() or "III" in sev.values()


def test_sources_by_display_name_and_no_doubled_brackets(office_documents):
    docs = office_documents
    for m in docs.mails:
        assert (
            "campus-forum" not in m.text and "tieba-bar" not in m.text and "news-feed" not in m.text
        ), m.name
        assert "【【" not in m.text and "】】" not in m.text and "【【" not in m.subject, m.name
    assert any("警院校园论坛 · " in m.text for m in docs.mails)
    assert "【【" not in docs.digest_text


def test_every_mail_is_styled_inline_for_webmail_that_drops_style(office_documents):
    for m in office_documents.mails:
        assert re.search(r'<body style="[^"]*font-family', m.html), m.name
        assert re.search(r'<td class="content" style="[^"]*padding', m.html), m.name
        for tag in re.findall(r"<(?:mark|h1|h2|a)\b[^>]*>", m.html):
            assert "style=" in tag, (m.name, tag)


# -- 8. triage: the chain follows the severity; the second wave --------------------------
def test_a_rising_severity_moves_the_chain_onto_the_new_rule_at_once(office_documents):
    docs = office_documents
    rose = next(
        at
        for iid, kind, at, data in docs.facts["events"]
        if iid == 1 and kind == "growth" and data.get("severity") in ("I", "II")
    )
    leaders = [
        sent
        for iid, level, groups, sent in docs.facts["escalations"]
        if iid == 1 and "leaders" in groups
    ]
    # The Ⅱ rule gives the office 1 minute from when it was told; the rise came later,
    # so the leaders hear at the rise (the next poll at the latest), not 9 minutes on.
    assert leaders and (leaders[0] - rose).total_seconds() <= 60, (rose, leaders)


def test_a_tracked_story_reopens_and_a_long_closed_one_opens_a_related_incident(office_documents):
    docs = office_documents
    incs = docs.facts["incidents"]
    assert incs[1]["status"] == "reopened"  # second wave in tracking: reopened
    assert any("二次危机预警" in m.subject and "#1" in m.text for m in docs.mails)
    rumour = docs.facts["rumour_id"]
    [new] = [iid for iid, i in incs.items() if i["related_to"] == rumour]
    assert incs[rumour]["status"] == "closed"
    mail = next(m for m in docs.mails if f"（关联事件 #{rumour}）" in m.subject)
    assert (
        "二次危机预警" in mail.subject and f"已立为新事件 #{new}（关联事件 #{rumour}）" in mail.text
    )
    assert f"关联#{rumour}" in docs.incidents and f"关联事件：#{rumour}" in docs.shows[new]
    assert f"已结案事件 #{rumour}" in docs.reviews[new][0]
    assert f"另立新事件 #{new}" in docs.shows[rumour]


# -- 9. terminal tables at 80 columns ------------------------------------------------------
def _last_cells(table: str) -> list[str]:
    """The last column of each row of a Rich table, its folded lines joined."""
    rows, current = [], []
    for line in table.splitlines():
        if line.startswith("│"):
            current.append(line.split("│")[-2].strip())
        elif line.startswith(("├", "└")) and current:
            rows.append("".join(current))
            current = []
    return rows


def test_incidents_and_status_fit_80_columns_and_no_title_is_cut(office_documents):
    from rich.cells import cell_len

    docs = office_documents
    for name, text in (("incidents", docs.incidents), ("status", docs.status)):
        wide = [line for line in text.splitlines() if cell_len(line) > 80]
        assert not wide, (name, wide)
    header = next(line for line in docs.incidents.splitlines() if "编号" in line)
    for col in ("状态", "级别", "标题"):
        assert col in header
    titles = [re.sub(r"\s+", "", t) for t in _last_cells(docs.incidents)]
    assert len(titles) == len(docs.facts["incidents"])
    for inc in docs.facts["incidents"].values():  # whole, though a status reads 已重新打开
        assert any(t.startswith(re.sub(r"\s+", "", inc["title"])) for t in titles), (
            inc["title"],
            titles,
        )
    assert "已重新打开" in docs.incidents and "关联#" in docs.incidents
    assert "看不到正文" in docs.status and "警院校园论坛" in docs.status


# -- 10. coverage: a source that sees no content --------------------------------------------
def test_a_source_whose_pages_show_no_text_is_not_reported_as_normal(office_documents):
    docs = office_documents
    row = next(line for line in docs.status.splitlines() if "校友论坛" in line)
    assert "看不到正文" in row and "正常" not in row
    assert "提示：来源“校友论坛”的页面看不到正文" in docs.status.replace("\n", "")
    assert "render: true" in docs.status.replace("\n", "") and "fields" in docs.status
    assert "校友论坛" in docs.digest_text and "看不到正文" in docs.digest_text
    assert "render: true" in docs.digest_text and "看不到正文" in docs.digest_html
