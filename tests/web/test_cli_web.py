"""``sentinel web`` starts the console on the given port, and says so in Chinese when the
port is taken."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.web.conftest import free_port

SENTINEL = Path(sys.executable).parent / "sentinel"


def test_sentinel_web_serves_the_login_page_and_refuses_a_taken_port(tmp_path):
    (tmp_path / "sentinel.yaml").write_text("database: sqlite:///var/s.db\n", encoding="utf-8")
    port = free_port()
    cmd = [str(SENTINEL), "--config", str(tmp_path / "sentinel.yaml"), "web", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the console did not start"
                time.sleep(0.2)
        assert r.status_code == 200 and "登录" in r.text
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 1
        assert f"无法在 127.0.0.1:{port} 上启动控制台：端口已被占用" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        proc.terminate()
        proc.wait(10)
