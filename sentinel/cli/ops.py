"""Operations: ``sentinel backup`` (and the crawl worker)."""

from __future__ import annotations

from pathlib import Path

import click

from sentinel.cli.base import AppContext, cli, json_option, pass_app, print_json


@cli.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="备份文件（SQLite：数据库副本；PostgreSQL：pg_dump 自定义格式）",
)
@click.option("--force", is_flag=True, help="文件已存在时覆盖")
@json_option
@pass_app
def backup(app: AppContext, out: Path, force: bool, as_json: bool) -> None:
    """备份数据库：守护进程运行时也能得到一致的副本（SQLite 在线备份，PostgreSQL 用 pg_dump）。"""
    from storage.backup import backup as make_backup

    done = make_backup(app.db, out, overwrite=force)
    if as_json:
        print_json(done.to_dict())
        return
    size = done.bytes / 1024 / 1024
    how = "SQLite 在线备份" if done.method.startswith("sqlite") else "pg_dump（恢复用 pg_restore）"
    click.echo(f"已备份数据库到 {done.path}（{size:.1f} MB，{how}，用时 {done.seconds:.1f} 秒）。")


@cli.command()
@click.option(
    "--name",
    default=None,
    metavar="N",
    help="采集节点名称（默认：主机名-进程号），显示在 sentinel status 中",
)
@click.option("--verbose", is_flag=True, help="记录更详细的日志")
@pass_app
def worker(app: AppContext, name: str | None, verbose: bool) -> None:
    """采集节点：从采集队列（crawl_queue，Redis）领取网站采集，把帖子存入同一数据库。"""
    from core import logs
    from sentinel.worker import run_worker

    cfg = app.config
    path = logs.setup(cfg.var_path, verbose=verbose, fmt=cfg.log_format)
    click.echo(f"日志写入 {path}；按 Ctrl-C 停止。", err=True)
    run_worker(cfg, name)
