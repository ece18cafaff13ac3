"""Evidence (固定证据) for category 3: every post's raw snapshot attached with its SHA-256,
and the evidence pack as a zip (posts, snapshots as fetched, files handed in, hashes,
times, event log). Files handed in by reporters are attached in ``files``."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.incidents.workflow import record
from storage.models import (
    ChecklistItem,
    EvidenceFile,
    EvidenceItem,
    Incident,
    IncidentEvent,
    IncidentPost,
    Post,
    Snapshot,
)


def snapshot_bytes(snap: Snapshot) -> bytes:
    """The response body exactly as it was received."""
    if snap.compression == "zlib":
        return zlib.decompress(snap.body)
    if snap.compression in ("", "none", None):
        return snap.body
    raise ValueError(f"unknown snapshot compression {snap.compression!r}")


def preserve(
    session: Session, incident: Incident, *, now: datetime, actor: str = "system"
) -> list[EvidenceItem]:
    """Attach every post's snapshot not yet attached; tick the 'evidence' checklist item."""
    have = set(
        session.scalars(
            select(EvidenceItem.snapshot_id).where(EvidenceItem.incident_id == incident.id)
        )
    )
    rows = session.execute(
        select(Post, Snapshot)
        .join(IncidentPost, IncidentPost.post_id == Post.id)
        .join(Snapshot, Snapshot.id == Post.snapshot_id)
        .where(IncidentPost.incident_id == incident.id)
        .order_by(Post.id)
    ).all()
    added = []
    for post, snap in rows:
        if snap.id in have:
            continue
        have.add(snap.id)
        item = EvidenceItem(
            incident_id=incident.id,
            post_id=post.id,
            snapshot_id=snap.id,
            sha256=snap.sha256,
            added_at=now,
            added_by=actor,
            note=f"原始网页快照 {snap.final_url or snap.url}（抓取于 {snap.fetched_at.isoformat()}）",
        )
        session.add(item)
        added.append(item)
    session.flush()
    if added:
        record(
            session,
            incident,
            "evidence_added",
            actor=actor,
            now=now,
            note=f"固定证据 {len(added)} 份（原始快照及 SHA-256）",
            snapshots=[i.snapshot_id for i in added],
        )
        _tick_auto_item(session, incident, now)
    return added


def collect(session: Session, incident: Incident, *, by: str, now: datetime) -> list[EvidenceItem]:
    """固定证据 by hand, for any category (the office, or the incident's unit)."""
    from alerting.incidents import roles

    user = roles.require(session, by, "固定证据", incident, own_unit_may=True)
    return preserve(session, incident, now=now, actor=user.name)


def attach_snapshot(
    session: Session, incident: Incident, post: Post, *, actor: str, now: datetime, note: str
) -> EvidenceItem | None:
    """Keep one post's snapshot as evidence of the incident (a reported page), once."""
    snap = session.get(Snapshot, post.snapshot_id) if post.snapshot_id else None
    if (
        snap is None
        or session.scalar(
            select(EvidenceItem.id).where(
                EvidenceItem.incident_id == incident.id, EvidenceItem.snapshot_id == snap.id
            )
        )
        is not None
    ):
        return None
    item = EvidenceItem(
        incident_id=incident.id,
        post_id=post.id,
        snapshot_id=snap.id,
        sha256=snap.sha256,
        added_at=now,
        added_by=actor,
        note=f"{note} {snap.final_url or snap.url}（抓取于 {snap.fetched_at.isoformat()}）",
    )
    session.add(item)
    session.flush()
    record(
        session,
        incident,
        "evidence_added",
        actor=actor,
        now=now,
        note=f"{note}（SHA-256 {snap.sha256}）",
        snapshots=[snap.id],
    )
    return item


def _tick_auto_item(session: Session, incident: Incident, now: datetime) -> None:
    # The playbook's 'auto: evidence' item is the one keyed preserve_evidence by default;
    # any item whose title is 固定证据 counts too, for edited playbooks.
    for item in session.scalars(
        select(ChecklistItem).where(ChecklistItem.incident_id == incident.id)
    ):
        if item.done_at is None and (item.key == "preserve_evidence" or item.title == "固定证据"):
            item.done_at, item.done_by, item.note = (
                now,
                "system",
                "系统已自动固定原始快照及其 SHA-256",
            )
            record(session, incident, "check", now=now, note=item.title, item=item.key)


def export(session: Session, incident: Incident, out: Path | str, *, now: datetime) -> dict:
    """Write the evidence pack zip; every snapshot's hash is checked against its bytes."""
    items = session.scalars(
        select(EvidenceItem)
        .where(EvidenceItem.incident_id == incident.id)
        .order_by(EvidenceItem.id)
    ).all()
    manifest = {
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "category": incident.category,
            "severity": incident.severity,
            "opened_at": incident.opened_at.isoformat(),
        },
        "exported_at": now.isoformat(),
        "items": [],
    }
    sums: list[str] = []
    posts_out = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for it in items:
            snap = session.get(Snapshot, it.snapshot_id) if it.snapshot_id else None
            post = session.get(Post, it.post_id) if it.post_id else None
            entry = {
                "evidence_id": it.id,
                "sha256": it.sha256,
                "added_at": it.added_at.isoformat(),
                "added_by": it.added_by,
                "note": it.note,
            }
            kept = session.get(EvidenceFile, it.file_id) if it.file_id else None
            if kept is not None:
                actual = hashlib.sha256(kept.body).hexdigest()
                name = f"files/{it.id}-{kept.sha256[:12]}-{_safe_name(it.filename)}"
                z.writestr(name, kept.body)
                sums.append(f"{actual}  {name}")
                entry.update(
                    {
                        "file": name,
                        "filename": it.filename,
                        "media_type": kept.media_type,
                        "size": kept.size,
                        "hash_verified": actual == it.sha256 == kept.sha256,
                    }
                )
            if snap is not None:
                raw = snapshot_bytes(snap)
                actual = hashlib.sha256(raw).hexdigest()
                name = f"snapshots/{snap.id}-{snap.sha256[:12]}.bin"
                z.writestr(name, raw)
                z.writestr(
                    f"snapshots/{snap.id}-{snap.sha256[:12]}.headers.json",
                    json.dumps(snap.headers, ensure_ascii=False, indent=2),
                )
                sums.append(f"{actual}  {name}")
                entry.update(
                    {
                        "snapshot_id": snap.id,
                        "file": name,
                        "url": snap.url,
                        "final_url": snap.final_url,
                        "status": snap.status,
                        "fetched_at": snap.fetched_at.isoformat(),
                        "size": len(raw),
                        "hash_verified": actual == it.sha256 == snap.sha256,
                    }
                )
            if post is not None:
                entry["post_id"] = post.id
            if post is not None and all(p["id"] != post.id for p in posts_out):
                posts_out.append(
                    {
                        "id": post.id,
                        "url": post.url,
                        "title": post.title,
                        "text": post.text,
                        "author": post.author,
                        "published_at": post.published_at.isoformat()
                        if post.published_at
                        else None,
                        "fetched_at": post.fetched_at.isoformat(),
                        "snapshot_id": post.snapshot_id,
                    }
                )
            manifest["items"].append(entry)
        events = session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.id)
        )
        log = [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "kind": e.kind,
                "note": e.note,
                "data": e.data,
            }
            for e in events
        ]
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        z.writestr("posts.json", json.dumps(posts_out, ensure_ascii=False, indent=2))
        z.writestr("events.json", json.dumps(log, ensure_ascii=False, indent=2))
        z.writestr("SHA256SUMS", "\n".join(sums) + ("\n" if sums else ""))
        z.writestr("README.txt", _readme(incident, len(items)))
    from core.errors import write_output

    out = write_output(out, buf.getvalue())
    return {
        "file": str(out),
        "items": len(items),
        "verified": all(i.get("hash_verified", True) for i in manifest["items"]),
    }


def _safe_name(name: str | None) -> str:
    """A handed-in file's name fit for a zip entry: no folders, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip(". ") or "file"
    return base[-120:]


def _readme(incident: Incident, n: int) -> str:
    return (
        f"事件 #{incident.id}《{incident.title}》证据包\n\n"
        f"共 {n} 份证据。snapshots/ 下为抓取时收到的原始网页字节（未经任何修改）及响应头；\n"
        "files/ 下为报案人、信息管理员提交的截图、照片等文件，与提交时逐字节相同；\n"
        "SHA256SUMS 可用 `sha256sum -c SHA256SUMS` 校验；manifest.json 记录每份证据的网址、抓取时间与哈希；\n"
        "posts.json 为帖文内容；events.json 为事件处置全过程记录（只增不改）。\n"
    )
