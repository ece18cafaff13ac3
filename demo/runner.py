"""``sentinel demo``: the simulated campus web, a local mailbox and the daemon, together.

Everything binds to 127.0.0.1 and lives under ``var/`` (the demo database in
``var/demo/``, mail in ``var/mail/``). Each start replays the scenario from the
beginning on a fresh demo database.
"""

from __future__ import annotations

import shutil
import threading
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import click
import yaml


def run_demo(
    var_dir: str = "var",
    for_seconds: float | None = None,
    speed: float = 1.0,
    console_port: int = 8080,
) -> None:
    import scheduler
    from core import logs
    from demo.console import DemoConsole, add_people, free_port
    from demo.mailbox import Mailbox
    from demo.world import CampusWorld
    from sentinel import config as config_mod

    var = Path(var_dir).resolve()
    demo_dir = var / "demo"
    mail_dir = var / "mail"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)  # a fresh scenario each time
    demo_dir.mkdir(parents=True)
    mail_dir.mkdir(parents=True, exist_ok=True)
    old = list(mail_dir.glob("*.eml"))
    if old:
        archive = mail_dir / "earlier"
        archive.mkdir(exist_ok=True)
        for f in old:
            f.replace(archive / f.name)

    log_path = logs.setup(demo_dir, console=False)
    stop = threading.Event()
    with Mailbox(mail_dir) as mailbox, CampusWorld(speed=speed) as world:
        cfg_dict = world.sentinel_config(demo_dir, mailbox.port)
        cfg_dict["var_dir"] = "."  # caches and logs beside the demo database, in var/demo/
        port = free_port(console_port)
        cfg_dict["console_url"] = f"http://127.0.0.1:{port}"  # the mails' one-tap links
        # Short timers so the demo shows level-by-level and dual reporting within minutes.
        cfg_dict.setdefault(
            "escalation",
            [
                {
                    "severity": ["I", "II"],
                    "levels": [
                        {"notify": ["office"], "ack_within": "1m"},
                        {"notify": ["leaders", "superior"], "ack_within": "2m"},
                    ],
                },
                {
                    "severity": ["III", "IV"],
                    "levels": [{"notify": ["office"], "ack_within": "10m"}],
                },
            ],
        )
        cfg_dict.setdefault("notify", {"group_window": "30s"})  # follow-up mails within the demo
        cfg_path = demo_dir / "sentinel.yaml"
        cfg_path.write_text(
            "# 演示用配置，由 sentinel demo 自动生成\n"
            + yaml.safe_dump(cfg_dict, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        cfg = config_mod.load(cfg_path)
        from storage.db import Database

        db = Database(cfg.database_url)
        add_people(db)
        console = DemoConsole(cfg, db, port).start()
        _banner(world, mailbox, cfg_path, mail_dir, log_path, for_seconds, console.url)
        watcher = threading.Thread(target=_watch_mail, args=(mail_dir, stop), daemon=True)
        watcher.start()
        try:
            scheduler.run_daemon(cfg, stop=stop, for_seconds=for_seconds)
        finally:
            stop.set()
            watcher.join(timeout=2)
            console.stop()
            db.dispose()
    click.echo(
        f"演示结束。邮件保存在 {mail_dir}；可用 sentinel --config {cfg_path} incidents 查看事件。"
    )


def _banner(world, mailbox, cfg_path, mail_dir, log_path, for_seconds, console_url) -> None:
    from core.vocabulary import Role
    from demo.console import PASSWORD, PEOPLE

    lines = [
        "sentinel 演示已启动（按 Ctrl-C 停止）"
        + (f"，{for_seconds:g} 秒后自动结束" if for_seconds else ""),
        f"  模拟校园网：{world.base_url}/  （GBK 论坛、新闻网站、RSS、转帖站点）",
        f"  本地邮箱：  smtp://127.0.0.1:{mailbox.port}  收到的邮件存为 {mail_dir}/*.eml",
        f"  网页控制台：{console_url}/",
        "  演示账号：  "
        + "、".join(f"{name}（{Role.label_of(role)}）" for name, role, _, _ in PEOPLE)
        + f"，密码均为 {PASSWORD}",
        f"  演示配置：  {cfg_path}",
        f"  运行日志：  {log_path}",
        f"  另开终端查看：sentinel --config {cfg_path} incidents | status | posts --matched",
        "  场景：食堂询问 → 炒作转帖 → 造谣煽动聚集 → 建设性建议 → 正常校园新闻 → 食堂话题二次发酵",
    ]
    click.echo("\n".join(lines))


def _watch_mail(mail_dir: Path, stop: threading.Event) -> None:
    seen = {p.name for p in mail_dir.glob("*.eml")}
    parser = BytesParser(policy=policy.default)
    while not stop.is_set():
        for p in sorted(mail_dir.glob("*.eml")):
            if p.name in seen:
                continue
            seen.add(p.name)
            try:
                msg = parser.parsebytes(p.read_bytes(), headersonly=True)
                click.echo(f"[{time.strftime('%H:%M:%S')}] 新邮件 → {msg['To']}：{msg['Subject']}")
            except Exception:  # a half-written file is read next round
                seen.discard(p.name)
        stop.wait(1.0)
