"""The pages of the one-tap links in mails: ``/ack/{token}`` and ``/approve/{token}``.

No login: the signed token is the person's authority (alerting/links). A GET only shows
the incident's summary (and, for an approval, the draft) with a confirm button; mail
scanners and link previews open links, so nothing acts until the person posts the form.
The form carries a CSRF field tied to a cookie set with the page (SameSite=Strict), so
another site cannot post it. Refusals are pages in plain words with a fitting status:
400 changed or foreign, 410 expired or used, 403 no longer allowed, 409 moved on.

The app that includes ``router`` sets ``app.state.db`` (storage.db.Database) and
``app.state.config`` (sentinel.config.Config); ``app.state.now`` (a callable returning an
aware UTC datetime) is optional, for tests with a controllable clock.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.concurrency import run_in_threadpool

from alerting.links import grant as links
from alerting.links.rules import LinkRefused
from alerting.notify.outbox import Outbox
from core import templating
from core.secrets import web_secret
from core.times import office_time
from storage.types import utcnow

log = logging.getLogger("sentinel.web")

router = APIRouter()

HERE = Path(__file__).parent
CSS = HERE / "static" / "onetap.css"
CSRF_COOKIE = "sentinel_onetap"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never pass it on
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_env = None


def _templates():
    global _env
    if _env is None:
        _env = templating.environment(HERE / "templates", html=True)
    return _env


def _state(request: Request):
    st = request.app.state
    return st.db, st.config, getattr(st, "now", utcnow)


def _csrf(config, cookie: str, token: str) -> str:
    key = hashlib.sha256(("onetap-csrf:" + web_secret(config.var_path)).encode()).digest()
    return hmac.new(key, f"{cookie}|{token}".encode(), hashlib.sha256).hexdigest()


def _page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    css = request.scope.get("root_path", "") + "/onetap/onetap.css"
    html = _templates().get_template(f"onetap/{name}.html").render(css=css, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _refused(request: Request, e: LinkRefused) -> HTMLResponse:
    return _page(request, "refused", e.status, reason=e.reason.label, detail=e.detail)


def _failed(request: Request) -> HTMLResponse:
    log.exception("一键链接页面出错")
    return _page(
        request,
        "refused",
        503,
        reason="系统暂时无法处理",
        detail="请稍后再打开邮件中的链接；如情况紧急，请直接联系舆情办工作人员",
    )


def _show(
    request: Request, action: str, token: str, *, error: str = "", status: int = 200
) -> HTMLResponse:
    db, config, now = _state(request)
    try:
        with db.reading() as s:
            g = links.open(s, token, config=config, now=now(), action=action)
            reply = None
            if g.reply is not None:
                reply = {
                    "version": g.reply.version,
                    "text": g.reply.text,
                    "drafted_by": g.reply.drafted_by,
                    "submitted_at": office_time(
                        g.reply.submitted_at or g.reply.drafted_at, config.tz
                    ),
                }
            person = g.user.name
    except LinkRefused as e:
        return _refused(request, e)
    except Exception:
        return _failed(request)
    cookie = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    resp = _page(
        request,
        "confirm",
        status,
        error=error,
        action=action,
        person=person,
        incident=g.summary,
        reply=reply,
        expires=g.expires,
        csrf=_csrf(config, cookie, token),
    )
    resp.set_cookie(
        CSRF_COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return resp


async def _act(request: Request, action: str, token: str) -> HTMLResponse:
    db, config, now = _state(request)
    form = await request.form()
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = str(form.get("csrf", ""))
    if not cookie or not hmac.compare_digest(sent, _csrf(config, cookie, token)):
        return _page(
            request,
            "refused",
            403,
            reason="表单已失效",
            detail="请重新打开邮件中的链接，在打开的页面上点确认按钮",
        )
    note = str(form.get("note", ""))
    decision = str(form.get("decision", "")) or action  # 退回修改 on an approval page

    def use():
        with db.session() as s:
            g, outcome = links.use(
                s,
                token,
                now(),
                config=config,
                outbox=Outbox(db, config, now=now),
                action=action,
                note=note,
                decision=decision,
            )
            summary = {k: v for k, v in g.summary.items() if k != "ack_due"}  # met now
            return outcome, summary, g.user.name, office_time(g.link.used_at, config.tz)

    try:
        outcome, summary, person, at = await run_in_threadpool(use)
    except LinkRefused as e:
        return _refused(request, e)
    except links.NoteNeeded as e:  # nothing done, the link still works: ask again
        asked = f"{e}：请在“审定意见”中写明要改什么"
        return await run_in_threadpool(_show, request, action, token, error=asked, status=422)
    except Exception:
        return _failed(request)
    return _page(
        request,
        "done",
        decision=decision,
        action=action,
        message=outcome.message,
        incident=summary,
        person=person,
        at=at,
    )


@router.get("/onetap/onetap.css", name="onetap_css", include_in_schema=False)
def stylesheet() -> FileResponse:
    return FileResponse(CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/ack/{token}", response_class=HTMLResponse, include_in_schema=False)
def ack_page(request: Request, token: str) -> HTMLResponse:
    """The acknowledgement page of a report's one-tap link."""
    return _show(request, "ack", token)


@router.post("/ack/{token}", response_class=HTMLResponse, include_in_schema=False)
async def ack(request: Request, token: str) -> HTMLResponse:
    return await _act(request, "ack", token)


@router.get("/approve/{token}", response_class=HTMLResponse, include_in_schema=False)
def approve_page(request: Request, token: str) -> HTMLResponse:
    """The approval page of a reply draft's one-tap link."""
    return _show(request, "approve", token)


@router.post("/approve/{token}", response_class=HTMLResponse, include_in_schema=False)
async def approve(request: Request, token: str) -> HTMLResponse:
    return await _act(request, "approve", token)
