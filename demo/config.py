"""The demo's configuration: three sources on the simulated campus web, mail to the
local mailbox, the recipients and a daily digest."""

from __future__ import annotations

from pathlib import Path


def demo_config(world, var_dir: Path, smtp_port: int) -> dict:
    """The demo's sentinel.yaml (as a dict) watching ``world``."""
    return {
        "database": f"sqlite:///{var_dir / 'sentinel.db'}",
        "timezone": "Asia/Shanghai",
        "sources": [
            {
                "name": "news-feed",
                "label": "赣鄱新闻网",
                "type": "feed",
                "url": world.urls["rss"],
                "interval": "5s",
            },
            {
                "name": "campus-forum",
                "label": "警院校园论坛",
                "type": "site",
                "urls": [world.urls["forum"]],
                "interval": "8s",
                "list": {
                    "item": "a.s.xst::attr(href)",
                    "next": "a.nxt::attr(href)",
                    "max_pages": 3,
                },
                "fields": {
                    "title": "#thread_subject::text",
                    "body": "td.t_f",
                    "author": "a.xw1::text",
                    "published": "em[id^=authorposton]::text",
                },
            },
            {
                "name": "tieba-bar",
                "label": "警院贴吧",
                "type": "site",
                "urls": [world.urls["tieba"]],
                "interval": "10s",
                "list": {
                    "item": "a.j_th_tit::attr(href)",
                    "next": "a.next::attr(href)",
                    "max_pages": 3,
                },
                "fields": {
                    "title": "h3.core_title_txt::text",
                    "body": "div.d_post_content",
                    "author": "a.p_author_name::text",
                    "published": "span.tail-info::text",
                },
            },
        ],
        "smtp": {
            "host": "127.0.0.1",
            "port": int(smtp_port),
            "security": "none",
            "from": "舆情监测 <yuqing@jxpc.example.edu.cn>",
        },
        "recipients": {
            "office": ["yuqing@jxpc.example.edu.cn"],
            "leaders": ["leader@jxpc.example.edu.cn"],
            "superior": ["duty@gat.jiangxi.example.gov.cn"],
        },
        "digests": [{"name": "daily", "cron": "0 8 * * *", "to": ["office"]}],
    }
