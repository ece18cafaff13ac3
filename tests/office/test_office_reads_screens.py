"""What the office sees on a screen: an alert mail, an escalation mail, the digest, a
review and the weekly report, screenshotted with Debian's chromium on a desktop and at a
phone's width, into tests/artifacts/screens/ (not committed; look at them).

The phone is a 390-pixel-wide frame: headless chromium will not lay a window out
narrower than 500 pixels, so each document is shown in an iframe of the phone's width,
where its own media queries apply as on a phone. The same frame tells whether anything
sticks out to the right (a long link, a wide table): the document must not be wider
than the phone.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest

from tests.office.conftest import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)",
)
SCREENS = ARTIFACTS / "screens"
DESKTOP, PHONE = (1280, 1800), (390, 1400)


def _documents(docs) -> dict[str, str]:
    alert = next(m for m in docs.mails if "【特急】【舆情预警】" in m.subject)
    escalation = next(m for m in docs.mails if "leader@" in m.to and "舆情报告（第2级" in m.subject)
    calm = next(m for m in docs.mails if "【舆情预警】【Ⅳ级" in m.subject)
    return {
        "alert-mail": alert.html,
        "calm-alert-mail": calm.html,
        "escalation-mail": escalation.html,
        "digest": docs.digest_html,
        "review": docs.reviews[1][0],
        "weekly": docs.weekly_html,
    }


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the module (headless, as the command line's ``--headless``), a
    page of its own for each screenshot."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--allow-file-access-from-files",
            ],
        )
        yield b
        b.close()


def _page(chromium, size: tuple[int, int], url: str):
    page = chromium.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(url, wait_until="load", timeout=90_000)
    return page


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def _phone_frame(doc: Path) -> Path:
    frame = doc.with_name(doc.stem + ".phone.html")
    w, h = PHONE
    frame.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>…</title></head>'
        f'<body style="margin:0"><iframe id="f" src="{doc.name}" style="width:{w}px;height:{h}px;border:0"></iframe>'
        "<script>document.getElementById('f').onload=function(){var d=this.contentDocument.documentElement;"
        "document.title='W='+d.scrollWidth;}</script></body></html>",
        encoding="utf-8",
    )
    return frame


@pytest.mark.parametrize(
    "name", ["alert-mail", "calm-alert-mail", "escalation-mail", "digest", "review", "weekly"]
)
def test_documents_screenshot_on_a_desktop_and_a_phone(office_documents, chromium, name):
    SCREENS.mkdir(parents=True, exist_ok=True)
    doc = SCREENS / f"{name}.html"
    doc.write_text(_documents(office_documents)[name], encoding="utf-8")
    frame = _phone_frame(doc)
    for label, (w, h), target in (("desktop", DESKTOP, doc), ("phone", PHONE, frame)):
        png = SCREENS / f"{name}-{label}.png"
        png.unlink(missing_ok=True)
        page = _page(chromium, (w, h), target.as_uri())
        page.screenshot(path=str(png))
        page.close()
        assert png.exists(), f"chromium wrote no {png}"
        assert _png_size(png) == (w, h)
        assert png.stat().st_size > 20_000, f"{png} looks blank ({png.stat().st_size} bytes)"
    # Nothing sticks out to the right at a phone's width.
    page = _page(chromium, PHONE, frame.as_uri())
    page.wait_for_function("document.title.startsWith('W=')", timeout=90_000)
    dom = page.content()
    page.close()
    m = re.search(r"<title>W=(\d+)</title>", dom)
    assert m, dom[:300]
    assert int(m.group(1)) <= PHONE[0], f"{name} is {m.group(1)} px wide on a {PHONE[0]} px phone"
