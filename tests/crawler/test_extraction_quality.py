"""Main-text extraction on real Chinese pages, through the real site path (served on
127.0.0.1, crawled by the spider in its child process, no body selector), compared
with the expected extraction stored beside each page. Prints a table of similarity.

Similarity is rapidfuzz's normalised Indel ratio over the texts with all whitespace
removed (1.0 = identical). goose3's stored text is a partial extraction (it skips
paragraphs), so for it the table shows the share of its paragraphs found in ours.
"""

from __future__ import annotations

import json
import re

from rapidfuzz import fuzz

from crawler.text import html_to_text
from tests.conftest import CORPUS

ARTICLE_MIN = 0.9


def _norm(t: str | None) -> str:
    return re.sub(r"\s+", "", t or "")


def expected_cases() -> list[tuple[str, str, str, str]]:
    """(name, corpus path, expected text, metric)."""
    cases = []
    for n in ("gmw", "qq", "youth"):
        exp = html_to_text((CORPUS / f"readability-zh-pages/{n}/expected.html").read_text("utf-8"))
        cases.append((f"readability {n}", f"readability-zh-pages/{n}/source.html", exp, "ratio"))
    cases.append(
        (
            "newspaper bbc",
            "newspaper-zh/chinese_article.html",
            (CORPUS / "newspaper-zh/chinese_article.expected.txt").read_text("utf-8"),
            "ratio",
        )
    )
    goose = json.loads((CORPUS / "goose3-zh/test_bbc_chinese.json").read_text("utf-8"))
    cases.append(
        (
            "goose3 bbc",
            "goose3-zh/test_bbc_chinese.html",
            goose["expected"]["cleaned_text"],
            "contained",
        )
    )
    text = (CORPUS / "gne-zh-pages/expected-results.txt").read_text("utf-8")
    for m in re.finditer(r">{5,}(\S+?)>{5,}\s*(\{.*?\})\s*<{5,}", text, re.DOTALL):
        cases.append(
            (
                f"gne {m.group(1)}",
                f"gne-zh-pages/{m.group(1)}",
                json.loads(m.group(2))["content"],
                "ratio",
            )
        )
    return cases


# Pages without a stored expected text, with hand-checked facts read off each page: the
# article's first and last words, what is on the page around the article but must not be
# in the text (navigation, footers, related links), and the headline, the writer (None:
# the page names none, so empty is the only right answer) and the publish date.
UNSCORED = {
    "trafilatura-zh-pages/archive.org.he.xinhuanet.com.25340717.html": (
        "一个约定，信守15年", "树立正确的世界观、人生观、价值观。", ["燕赵新闻周刊"],
        "话剧《约定无期限》河北各市巡演结束", "王敬照", "2012-06-04",
    ),
    "trafilatura-zh-pages/xinhuanet.com.c_1125597921.html": (
        "“妈妈，为什么还不能出去？”", "才有这座英雄的城！（评论员 罗博 萧海川）", ["【纠错】", "-新华网"],
        "武汉的声音：有英勇的你，才有英雄的城！", "罗博 萧海川", "2020-02-19",
    ),
    "trafilatura-zh-pages/banyuetan.org.1000200033136171577956287380194268_1.html": (
        "半月谈记者 史卫燕", "（刊于《半月谈》2019年第24期）", [],
        "益阳：“数字”是优长", "史卫燕", "2020-01-02",
    ),
    "gne-zh-pages/tests/sxmu/1.html": (
        "《中华人民共和国监察法》是为了", "同时废止。", ["添加收藏夹", "版权所有", "浏览次数", "|"],
        "中华人民共和国监察法", None, "2018-05-17",
    ),
    "gne-zh-pages/tests/zyyfy/1.html": (
        "本站讯（职工通讯员 李琴雯 刘会）", "编辑/苏芳", ["位置：首页", "ICP备", "急救电话"],
        "【不忘初心 牢记使命】我院医技药剂党支部举办2019年中药、药学理论知识与专业技能大赛",
        "李琴雯 刘会", "2019-10-31",
    ),
    "gne-zh-pages/tests/gsc/1.html": (
        "5月10-12日，2019年中国人文地理学术年会", "学科发展盛况。", ["邮政编码", "电子信箱"],
        "2019年中国人文地理学术年会在重庆•西南大学成功举行！", None, "2019-05-18",
    ),
    "gne-zh-pages/tests/other/1.html": (
        "全国人民代表大会常务委员会", "调整为53365.53亿元。", ["相关稿件", "扫一扫"],
        "全国人民代表大会常务委员会关于批准财政部发行特别国债购买外汇及调整2007 年末国债余额限额的决议",
        "马娟", "2007-08-20",
    ),
    "gne-zh-pages/tests/people/1.html": (
        "父亲的教诲像一盏灯", "(责编：汤诗瑶、丁涛)", ["【详细】", "文脉颂中华"],
        "女儿出嫁，郑板桥画了几笔兰花当嫁妆", None, "2019-06-15",
    ),
    "gne-zh-pages/tests/qq/2.html": (
        "划重点：", "第三方数据行业的整顿仍将持续。", ["返回腾讯网首页"],
        "棱镜|数据业大整顿：爬虫与现金贷共生共荣，用户信息几元不等", None, "2019-09-23",
    ),
    "gne-zh-pages/tests/163/9.html": (
        "下周一，", "来源：无锡交警", ["网易订阅"],
        "5月20日至31日，京沪高速无锡至江阴大桥至广陵枢纽段封闭！", None, "2019-05-17",
    ),
    "gne-zh-pages/tests/sina/5.html": (
        "原标题：快讯！陈同佳刑满出狱", "责任编辑：吴金明", ["Copyright", "举报邮箱", "推荐新闻"],
        "陈同佳刑满出狱 向潘晓颖家人鞠躬致歉", None, "2019-10-23",
    ),
    "gne-zh-pages/tests/ifeng/1.html": (
        "澎湃新闻记者 段彦超 廖艳", "（实习生王金茹对此文亦有贡献）", [],
        "女童眼睛被塞几十片纸，“无法用科学解释”", "段彦超 廖艳", "2019-11-25",
    ),
    "gne-zh-pages/tests/thepaper/1.html": (
        "共享充电宝。视觉中国 资料", "（原题为《是“收割韭菜”还是“回归理性”》）",
        ["字号", "澎湃新闻报料", "关键词"],
        "共享充电宝涨价告别1元时代：是“收割韭菜”还是回归理性", None, "2019-09-24",
    ),
    "gne-zh-pages/tests/baijiahao/4.html": (
        "前段时间，在某平台举办的", "只为传播中华文化。", ["相关搜索", "朱丹现身直播"],
        "一袭汉服，一架古筝，90后彭静旋异国他乡只为传播中华文化", None, "2020-01-14",
    ),
    "gne-zh-pages/tests/xinhuanet/1.html": (
        "新华社巴黎12月9日电（记者唐霁）", "总理菲利普将于11日宣布退休制度改革的总体架构。",
        ["热帖", "热词", "2018-03-01"],
        "法国全国大罢工再次严重影响交通", "唐霁", "2019-12-10",
    ),
    "gne-zh-pages/tests/cjn/1.html": (
        "长江网10月4日讯（记者陈智 整合）", "【编辑：姚昊】", [],
        "外媒眼中的武汉长假：蓬勃发展，欢声笑语", "陈智", "2020-10-04",
    ),
}  # fmt: skip

# The writer and date on the pages with a stored expected text (read off the pages; the
# upstream records name editors or the word 搜索 as authors, which we do not).
SCORED_META = {
    "readability gmw": ("宇航员在太空中喝酒会怎么样？后果很严重", "春春", "2017-03-10"),
    "readability qq": ("DeepMind新电脑已可利用记忆自学 人工智能迈上新台阶", None, "2016-10-14"),
    "readability youth": ("海外留学生看两会：出国前后关注点大不同", "青网校园崔宁宁", "2017-03-10"),
    "newspaper bbc": ("港特首梁振英就住宅违建事件道歉", None, "2012-12-10"),
    "goose3 bbc": ("港特首梁振英就住宅违建事件道歉", None, "2012-12-10"),
    "gne tests/toutiao/3.html": (None, "林子沛", "2019-09-09"),
    "gne tests/163/6.html": (None, None, "2019-09-09"),
    "gne tests/ifeng/2.html": (None, None, "2019-09-09"),
    "gne tests/sina/2.html": (None, "裴剑飞", "2018-12-28"),
    "gne tests/qq/qq.html": (None, "张楠", "2019-09-07"),
}
LIST_PAGES = [
    "gne-zh-pages/test_list_page/tieba/1.html",
    "gne-zh-pages/test_list_page/netease_forum/1.html",
]


def score(got: str, expected: str, metric: str) -> float:
    g, e = _norm(got), _norm(expected)
    if metric == "contained":
        paras = [_norm(p) for p in expected.split("\n") if _norm(p)]
        return sum(p in g for p in paras) / len(paras)
    return fuzz.ratio(g, e) / 100


def _day(post) -> str | None:
    return post.published_at.strftime("%Y-%m-%d") if post.published_at else None


def _serve_all(server) -> dict[str, str]:
    paths = [c[1] for c in expected_cases()] + list(UNSCORED) + LIST_PAGES
    # No charset in the header: the page's own bytes and meta tag must be enough.
    return {
        rel: server.add(f"/p/{i}.html", (CORPUS / rel).read_bytes(), content_type="text/html")
        for i, rel in enumerate(paths)
    }


def test_extracted_body_matches_expected_extraction_per_page(server, collect):
    """Each page with an expected text at 0.90 or more; each other page from its first to
    its last words without the page furniture around it; headline, writer and date right
    or empty; the two list pages reported as lists, not stored as articles."""
    cases = expected_cases()
    assert len(cases) == 10
    urls = _serve_all(server)
    r = collect(
        {
            "name": "pages",
            "type": "site",
            "urls": list(urls.values()),
            "delay": 0,
            "concurrency": 4,
            "obey_robots": False,
        }
    )
    assert r.ok, r.error
    by_url = {p.snapshot.final_url: p for p in r.posts}
    rows, low, wrong = [], [], []
    for name, rel, expected, metric in cases:
        post = by_url[urls[rel]]
        s = score(post.text, expected, metric)
        rows.append((name, metric, s, len(_norm(post.text)), len(_norm(expected)), post))
        if s < ARTICLE_MIN:
            low.append((name, s))
        title, author, day = SCORED_META[name]
        if title is not None and post.title != title:
            wrong.append((name, "title", post.title))
        if post.author not in (author, None) or _day(post) != day:
            wrong.append((name, "author/date", post.author, _day(post)))
    for rel, (first, last, absent, title, author, day) in UNSCORED.items():
        post = by_url[urls[rel]]
        rows.append((rel.split("/", 1)[1][:40], "markers", None, len(_norm(post.text)), None, post))
        assert "\ufffd" not in post.text, rel
        text = post.text.strip()
        if not text.startswith(first) or not text.endswith(last):
            wrong.append((rel, "text bounds", text[:30], text[-30:]))
        wrong += [(rel, "furniture in text", a) for a in absent if a in text]
        if post.title != title:
            wrong.append((rel, "title", post.title))
        if post.author not in (author, None) or _day(post) != day:
            wrong.append((rel, "author/date", post.author, _day(post)))
    print("\n\nextraction similarity (site path, automatic main text)")
    print(f"{'page':42} {'metric':10} {'score':>6} {'got':>5} {'exp':>5}  author / date")
    for name, metric, s, got, exp, post in rows:
        shown = "" if s is None else f"{s:.3f}"
        print(
            f"{name:42} {metric:10} {shown:>6} {got:>5} {exp or '':>5}  "
            f"{post.author or '-'} / {_day(post) or '-'}"
        )
    assert low == [] and wrong == []
    # Writers named on the pages are found, not only "empty everywhere".
    named = [m for m in [*SCORED_META.values(), *(u[3:] for u in UNSCORED.values())] if m[1]]
    found = [p for p in r.posts if p.author]
    assert len(found) >= len(named) - 1
    # The list pages: no post, one line saying what the page is and what to configure.
    for rel in LIST_PAGES:
        assert urls[rel] not in by_url
        assert any(urls[rel] in w and "这是列表页" in w and "list" in w for w in r.warnings), rel


def test_gb2312_archive_page_decodes_despite_injected_utf8_script_tags(server, collect):
    rel = "trafilatura-zh-pages/archive.org.he.xinhuanet.com.25340717.html"
    url = server.add("/gb.html", (CORPUS / rel).read_bytes(), content_type="text/html")
    r = collect({"name": "gb", "type": "site", "urls": [url], "delay": 0, "obey_robots": False})
    [post] = r.posts
    assert post.snapshot.encoding == "gb18030"
    assert "\ufffd" not in post.text
    assert post.title == "话剧《约定无期限》河北各市巡演结束" and "张家口" in post.text
