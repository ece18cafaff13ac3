"""Debian's chromium driven by playwright (never a downloaded browser), with every
request off 127.0.0.1 refused and recorded, and every dialog recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crawler.render import LAUNCH_ARGS

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The same flags the crawler's rendering uses (no background connections on a closed
# network), and the browser's own words (the file picker) in Chinese, as the office sees them.
ARGS = [*LAUNCH_ARGS, "--lang=zh-CN"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed (apt-get install -y chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Tab:
    """One browser context (its own cookies) and page, watched for what must not happen."""

    def __init__(self, browser, base: str, viewport=DESKTOP):
        self.base = base
        self.context = browser.new_context(viewport=viewport, locale="zh-CN")
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.page.on("dialog", self._dialog)
        self.context.route("**/*", self._route)

    def _dialog(self, d):
        self.dialogs.append(d.message)
        d.dismiss()

    def _route(self, route):
        url = route.request.url
        if url.startswith((self.base, "data:", "about:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def login(self, name: str, password: str):
        p = self.go("/login")
        p.fill("input[name=username]", name)
        p.fill("input[name=password]", password)
        p.click("button[type=submit]")
        p.wait_for_load_state()
        return p

    def act(self, title: str, **fields):
        """Open the action's form on an incident page, fill it and submit it."""
        p = self.page
        p.click(f"details summary:text-is('{title}')")
        form = p.locator("details[open] form")
        for name, value in fields.items():
            el = form.locator(f"[name={name}]")
            if el.evaluate("e => e.tagName") == "SELECT":
                el.select_option(value)
            else:
                el.fill(value)
        form.locator("button[type=submit]").click()
        p.wait_for_load_state()
        return p.locator(".flash").inner_text()

    def shot(self, name: str):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()
