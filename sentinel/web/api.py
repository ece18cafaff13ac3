"""The JSON API under /api: the same readers and the same action table as the pages,
for scripts and the office's own tools. Its OpenAPI document is /api/openapi.json.
Every route needs a session (401 without one); a POST also needs the session's CSRF
token in ``X-CSRF-Token``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, create_model

from alerting.incidents import reading, roles, service, views
from alerting.incidents.roles import RoleError
from alerting.incidents.workflow import WorkflowError, get_incident
from alerting.notify.outbox import Outbox
from core.errors import SentinelError
from core.vocabulary import Category, IncidentStatus, Severity
from sentinel.web.auth import Poster, Viewer, now_of
from sentinel.web.common import in_db
from sentinel.web.forms import for_console
from storage import listing

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "请求无法执行（附原因）"},
    409: {"description": "事件当前的状态不允许这项操作（附原因）"},
    401: {"description": "未登录"},
    403: {"description": "无权执行，或缺少 CSRF 校验码"},
    404: {"description": "没有这个事件"},
    422: {"description": "参数不正确"},
}
router = APIRouter(prefix="/api", responses=ERRORS)


def _key(vocab, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    m = vocab.get(value)
    if m is None:
        raise WorkflowError(f"“{value}”不是有效的{vocab.__noun__}；可用：{vocab.choices_text()}")
    return m.value


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request, who: Viewer):
    return JSONResponse(request.app.openapi())


@router.get("/me", summary="当前登录的用户")
async def me(who: Viewer) -> dict[str, Any]:
    return {"name": who.name, "role": who.role, "unit": who.unit, "csrf": who.csrf}


@router.get("/incidents", summary="事件工单（逾期优先）")
async def incidents(
    request: Request,
    who: Viewer,
    status: IncidentStatus | None = None,
    category: Category | None = None,
    severity: Severity | None = None,
    assignee: str | None = None,
    unit: str | None = None,
    closed: bool = False,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> dict[str, Any]:
    f = reading.QueueFilter(
        status=_key(IncidentStatus, status),
        category=_key(Category, category),
        severity=_key(Severity, severity),
        assignee=assignee,
        unit=unit,
        include_closed=closed,
    )
    now = now_of(request)
    return await in_db(
        request,
        lambda s: reading.queue(s, viewer=who.name, now=now, filters=f, limit=limit, offset=offset),
        write=False,
    )


@router.get("/incidents/{incident_id}", summary="一个事件的全部情况")
async def incident(
    request: Request, who: Viewer, incident_id: Annotated[int, Path(ge=1, le=2**62)]
) -> dict[str, Any]:
    config, now = request.app.state.config, now_of(request)
    return await in_db(
        request,
        lambda s: views.detail(
            s, get_incident(s, incident_id), now, config=config, viewer=who.name
        ),
        write=False,
    )


@router.get("/actions", summary="可执行的操作及其参数")
async def actions_list(who: Viewer) -> list[dict[str, Any]]:
    return [
        {"name": a.name, "title": a.title, "help": a.help, "values": a.values.model_json_schema()}
        for a in service.ACTIONS.values()
        if a.name != "attach"
    ]


def _body_model(action):
    """The action's values without ``by`` (always the logged-in person)."""
    fields = {n: (f.annotation, f) for n, f in action.values.model_fields.items() if n != "by"}
    return create_model(
        f"{action.name.capitalize()}Values", __config__=ConfigDict(extra="forbid"), **fields
    )


def _action_route(action) -> None:
    body = _body_model(action)

    async def run(request, who, incident_id, values):
        state, now = request.app.state, now_of(request)
        outbox = Outbox(state.db, state.config, now=state.now)
        given = {**values.model_dump(exclude_unset=True), "by": who.name}

        def act(s):
            ctx = service.Context(s, state.config, outbox, now)
            out = service.perform(ctx, incident_id, action.name, given)
            return {"message": out.message, "incident": out.incident}

        try:
            return await in_db(request, act)
        except RoleError:
            raise
        except SentinelError as e:  # a refusal by the domain, with its sentence
            status = 404 if str(e).startswith("没有编号为") else 409
            return JSONResponse(
                {"error": f"{action.title}未完成：{for_console(str(e))}"}, status_code=status
            )

    # Real objects, not strings: FastAPI reads the body's model from these.
    run.__annotations__ = {
        "request": Request,
        "who": Poster,
        "incident_id": Annotated[int, Path(ge=1, le=2**62)],
        "values": Annotated[body, Body()],
        "return": dict[str, Any],
    }
    router.add_api_route(
        f"/incidents/{{incident_id}}/actions/{action.name}",
        run,
        methods=["POST"],
        summary=f"{action.title}：{action.help}",
        name=f"action_{action.name}",
    )


for _a in service.ACTIONS.values():
    if _a.name != "attach":  # files go through the page's upload form
        _action_route(_a)


@router.get("/posts", summary="帖文检索")
async def posts(
    request: Request,
    who: Viewer,
    q: str | None = Query(None, max_length=200),
    source: str | None = Query(None, max_length=200),
    matched: bool = False,
    days: int = Query(0, ge=0, le=3650),
    limit: int = Query(50, ge=1, le=500),
) -> list[dict[str, Any]]:
    since = now_of(request) - timedelta(days=days) if days else None

    def run(s):
        roles.require(s, who.name, "查看全部帖文", roles=roles.OFFICE_AND_LEADERS)
        return listing.posts(s, source=source, since=since, matched=matched, text=q, limit=limit)

    return await in_db(request, run, write=False)


@router.get("/stats", summary="舆情趋势（与 sentinel stats --json 相同）")
async def stats(
    request: Request, who: Viewer, days: int = Query(7, ge=1, le=366)
) -> dict[str, Any]:
    from alerting.stats import stats as compute

    now, tz = now_of(request), request.app.state.config.tz

    def run(s):
        roles.require(s, who.name, "查看统计", roles=roles.OFFICE_AND_LEADERS)
        return compute(s, now - timedelta(days=days), now, tz).to_dict()

    return await in_db(request, run, write=False)
