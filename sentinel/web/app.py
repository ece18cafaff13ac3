"""The application factory: templates, static files, security headers, error pages and
the routers (auth, pages, API)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from starlette.exceptions import HTTPException as StarletteHTTPException

from alerting.incidents.roles import RoleError
from core.errors import SentinelError
from core.secrets import web_secret
from core.times import office_time
from core.vocabulary import Polarity
from sentinel.web import auth, onetap
from storage.web_sessions import SessionPolicy

HERE = Path(__file__).resolve().parent

# No inline script or style anywhere: every script and style sheet is a file under
# /static. Frames only from this site (the sandboxed snapshot view); none of ours framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def create_app(config, db=None, *, now: Callable[[], datetime] | None = None) -> FastAPI:
    """The console for ``config`` (a loaded sentinel.config.Config) on ``db`` (a
    storage.db.Database; made from the config's URL when not given)."""
    from sentinel.web import api, pages, pages_more

    if db is None:
        from storage.db import Database

        db = Database(config.database_url)
    app = FastAPI(
        title="sentinel 舆情监测控制台 API",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    env = _environment()
    env.filters["t"] = lambda dt, style="minute": office_time(dt, config.tz, style=style)
    env.filters["polarity"] = Polarity.label_of
    env.globals["console_name"] = "舆情监测与应急处置控制台"

    def render(request: Request, name: str, context: dict, status: int = 200) -> Response:
        from sentinel.web.common import FLASH, take_flash

        flash = take_flash(request)
        ctx = {
            "request": request,
            "who": getattr(request.state, "who", None),
            "flash": flash,
            "path": request.url.path,
            # The server's clock, so countdowns agree with the deadlines it computes.
            "server_now": app.state.now().isoformat(),
            **context,
        }
        resp = HTMLResponse(env.get_template(name).render(ctx), status_code=status)
        if flash is not None:
            resp.delete_cookie(FLASH)
        return resp

    app.state.config = config
    app.state.db = db
    app.state.render = render
    app.state.env = env
    app.state.now = now or auth.default_now
    app.state.secret = web_secret(config.var_path)
    app.state.policy = SessionPolicy(
        idle=timedelta(seconds=config.web.idle_timeout),
        absolute=timedelta(seconds=config.web.session_lifetime),
    )

    from alerting.incidents.settings import settings_of

    # A report takes a few files of at most max_file_size each: refuse a body far past
    # that before reading it (files.check still checks each file).
    body_limit = int(settings_of(config).reports.max_file_size) * 10 + 1024 * 1024

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        started = time.perf_counter()
        size = request.headers.get("content-length", "")
        if size.isdigit() and int(size) > body_limit:
            resp = _error(request, "提交的内容过大：请减少文件数量或压缩后再提交", 413)
        else:
            resp = await call_next(request)
        h = resp.headers
        # What the server spent on the request (the benchmark reads it; so can a browser).
        h["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Frame-Options", "DENY")
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            h.setdefault("Cache-Control", "no-store")
        return resp

    def _api(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/api"

    def _error(request: Request, message: str, status: int) -> Response:
        if _api(request):
            return JSONResponse({"error": message}, status_code=status)
        return render(request, "error.html", {"message": message}, status=status)

    @app.exception_handler(auth.NotLoggedIn)
    async def not_logged_in(request: Request, exc):
        if _api(request):
            return JSONResponse({"error": "请先登录"}, status_code=401)
        return auth.login_page(request, status=401)

    @app.exception_handler(auth.CsrfRefused)
    async def csrf_refused(request: Request, exc):
        return _error(request, "表单已失效（缺少或不符的校验码），请刷新页面后重新提交", 403)

    @app.exception_handler(RoleError)
    async def role_error(request: Request, exc):
        return _error(request, str(exc), 403)

    @app.exception_handler(SentinelError)
    async def domain_error(request: Request, exc):
        from sentinel.web.forms import for_console

        text = for_console(str(exc))
        return _error(request, text, 404 if text.startswith("没有编号为") else 400)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc):
        errs = exc.errors()
        where = ".".join(str(p) for p in errs[0]["loc"][1:]) if errs else ""
        return _error(request, f"请求的参数不正确：{where}", 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc):
        messages = {404: "没有这个页面", 405: "不支持这种请求方式"}
        return _error(request, messages.get(exc.status_code, "请求无法处理"), exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc):
        import logging

        logging.getLogger("sentinel.web").exception("console error on %s", request.url.path)
        return _error(request, "控制台内部出错，已记入日志；请稍后重试或联系管理员", 500)

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(pages_more.router)
    app.include_router(api.router)
    # The one-tap links of mails: no login, the signed token is the person's authority.
    app.include_router(onetap.router)
    return app
