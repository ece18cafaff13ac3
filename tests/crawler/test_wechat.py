"""WeChat official-account articles read from their HTML, through the real site path.

mp.weixin.qq.com cannot be reached from tests (no internet): the page is served on
127.0.0.1 from ``fixtures/wechat_article.html``, written in the real page's shape (the
body in ``#js_content`` hidden until scripts run, the time only in ``var ct``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler import wechat

PAGE = (Path(__file__).parent / "fixtures" / "wechat_article.html").read_text("utf-8")
SITE = {"name": "gzh", "type": "site", "delay": 0, "obey_robots": False}


def test_wechat_article_gives_title_account_time_and_whole_text(server, collect):
    url = server.add("/s/Xy3vQm8kT2pLd9Wf0aBcEg", PAGE)
    r = collect({**SITE, "urls": [url]})
    assert r.ok, r.error
    [post] = r.posts
    assert post.title == "江西警察学院召开新学期安全工作部署会"
    assert post.author == "江西警察学院"  # the account, not the meta tag's department
    zone = ZoneInfo("Asia/Shanghai")
    assert post.published_at.astimezone(zone) == datetime(2026, 9, 2, 16, 30, tzinfo=zone)
    lines = post.text.split("\n")
    assert lines[0].startswith("9月2日下午，学院召开新学期安全工作部署会")
    assert lines[-1] == "文字：宣传部 图片：学生记者团"
    assert "食品安全是师生关心的头等大事" in post.text  # inline <strong> kept in its sentence
    assert len(lines) == 6
    for furniture in ("喜欢此内容的人还喜欢", "微信扫一扫", "投诉", "功能介绍", "原创"):
        assert furniture not in post.text


def test_taken_down_article_says_so_instead_of_empty_text(server, collect):
    gone = (
        "<html><head><title></title><link rel='stylesheet' href='//res.wx.qq.com/open/libs/"
        "weui/2.4.4/weui.min.css'></head><body>"
        '<div class="weui-msg"><div class="weui-msg__text-area">'
        '<h2 class="weui-msg__title">该内容已被发布者删除</h2></div></div>'
        "</body></html>"
    )
    url = server.add("/s/deleted00000000000000", gone)
    r = collect({**SITE, "urls": [url]})
    [post] = r.posts
    assert post.text == "该内容已被发布者删除"


def test_older_page_shapes_time_in_create_time_and_account_only_in_script():
    page = (
        "<html><body><div class='rich_media_content' id='js_content'><p>正文一段。</p></div>"
        '<script>var nickname = htmlDecode("某某公众号");'
        "var msg_title = '旧版标题';var create_time = \"1700000000\" * 1;</script></body></html>"
    )
    out = wechat.extract(page)
    assert (out["title"], out["author"], out["text"]) == ("旧版标题", "某某公众号", "正文一段。")
    assert out["date"] == "2023-11-14T22:13:20+00:00"


def test_an_ordinary_page_is_not_taken_for_wechat():
    assert not wechat.is_wechat("<html><body><div id='content'>新闻</div></body></html>", None)
    assert wechat.is_wechat("<html></html>", "https://mp.weixin.qq.com/s/abc")


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=80),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=200),
)
def test_any_text_in_the_script_variables_and_the_body_never_raises(var, body):
    page = (
        f"<html><body><h1 id='activity-name'>{var}</h1><div id='js_content'>{body}</div>"
        f"<script>var nickname = htmlDecode(\"{var}\"); var msg_title = '{var}';"
        f'var ct = "{var}";</script></body></html>'
    )
    out = wechat.extract(page)
    assert isinstance(out["text"], str) and isinstance(out["title"], str)
