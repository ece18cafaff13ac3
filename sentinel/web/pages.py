"""The incident pages: the queue, one incident with its forms, the actions posted from
them, its stored snapshots, files and evidence pack."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from alerting.incidents import evidence, reading, roles, service, views
from alerting.incidents.review import volume
from alerting.incidents.workflow import get_incident
from alerting.notify.outbox import Outbox
from core.vocabulary import Category, IncidentStatus, Severity
from sentinel.web import forms
from sentinel.web.auth import Poster, Viewer, Who, now_of
from sentinel.web.common import download, in_db, redirect_with
from sentinel.web.forms import for_console

router = APIRouter(include_in_schema=False)
PAGE = 50

# Which forms a role's page shows: the acts the domain allows the role (alerting.incidents
# .roles), so no form is offered that is then refused; the domain still decides each time.
FORMS_FOR = {
    "office": tuple(service.ACTIONS),
    "leader": ("ack", "approve", "reject", "assign"),
    "unit": ("note", "attach", "reply", "submit", "publish", "meeting"),
}


def _filters(request: Request) -> reading.QueueFilter:
    q = request.query_params

    def key(vocab, name):
        m = vocab.get(q.get(name)) if q.get(name) else None
        return m.value if m else None

    return reading.QueueFilter(
        status=key(IncidentStatus, "status"),
        category=key(Category, "category"),
        severity=key(Severity, "severity"),
        assignee=(q.get("assignee") or "").strip() or None,
        unit=(q.get("unit") or "").strip() or None,
        include_closed=q.get("closed") == "1",
    )


@router.get("/")
async def queue_page(request: Request, who: Viewer):
    f = _filters(request)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    now = now_of(request)
    data = await in_db(
        request,
        lambda s: reading.queue(
            s, viewer=who.name, now=now, filters=f, limit=PAGE, offset=(page - 1) * PAGE
        ),
        write=False,
    )
    pages = max(1, -(-data["total"] // PAGE))
    return request.app.state.render(
        request,
        "queue.html",
        {
            **data,
            "f": f,
            "page": page,
            "pages": pages,
            "statuses": list(IncidentStatus),
            "categories": list(Category),
            "severities": list(Severity),
            "query": urlencode(
                [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
            ),
        },
    )


def _incident_view(s, who: Who, incident_id: int, now, config) -> dict:
    inc = get_incident(s, incident_id)
    d = views.detail(s, inc, now, config=config, viewer=who.name)
    texts = reading.post_texts(s, inc)
    for p in d["posts"]:
        p["pieces"] = texts.get(p["id"], {"title": [], "text": []})
    bars = volume(d["posts"], config.tz, now)
    d["chart"] = json.dumps(
        {
            "dates": [t.strftime("%m-%d %H:%M") for t, _ in bars],
            "series": [{"name": "帖文数", "data": [n for _, n in bars]}],
        },
        ensure_ascii=False,
    )
    return d


@router.get("/incidents/{incident_id}")
async def incident_page(request: Request, incident_id: int, who: Viewer):
    config, now = request.app.state.config, now_of(request)
    d = await in_db(request, _incident_view, who, incident_id, now, config, write=False)
    shown = [service.ACTIONS[n] for n in FORMS_FOR.get(who.role, ()) if n in service.ACTIONS]
    return request.app.state.render(
        request,
        "incident.html",
        {
            "d": d,
            "actions": [(a, forms.fields_of(a)) for a in shown if a.name != "check"],
            "can_check": "check" in FORMS_FOR.get(who.role, ()),
            "group_label": config.group_label,
            "now": now,
        },
    )


@router.post("/incidents/{incident_id}/actions/{name}")
async def act(request: Request, incident_id: int, name: str, who: Poster):
    back = f"/incidents/{incident_id}"
    action = service.ACTIONS.get(name)
    if action is None:
        return redirect_with(request, back, f"没有“{name}”这一操作", ok=False)
    values = await forms.values_from(action, await request.form(), who.name)
    state, now = request.app.state, now_of(request)
    outbox = Outbox(state.db, state.config, now=state.now)

    def run(s):
        return service.perform(
            service.Context(s, state.config, outbox, now), incident_id, name, values
        )

    from alerting.incidents.workflow import WorkflowError

    try:
        out = await in_db(request, run)
    except WorkflowError as e:
        return redirect_with(
            request, back, f"{action.title}未完成：{for_console(str(e))}", ok=False
        )
    return redirect_with(request, back, out.message)


@router.get("/incidents/{incident_id}/snapshots/{snapshot_id}")
async def snapshot_page(request: Request, incident_id: int, snapshot_id: int, who: Viewer):
    snap = await in_db(request, reading.snapshot, who.name, incident_id, snapshot_id, write=False)
    return request.app.state.render(
        request, "snapshot.html", {"snap": snap, "incident_id": incident_id}
    )


@router.get("/incidents/{incident_id}/snapshots/{snapshot_id}/frame")
async def snapshot_frame(request: Request, incident_id: int, snapshot_id: int, who: Viewer):
    """The page as fetched, for a sandboxed frame: no script, no request anywhere."""
    snap = await in_db(request, reading.snapshot, who.name, incident_id, snapshot_id, write=False)
    return Response(
        snap["text"],
        media_type="text/html",
        headers={
            "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:; frame-ancestors 'self'",
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


@router.get("/incidents/{incident_id}/files/{item_id}")
async def evidence_download(request: Request, incident_id: int, item_id: int, who: Viewer):
    f = await in_db(request, reading.evidence_file, who.name, incident_id, item_id, write=False)
    return download(f["body"], f["filename"], f["media_type"])


@router.get("/incidents/{incident_id}/evidence.zip")
async def evidence_pack(request: Request, incident_id: int, who: Viewer):
    now = now_of(request)

    def pack(s):
        inc = get_incident(s, incident_id)
        roles.require_see(s, who.name, inc)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "evidence.zip"
            evidence.export(s, inc, out, now=now)
            return out.read_bytes()

    body = await in_db(request, pack, write=False)
    return download(body, f"事件{incident_id}证据包.zip", "application/zip")
