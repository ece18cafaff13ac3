"""The console's other pages: the manual report (报案) with files, post search, sources'
health, the watchlists' test box, trends, digests, reports and users."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from alerting.incidents import files, manual, roles, users
from alerting.incidents.review import render as render_review
from alerting.incidents.review import render_weekly
from alerting.incidents.workflow import WorkflowError, get_incident
from alerting.notify.outbox import Outbox
from core.vocabulary import Category, HitKind, Role, Severity, SourceHealth
from sentinel.web.auth import Poster, Viewer, Who, now_of
from sentinel.web.common import in_db, redirect_with
from sentinel.web.forms import for_console
from storage import health, listing

router = APIRouter(include_in_schema=False)
# Our own rendered reports carry their styles inline; they get a page of their own with
# a policy that allows those styles and nothing else.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@router.get("/report")
async def report_form(request: Request, who: Viewer):
    return request.app.state.render(
        request, "report.html", {"categories": list(Category), "max": files_limit(request)}
    )


def files_limit(request: Request) -> str:
    from alerting.incidents.settings import settings_of

    return files.human_size(int(settings_of(request.app.state.config).reports.max_file_size))


@router.post("/report")
async def report_submit(request: Request, who: Poster):
    form = await request.form()
    state, now = request.app.state, now_of(request)
    title, note = str(form.get("title") or ""), str(form.get("note") or "")
    url = str(form.get("url") or "").strip() or None
    category = str(form.get("category") or "").strip() or None
    uploads = [
        files.Upload(name=up.filename, data=await up.read())
        for up in form.getlist("file")
        if hasattr(up, "read") and getattr(up, "filename", None)
    ]
    try:
        for u in uploads:
            files.check(u, state.config)

        def first(s):
            roles.require(s, who.name, "报案", roles=roles.EVERYONE)
            return manual.needs_fetch(s, url)

        fetch = await in_db(request, first)
        from starlette.concurrency import run_in_threadpool

        fetched = await run_in_threadpool(manual.fetch_page, url, state.config) if fetch else None

        def run(s):
            r = manual.report(
                s,
                url=url,
                title=title,
                note=note,
                by=who.name,
                config=state.config,
                outbox=Outbox(state.db, state.config, now=state.now),
                now=now,
                uploads=uploads,
                category=category,
                fetched=fetched,
            )
            return r.incident.id, r.opened, len(r.files), (r.page or {}).get("error")

        iid, opened, kept, page_error = await in_db(request, run)
    except WorkflowError as e:
        return redirect_with(request, "/report", f"报案未提交：{for_console(str(e))}", ok=False)
    said = "已立案" if opened else "已并入已有事件"
    if kept:
        said += f"，{kept} 份材料已保存为证据"
    said += f"（事件 #{iid}）"
    if page_error:  # as `sentinel report --url` says it: the report is kept all the same
        said += f"；网页未能保存快照：{page_error}（报案已记录）"
    return redirect_with(request, f"/incidents/{iid}", said)


@router.get("/posts")
async def posts_page(request: Request, who: Viewer):
    roles_ok = await in_db(request, _office_or_leader, who, write=False)
    q = request.query_params
    text, source = (q.get("q") or "").strip(), (q.get("source") or "").strip()
    matched = q.get("matched") == "1"
    try:
        days = min(365, max(0, int(q.get("days") or "0")))
    except ValueError:
        days = 0
    since = now_of(request) - timedelta(days=days) if days else None
    rows = await in_db(
        request,
        lambda s: listing.posts(
            s, source=source or None, since=since, matched=matched, text=text or None, limit=100
        ),
        write=False,
    )
    for r in rows:
        r["link"] = r["url"] if str(r["url"]).startswith(("http://", "https://")) else None
    return request.app.state.render(
        request,
        "posts.html",
        {
            "rows": rows,
            "q": text,
            "source": source,
            "matched": matched,
            "days": days,
            "ok": roles_ok,
        },
    )


def _office_or_leader(s, who: Who) -> bool:
    roles.require(s, who.name, "查看全部帖文", roles=roles.OFFICE_AND_LEADERS)
    return True


@router.get("/sources")
async def sources_page(request: Request, who: Viewer):
    config = request.app.state.config

    def rows(s):
        _office_or_leader(s, who)
        return health.source_health_rows(s, config)

    data = await in_db(request, rows, write=False)
    for r in data:
        r["health_label"] = SourceHealth.label_of(r["health"])
        r["gap"] = r["health"] not in ("ok", "disabled")
    return request.app.state.render(request, "sources.html", {"rows": data})


_matcher_lock = threading.Lock()


def _matcher(state):
    with _matcher_lock:
        if getattr(state, "matcher", None) is None:
            from alerting.matcher import load_matcher

            cfg = state.config
            state.matcher = load_matcher(cfg.watchlist_files(), cache_dir=cfg.var_path / "cache")
        return state.matcher


@router.get("/watchlists")
async def watchlists_page(request: Request, who: Viewer):
    files_ = [str(p) for p in request.app.state.config.watchlist_files()]
    return request.app.state.render(
        request, "watchlists.html", {"files": files_, "result": None, "text": "", "title": ""}
    )


@router.post("/watchlists")
async def watchlists_test(request: Request, who: Poster):
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    text, title = str(form.get("text") or "")[:20000], str(form.get("title") or "")[:500]
    state = request.app.state
    m = await run_in_threadpool(_matcher, state)
    r = (await run_in_threadpool(m.match, text, title)).to_dict()
    from alerting.incidents.reading import spans

    hits = [dict(h, field=h.get("field", "text")) for h in r.get("hits", [])]
    r["pieces"] = spans(text, hits, "text")
    r["category_label"] = Category.label_of(r.get("category"))
    r["severity_label"] = Severity.label_of(r.get("severity"))
    for h in r.get("hits", []):
        h["kind_label"] = HitKind.label_of(h.get("kind"))
    files_ = [str(p) for p in state.config.watchlist_files()]
    return state.render(
        request, "watchlists.html", {"files": files_, "result": r, "text": text, "title": title}
    )


@router.get("/stats")
async def stats_page(request: Request, who: Viewer):
    """Trends of the period: the same ``alerting.stats.stats`` as ``sentinel stats``."""
    from alerting.stats import stats as compute

    try:
        days = min(366, max(1, int(request.query_params.get("days") or "30")))
    except ValueError:
        days = 30
    now, tz = now_of(request), request.app.state.config.tz

    def run(s):
        _office_or_leader(s, who)
        return compute(s, now - timedelta(days=days), now, tz)

    from alerting.compose.trends import trends_view
    from alerting.compose.views import source_labels

    st = await in_db(request, run, write=False)
    view = trends_view(st, tz, source_labels(request.app.state.config))
    view.pop("chart")  # the mails' SVG; the console draws its own with ECharts
    series = {
        "dates": [d.date.isoformat() for d in st.per_day],
        "series": [
            {"name": "提及学院", "data": [d.mentioned for d in st.per_day]},
            {"name": "需处置", "data": [d.alerts for d in st.per_day]},
            {"name": "负面提及", "data": [round(d.negative * d.mentioned) for d in st.per_day]},
        ],
    }
    return request.app.state.render(
        request,
        "stats.html",
        {"t": view, "days": days, "chart": json.dumps(series, ensure_ascii=False)},
    )


@router.get("/digests")
async def digests_page(request: Request, who: Viewer):
    def rows(s):
        _office_or_leader(s, who)
        return [m for m in listing.outbox(s, limit=500) if m["kind"] == "digest"][:50]

    data = await in_db(request, rows, write=False)
    return request.app.state.render(
        request, "digests.html", {"rows": data, "configured": request.app.state.config.digests}
    )


@router.get("/reports")
async def reports_page(request: Request, who: Viewer):
    return request.app.state.render(request, "reports.html", {})


@router.get("/reports/weekly")
async def weekly_report(request: Request, who: Viewer):
    state, now = request.app.state, now_of(request)

    def run(s):
        _office_or_leader(s, who)
        return render_weekly(s, state.config, now, "html")

    return HTMLResponse(await in_db(request, run), headers={"Content-Security-Policy": REPORT_CSP})


@router.get("/incidents/{incident_id}/review")
async def review_report(request: Request, incident_id: int, who: Viewer):
    state, now = request.app.state, now_of(request)

    def run(s):
        inc = get_incident(s, incident_id)
        return render_review(s, inc, state.config, now, "html", viewer=who.name)

    return HTMLResponse(await in_db(request, run), headers={"Content-Security-Policy": REPORT_CSP})


@router.get("/users")
async def users_page(request: Request, who: Viewer):
    def rows(s):
        roles.require(s, who.name, "管理用户", roles=roles.OFFICE)
        return [users.to_dict(u) for u in users.listing(s, include_inactive=True)]

    data = await in_db(request, rows, write=False)
    return request.app.state.render(request, "users.html", {"rows": data, "roles": list(Role)})


@router.post("/users")
async def users_change(request: Request, who: Poster):
    from alerting.incidents import user_admin

    form = {
        k: v if k == "password" else v.strip()
        for k, v in (await request.form()).items()
        if isinstance(v, str)
    }
    what = form.get("do")

    def run(s):
        if what == "add":
            u = user_admin.add(s, who.name, form.get("name", ""), role=form.get("role", ""),
                               email=form.get("email"), unit=form.get("unit"),
                               password=form.get("password") or None)  # fmt: skip
            return f"已添加用户 {u.name}"
        if what == "password":
            u = user_admin.set_password(s, who.name, form.get("name", ""), form.get("password", ""))
            return f"已为 {u.name} 设置新密码（其已登录的会话随之失效）"
        if what in ("deactivate", "activate"):
            u = user_admin.set_active(s, who.name, form.get("name", ""), what == "activate")
            return f"{u.name} 已{'恢复在岗' if u.active else '停用'}"
        raise WorkflowError("未知的用户操作")

    from core.errors import SentinelError

    try:
        message = await in_db(request, run)
    except SentinelError as e:
        return redirect_with(request, "/users", f"未完成：{for_console(str(e))}", ok=False)
    return redirect_with(request, "/users", message)
