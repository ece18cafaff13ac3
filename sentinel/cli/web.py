"""``sentinel web``: the web console under uvicorn."""

from __future__ import annotations

import click

from sentinel.cli.base import AppContext, cli, pass_app


@cli.command()
@click.option("--host", default=None, metavar="H", help="监听地址（默认取 web.host，127.0.0.1）")
@click.option("--port", default=None, type=int, metavar="P", help="端口（默认取 web.port，8080）")
@pass_app
def web(app: AppContext, host: str | None, port: int | None) -> None:
    """网页控制台：事件工单、研判处置、答复审定、报案和统计（浏览器访问）。"""
    import uvicorn

    from sentinel.web import create_app

    cfg = app.config
    host, port = host or cfg.web.host, port if port is not None else cfg.web.port
    _check_free(host, port)
    console = create_app(cfg, app.db)
    click.echo(f"控制台地址：http://{host}:{port}/ （按 Ctrl-C 停止）", err=True)
    try:
        uvicorn.run(
            console,
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=bool(cfg.web.trusted_proxy),
            forwarded_allow_ips=",".join(cfg.web.trusted_proxy) or None,
            server_header=False,
        )
    except OSError as e:
        raise click.ClickException(
            f"无法在 {host}:{port} 上启动控制台：{e.strerror or e}"
        ) from None


def _check_free(host: str, port: int) -> None:
    """A clear sentence, not uvicorn's English log line, when the address is taken."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise click.ClickException(f"无法解析监听地址“{host}”") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            why = "端口已被占用" if e.errno == 98 else (e.strerror or str(e))
            raise click.ClickException(
                f"无法在 {host}:{port} 上启动控制台：{why}（可用 --port 换一个端口）"
            ) from None
