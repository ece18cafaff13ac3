"""Small helpers the page modules share: one-time messages after a POST (a signed
cookie, shown once by the next page), running domain calls off the event loop, and
the download response for stored bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool

FLASH = "sentinel_flash"


def _signer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.secret, salt="sentinel-flash")


def redirect_with(request: Request, url: str, message: str, ok: bool = True) -> Response:
    """Back to ``url`` (a path of ours), with ``message`` shown once there."""
    resp = RedirectResponse(url, status_code=303)
    resp.set_cookie(
        FLASH, _signer(request).dumps([ok, message[:1000]]), httponly=True, samesite="lax"
    )
    return resp


def take_flash(request: Request) -> dict | None:
    raw = request.cookies.get(FLASH)
    if not raw:
        return None
    try:
        ok, message = _signer(request).loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    return {"ok": bool(ok), "message": str(message)}


async def in_db(request: Request, fn: Callable[..., Any], *args, write: bool = True) -> Any:
    """``fn(session, *args)`` in one transaction, in a worker thread."""
    db = request.app.state.db

    def run():
        with db.session() if write else db.reading() as s:
            return fn(s, *args)

    return await run_in_threadpool(run)


def download(body: bytes, filename: str, media_type: str) -> Response:
    """Stored bytes as a download: never rendered by the browser, whatever they are."""
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in filename)
    return Response(
        body,
        media_type=media_type if media_type != "text/html" else "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name or "file"}"; '
            f"filename*=UTF-8''{quote(filename)}",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
