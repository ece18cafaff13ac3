"""Who is asking: the login form, server-side sessions, CSRF and the login throttle.

The cookie holds only a random id (storage.web_sessions); the CSRF token lives in the
session's row and must come back with every POST, as the form's ``csrf`` field or the
``X-CSRF-Token`` header. The login form, which has no session yet, carries a signed
token that must match a cookie set with the form (double submit).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from alerting.incidents import users
from storage import web_sessions
from storage.types import utcnow

COOKIE = "sentinel_session"
LOGIN_COOKIE = "sentinel_login"
router = APIRouter()


class NotLoggedIn(Exception):
    """No live session: the login page (or 401 under /api)."""


class CsrfRefused(Exception):
    """A POST without the session's CSRF token."""


@dataclass(frozen=True)
class Who:
    """The person behind a request."""

    user_id: int
    name: str
    role: str
    unit: str | None
    csrf: str

    @property
    def office(self) -> bool:
        return self.role == "office"


def now_of(request: Request) -> datetime:
    return request.app.state.now()


def client_address(request: Request) -> str:
    """The client's address; X-Forwarded-For only from a configured proxy."""
    peer = request.client.host if request.client else ""
    if peer in request.app.state.config.web.trusted_proxy:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        return forwarded or peer
    return peer


def _find(request: Request) -> Who | None:
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    state = request.app.state
    with state.db.session() as s:
        found = web_sessions.find(s, sid, now_of(request), state.policy)
        if found is None:
            return None
        row, user = found
        return Who(user.id, user.name, user.role, user.unit, row.csrf)


async def viewer(request: Request) -> Who:
    """The logged-in person, else NotLoggedIn."""
    who = await run_in_threadpool(_find, request)
    if who is None:
        raise NotLoggedIn()
    request.state.who = who
    return who


async def poster(request: Request, who: Annotated[Who, Depends(viewer)]) -> Who:
    """The logged-in person of a POST that carries the session's CSRF token."""
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        token = (await request.form()).get("csrf")
    if not isinstance(token, str) or not secrets.compare_digest(token, who.csrf):
        raise CsrfRefused()
    return who


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret, salt="sentinel-login-form")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host after logging in."""
    t = (target or "").strip()
    if not t.startswith("/") or t.startswith(("//", "/login")) or "\\" in t:
        return "/"
    return t


def login_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    """The login form with a fresh token in the form and in a cookie."""
    nonce = secrets.token_urlsafe(16)
    token = _signer(request).dumps(nonce)
    target = request.url.path if request.method == "GET" else "/"
    if request.url.query and request.method == "GET":
        target += "?" + request.url.query
    resp = request.app.state.render(
        request,
        "login.html",
        {"token": token, "error": error, "next": _safe_next(target)},
        status=status,
    )
    resp.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=7200,
        httponly=True,
        samesite="strict",
        secure=request.app.state.config.web.secure_cookies,
    )
    return resp


@router.get("/login", include_in_schema=False)
async def login_form(request: Request):
    return login_page(request)


def _try_login(request: Request, name: str, password: str) -> tuple[str | None, str | None]:
    """(session id, None) on success, else (None, the sentence to show)."""
    state, now = request.app.state, now_of(request)
    keys = [f"user:{name.strip()[:100]}", f"ip:{client_address(request)}"]
    with state.db.session() as s:
        until = web_sessions.locked_until(s, keys, now, state.policy)
        if until is not None:
            minutes = max(1, int((until - now) / timedelta(minutes=1)) + 1)
            return None, f"登录失败次数过多，请 {minutes} 分钟后再试"
    with state.db.session() as s:
        user = users.check_password(s, name, password)
        if user is None:
            web_sessions.failed(s, keys, now, state.policy)
            return None, "用户名或密码不正确"
        web_sessions.succeeded(s, keys)
        web_sessions.prune(s, now, state.policy)
        return web_sessions.start(s, user, now, client_address(request)), None


@router.post("/login", include_in_schema=False)
async def login(request: Request):
    form = await request.form()
    name, password = str(form.get("username") or ""), str(form.get("password") or "")
    token, nonce = str(form.get("csrf") or ""), request.cookies.get(LOGIN_COOKIE, "")
    try:
        signed = _signer(request).loads(token, max_age=7200)
    except BadSignature:
        signed = None
    if not signed or not nonce or not secrets.compare_digest(str(signed), nonce):
        return login_page(request, error="登录表单已过期，请重新输入后登录", status=403)
    if not name.strip() or not password:
        return login_page(request, error="请输入用户名和密码", status=400)
    sid, error = await run_in_threadpool(_try_login, request, name, password)
    if sid is None:
        status = 429 if "次数过多" in (error or "") else 401
        return login_page(request, error=error, status=status)
    resp = RedirectResponse(_safe_next(str(form.get("next") or "/")), status_code=303)
    resp.delete_cookie(LOGIN_COOKIE)
    resp.set_cookie(
        COOKIE,
        sid,
        httponly=True,
        samesite="lax",
        secure=request.app.state.config.web.secure_cookies,
        path="/",
    )
    return resp


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, who: Poster):
    def end():
        with request.app.state.db.session() as s:
            web_sessions.end(s, request.cookies.get(COOKIE))

    await run_in_threadpool(end)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


def default_now() -> datetime:
    return utcnow()


# What routes declare: ``who: Viewer`` (logged in) or ``who: Poster`` (and the CSRF token).
Viewer = Annotated[Who, Depends(viewer)]
Poster = Annotated[Who, Depends(poster)]
