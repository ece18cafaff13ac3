"""``python -m demo``: serve the simulated campus web and the mailbox alone, to browse
them or to point a hand-written sentinel.yaml at them (Ctrl-C stops)."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import yaml

from demo.mailbox import Mailbox
from demo.world import CampusWorld


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m demo", description="模拟校园网与本地邮箱")
    ap.add_argument("--speed", type=float, default=1.0, help="scenario speed factor (default 1)")
    ap.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    ap.add_argument("--smtp-port", type=int, default=0, help="SMTP port (default: a free one)")
    ap.add_argument(
        "--var", default="var", help="folder for mail/ and the printed config (default var)"
    )
    args = ap.parse_args(argv)
    var = Path(args.var)
    with (
        Mailbox(var / "mail", port=args.smtp_port) as box,
        CampusWorld(speed=args.speed, port=args.port) as world,
    ):
        print(f"模拟校园网：{world.base_url}/")
        for name, url in world.urls.items():
            print(f"  {name:7} {url}")
        print(f"本地邮箱：smtp://127.0.0.1:{box.port} → {box.directory}/*.eml")
        print("演示配置（sentinel.yaml）：")
        print(
            yaml.safe_dump(
                world.sentinel_config(var / "demo", box.port), allow_unicode=True, sort_keys=False
            )
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("已停止。")


if __name__ == "__main__":
    main()
