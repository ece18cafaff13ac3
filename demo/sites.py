"""HTML and RSS of the simulated campus web, rendered from the visible scenario posts.

Three sites, each looking like the real kind it stands for:

- ``forum``: a Discuz! X3 board (警院论坛) served in **GBK**; list pages
  ``/forum/forum-2-{page}.html``, thread pages ``/forum/thread-{tid}-1-1.html``.
- ``news``: a regional news portal (赣鄱新闻网) in UTF-8, with plain article pages
  (no class names to rely on: a main-text extractor's job) and an RSS 2.0 feed.
- ``tieba``: a Baidu-Tieba-like bar where reposts turn up, in UTF-8, with relative
  times for fresh posts; ``/tieba/list-{page}.html`` and ``/tieba/p/{id}``.

Renderers take a ``View``: the visible posts of one site (newest first), the world's
current wall time and a function giving each post's publication time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

from demo.scenario import ScenarioPost

FORUM_PAGE_SIZE = 5
TIEBA_PAGE_SIZE = 5
COLLEGE = "江西警察学院"


@dataclass
class View:
    posts: list[ScenarioPost]  # visible posts of one site, newest first
    now: datetime  # the world's wall time (aware)
    published: Callable[[ScenarioPost], datetime]


def pages(n_items: int, size: int) -> int:
    return max(1, -(-n_items // size))


def _abs_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


def _shown_time(post: ScenarioPost, view: View) -> str:
    """Absolute time, or "N分钟前"/"N小时前" for fresh posts written with relative times."""
    dt = view.published(post)
    if post.relative_time:
        seconds = (view.now - dt).total_seconds()
        if seconds < 3600:
            return f"{max(1, int(seconds // 60))}分钟前"
        if seconds < 86400:
            return f"{int(seconds // 3600)}小时前"
    return _abs_time(dt)


def _uid(author: str) -> int:
    return 100000 + sum(ord(c) for c in author) % 90000


# -- forum (Discuz!, GBK) --------------------------------------------------------

_FORUM_HEAD = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="gbk" />
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>{title} - 警院论坛 - Powered by Discuz!</title>
<meta name="keywords" content="{title}" />
<meta name="generator" content="Discuz! X3.4" />
<link rel="stylesheet" type="text/css" href="data/cache/style_1_common.css" />
</head>
<body id="nv_forum" class="pg_forumdisplay">
<div id="toptb" class="cl"><div class="wp"><div class="z"><a href="./">设为首页</a><a href="./">收藏本站</a></div>
<div class="y"><a href="member.php?mod=register">立即注册</a> <a href="member.php?mod=logging">登录</a></div></div></div>
<div id="hd"><div class="wp"><div class="hdc cl"><h2><a href="./" title="警院论坛">警院论坛</a></h2></div>
<div id="nv"><ul><li class="a"><a href="forum-2-1.html">校园生活</a></li><li><a href="./">学习交流</a></li><li><a href="./">二手市场</a></li></ul></div></div></div>
<div id="wp" class="wp">
"""

_FORUM_FOOT = """</div>
<div id="ft" class="wp cl"><div id="flk" class="y"><p><a href="./">联系我们</a><span class="pipe">|</span><a href="./">手机版</a></p></div>
<div id="frt"><p>Powered by <strong><a href="https://www.discuz.vip/">Discuz!</a></strong> <em>X3.4</em></p>
<p class="xs0">GMT+8, {now}</p></div></div>
</body>
</html>
"""


def forum_list(view: View, page: int) -> str | None:
    """A board page, or None when the page does not exist."""
    total = pages(len(view.posts), FORUM_PAGE_SIZE)
    if page < 1 or page > total:
        return None
    items = view.posts[(page - 1) * FORUM_PAGE_SIZE : page * FORUM_PAGE_SIZE]
    out = [_FORUM_HEAD.format(title="校园生活")]
    out.append(
        '<div id="pt" class="bm cl"><div class="z"><a href="./" class="nvhm" title="首页">警院论坛</a>'
        ' <em>&rsaquo;</em> <a href="forum-2-1.html">校园生活</a></div></div>\n'
    )
    out.append('<div class="boardnav"><div id="ct" class="wp cl"><div class="mn">\n')
    out.append(
        '<div class="bm bml pbn"><div class="bm_h cl"><h1 class="xs2"><a href="forum-2-1.html">校园生活</a>'
        f' <span class="xs1 xw0 i">今日: <strong class="xi1">{len(items)}</strong></span></h1></div>'
        f'<div class="bm_c cl pbn"><div>版主: <span class="xi2"><a href="./" class="notabs">警院小编</a></span></div>'
        f'<div class="cl">交流{COLLEGE}校园生活，文明发帖，理性讨论。</div></div></div>\n'
    )
    out.append(
        '<div id="threadlist" class="tl bm bmw"><div class="bm_c">'
        '<form method="post" autocomplete="off" name="moderate" id="moderate" action="">\n'
        '<table summary="forum_2" cellspacing="0" cellpadding="0" id="threadlisttableid">\n'
    )
    for p in items:
        when = view.published(p)
        out.append(
            f'<tbody id="normalthread_{p.id}"><tr>\n'
            f'<td class="icn"><a href="thread-{p.id}-1-1.html" title="有新回复 - 新窗口打开" target="_blank">'
            f'<img src="static/image/common/folder_new.gif" /></a></td>\n'
            f'<th class="new"><a href="thread-{p.id}-1-1.html" onclick="atarget(this)" class="s xst">{escape(p.title)}</a></th>\n'
            f'<td class="by"><cite><a href="space-uid-{_uid(p.author)}.html" c="1">{escape(p.author)}</a></cite>'
            f"<em><span>{when.strftime('%Y-%m-%d')}</span></em></td>\n"
            f'<td class="num"><a href="thread-{p.id}-1-1.html" class="xi2">{p.replies}</a><em>{p.views}</em></td>\n'
            f'<td class="by"><cite><a href="./" c="1">{escape(p.author)}</a></cite>'
            f'<em><a href="thread-{p.id}-1-1.html">{_shown_time(p, view)}</a></em></td>\n'
            "</tr></tbody>\n"
        )
    if not items:
        out.append(
            '<tbody><tr><th colspan="5"><p class="emp">本版块或指定的范围内尚无主题</p></th></tr></tbody>\n'
        )
    out.append("</table></form></div></div>\n")
    out.append(_forum_pager(page, total))
    out.append("</div></div></div>\n")
    out.append(_FORUM_FOOT.format(now=_abs_time(view.now)))
    return "".join(out)


def _forum_pager(page: int, total: int) -> str:
    if total <= 1:
        return '<div id="pgt" class="bm bw0 pgs cl"></div>\n'
    parts = ['<div id="pgt" class="bm bw0 pgs cl"><div class="pg">']
    if page > 1:
        parts.append(f'<a href="forum-2-{page - 1}.html" class="prev">&nbsp;&nbsp;</a>')
    for n in range(1, total + 1):
        parts.append(
            f"<strong>{n}</strong>" if n == page else f'<a href="forum-2-{n}.html">{n}</a>'
        )
    parts.append(
        f'<label><input type="text" name="custompage" class="px" size="2" value="{page}" />'
        f'<span title="共 {total} 页"> / {total} 页</span></label>'
    )
    if page < total:
        parts.append(f'<a href="forum-2-{page + 1}.html" class="nxt">下一页</a>')
    parts.append("</div></div>\n")
    return "".join(parts)


def forum_thread(view: View, post: ScenarioPost) -> str:
    pid = 20000 + post.id
    body = "<br />\r\n<br />\r\n".join(escape(par) for par in post.paragraphs)
    out = [_FORUM_HEAD.format(title=escape(post.title))]
    out.append(
        '<div id="pt" class="bm cl"><div class="z"><a href="./" class="nvhm" title="首页">警院论坛</a>'
        ' <em>&rsaquo;</em> <a href="forum-2-1.html">校园生活</a>'
        f' <em>&rsaquo;</em> <a href="thread-{post.id}-1-1.html">{escape(post.title)}</a></div></div>\n'
    )
    out.append(
        '<div id="ct" class="wp cl"><div id="postlist" class="pl bm">\n'
        '<table cellspacing="0" cellpadding="0"><tr>\n'
        '<td class="pls ptn pbn"><div class="hm ptn">'
        f'<span class="xg1">查看:</span> <span class="xi1" id="thread_views">{post.views}</span>'
        '<span class="pipe">|</span>'
        f'<span class="xg1">回复:</span> <span class="xi1" id="thread_replies">{post.replies}</span></div></td>\n'
        '<td class="plc ptm pbn vwthd"><h1 class="ts">'
        f'<span id="thread_subject">{escape(post.title)}</span></h1>'
        f'<span class="xg1"><a href="thread-{post.id}-1-1.html">[复制链接]</a></span></td>\n'
        "</tr></table>\n"
    )
    out.append(
        f'<div id="post_{pid}"><table id="pid{pid}" class="plhin" summary="pid{pid}" cellspacing="0" cellpadding="0">\n'
        '<tr><td class="pls" rowspan="2"><div id="favatar{pid}" class="pls favatar"><div class="pi">'
        f'<div class="authi"><a href="space-uid-{_uid(post.author)}.html" target="_blank" class="xw1">{escape(post.author)}</a></div>'
        "</div><p><em>中级会员</em></p></div></td>\n"
        '<td class="plc"><div class="pi"><strong><a href="javascript:;" id="postnum{pid}">楼主</a></strong>'
        f'<div class="pti"><div class="authi"><em id="authorposton{pid}">发表于 {_shown_time(post, view)}</em>'
        '<span class="pipe">|</span><a href="javascript:;" rel="nofollow">只看该作者</a></div></div></div>\n'
        '<div class="pct"><div class="pcb"><div class="t_fsz"><table cellspacing="0" cellpadding="0"><tr>'
        f'<td class="t_f" id="postmessage_{pid}">\r\n{body}</td></tr></table></div></div></div>\n'
        "</td></tr>\n"
        '<tr><td class="plc plm"><div class="sign">文明上网，理性发言</div></td></tr>\n'
        "</table></div>\n"
        "</div></div>\n"
    )
    out.append(_FORUM_FOOT.format(now=_abs_time(view.now)))
    return "".join(out)


# -- news portal (UTF-8) and its RSS feed ----------------------------------------

_NEWS_HEAD = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}_赣鄱新闻网</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="alternate" type="application/rss+xml" title="赣鄱新闻网" href="/news/rss.xml">
</head>
<body>
<header><a href="/news/">赣鄱新闻网</a>
<nav><a href="/news/">首页</a> | <a href="/news/">时政</a> | <a href="/news/">教育</a> | <a href="/news/">社会</a> | <a href="/news/">视频</a></nav>
</header>
"""

_NEWS_FOOT = """<footer>
<p>赣鄱新闻网 版权所有 未经授权禁止转载</p>
<p>违法和不良信息举报电话：0791-00000000</p>
</footer>
</body>
</html>
"""


def news_index(view: View) -> str:
    out = [_NEWS_HEAD.format(title="首页")]
    out.append("<main>\n<h2>最新资讯</h2>\n<ul>\n")
    for p in view.posts:
        out.append(
            f'<li><a href="info/{p.id}.htm">{escape(p.title)}</a> '
            f"<span>{view.published(p).strftime('%Y-%m-%d')}</span></li>\n"
        )
    out.append("</ul>\n</main>\n")
    out.append(_NEWS_FOOT)
    return "".join(out)


def news_article(view: View, post: ScenarioPost) -> str:
    out = [_NEWS_HEAD.format(title=escape(post.title))]
    out.append("<main>\n<article>\n")
    out.append(f"<h1>{escape(post.title)}</h1>\n")
    out.append(
        f"<p>来源：赣鄱新闻网　作者：{escape(post.author)}　"
        f"发布时间：{_abs_time(view.published(post))}</p>\n"
    )
    for par in post.paragraphs:
        out.append(f"<p>{escape(par)}</p>\n")
    out.append("<p>（责任编辑：张敏）</p>\n</article>\n")
    others = [p for p in view.posts if p.key != post.key][:5]
    if others:
        out.append("<aside>\n<h3>相关阅读</h3>\n<ul>\n")
        for p in others:
            out.append(f'<li><a href="{p.id}.htm">{escape(p.title)}</a></li>\n')
        out.append("</ul>\n</aside>\n")
    out.append("</main>\n")
    out.append(_NEWS_FOOT)
    return "".join(out)


def rss(view: View, base_url: str) -> str:
    last = max((view.published(p) for p in view.posts), default=None)
    out = [
        (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n<channel>\n'
            "<title>赣鄱新闻网</title>\n"
            f"<link>{base_url}/news/</link>\n"
            "<description>赣鄱新闻网 最新资讯</description>\n"
            "<language>zh-cn</language>\n"
        )
    ]
    if last is not None:
        out.append(f"<lastBuildDate>{format_datetime(last)}</lastBuildDate>\n")
    for p in view.posts:
        link = f"{base_url}/news/info/{p.id}.htm"
        summary = p.paragraphs[0] if p.paragraphs else ""
        out.append(
            "<item>\n"
            f"<title>{escape(p.title)}</title>\n"
            f"<link>{link}</link>\n"
            f"<description>{escape(summary)}</description>\n"
            f"<author>{escape(p.author)}</author>\n"
            f"<pubDate>{format_datetime(view.published(p))}</pubDate>\n"
            f'<guid isPermaLink="true">{link}</guid>\n'
            "</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def rss_last_modified(view: View) -> datetime:
    """The newest item's time (UTC), or the epoch-ish start of the feed when empty."""
    last = max((view.published(p) for p in view.posts), default=view.now)
    return last.astimezone(UTC).replace(microsecond=0)


# -- tieba-like bar (UTF-8) -----------------------------------------------------

_TIEBA_HEAD = """<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>{title}</title>
</head>
<body>
<div id="head"><div class="search_top"><a href="/tieba/list-1.html" class="card_title_fname">{college}吧</a></div></div>
<div id="container">
"""

_TIEBA_FOOT = """</div>
<div class="footer">&copy;2026 示例贴吧 使用前必读 贴吧协议</div>
</body>
</html>
"""


def tieba_list(view: View, page: int) -> str | None:
    total = pages(len(view.posts), TIEBA_PAGE_SIZE)
    if page < 1 or page > total:
        return None
    items = view.posts[(page - 1) * TIEBA_PAGE_SIZE : page * TIEBA_PAGE_SIZE]
    out = [_TIEBA_HEAD.format(title=f"{COLLEGE}吧-示例贴吧", college=COLLEGE)]
    out.append(
        '<div class="card_head"><span class="card_menNum">关注：12,345</span>'
        '<span class="card_infoNum">贴子：67,890</span></div>\n'
    )
    out.append('<ul id="thread_list" class="threadlist_bright j_threadlist_bright">\n')
    for p in items:
        out.append(
            f'<li class="j_thread_list clearfix" data-tid="{p.id}">\n'
            f'<div class="col2_left"><span class="threadlist_rep_num" title="回复">{p.replies}</span></div>\n'
            f'<div class="threadlist_title"><a rel="noreferrer" href="/tieba/p/{p.id}" title="{escape(p.title)}" '
            f'target="_blank" class="j_th_tit">{escape(p.title)}</a></div>\n'
            f'<div class="threadlist_abs">{escape(p.paragraphs[0][:40]) if p.paragraphs else ""}</div>\n'
            f'<span class="tb_icon_author" title="主题作者: {escape(p.author)}">{escape(p.author)}</span>\n'
            f'<span class="threadlist_reply_date" title="最后回复时间">{_shown_time(p, view)}</span>\n'
            "</li>\n"
        )
    out.append("</ul>\n")
    out.append('<div id="frs_list_pager" class="pagination-default">')
    for n in range(1, total + 1):
        out.append(
            f'<span class="pagination-current">{n}</span>'
            if n == page
            else f'<a href="/tieba/list-{n}.html" class="pagination-item">{n}</a>'
        )
    if page < total:
        out.append(
            f'<a href="/tieba/list-{page + 1}.html" class="next pagination-item">下一页&gt;</a>'
        )
    out.append("</div>\n")
    out.append(_TIEBA_FOOT)
    return "".join(out)


def tieba_thread(view: View, post: ScenarioPost) -> str:
    body = "<br>".join(escape(par) for par in post.paragraphs)
    out = [_TIEBA_HEAD.format(title=f"{escape(post.title)}_{COLLEGE}吧_示例贴吧", college=COLLEGE)]
    out.append(
        '<div class="core_title_wrap_bright">'
        f'<h3 class="core_title_txt" title="{escape(post.title)}">{escape(post.title)}</h3></div>\n'
        f'<ul class="l_posts_num"><li class="l_reply_num"><span class="red">{post.replies}</span>回复贴，'
        f'<span class="red">1</span>页</li><li class="l_view_num">浏览 <span class="red">{post.views}</span></li></ul>\n'
        '<div class="l_post j_l_post l_post_bright">\n'
        f'<div class="d_author"><ul class="p_author"><li class="d_name"><a class="p_author_name j_user_card" '
        f'href="/tieba/home/{_uid(post.author)}">{escape(post.author)}</a></li></ul></div>\n'
        f'<div class="d_post_content_main"><div id="post_content_{post.id}1" class="d_post_content j_d_post_content">'
        f"{body}</div>\n"
        '<div class="core_reply_tail"><span class="floor">1楼</span>'
        f'<span class="tail-info">{_shown_time(post, view)}</span></div></div>\n'
        "</div>\n"
    )
    out.append(_TIEBA_FOOT)
    return "".join(out)


def index(base_url: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>模拟校园网</title></head>\n'
        "<body><h1>sentinel 演示：模拟校园网</h1>\n<ul>\n"
        f'<li><a href="{base_url}/forum/forum-2-1.html">警院论坛（Discuz!，GBK 编码）</a></li>\n'
        f'<li><a href="{base_url}/news/">赣鄱新闻网</a>（<a href="{base_url}/news/rss.xml">RSS</a>）</li>\n'
        f'<li><a href="{base_url}/tieba/list-1.html">{COLLEGE}吧（转帖）</a></li>\n'
        "</ul></body></html>\n"
    )
