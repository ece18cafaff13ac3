"""The console for the one-tap link pages (``sentinel.web.create_app``, which includes
``sentinel.web.onetap.router``), served by uvicorn on 127.0.0.1, a real mail server
(aiosmtpd), a SQLite database, a controllable clock, and Debian's chromium driven by
playwright on a phone-sized viewport."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from crawler.render import LAUNCH_ARGS
from tests.notify.conftest import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = LAUNCH_ARGS  # the crawler's rendering flags: no background connections
PHONE = {"width": 390, "height": 844}


class Console:
    """uvicorn serving an app that includes the one-tap router, in a thread of ours."""

    def __init__(self, db, config, now):
        import uvicorn

        from sentinel.web import create_app

        # The whole console, as `sentinel web` serves it: the links must work beside its
        # login, CSRF and security headers, not only in an app of their own.
        app = create_app(config, db, now=now)
        self.port = int(config.console_url.rsplit(":", 1)[1])
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def smtp_server():
    srv = SmtpServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def console_port():
    return free_port()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module; each test has a context of its own (``phone``)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    ctx.set_default_timeout(15000)
    yield ctx
    ctx.close()


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
