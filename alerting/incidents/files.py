"""Files handed in as evidence: a screenshot of a WeChat or QQ group, a photo, a PDF.

A rumour seen in a chat group has no URL; what the reporter has is a picture of it.
Each file is checked (size against ``incidents.reports.max_file_size``, type by its
first bytes — never by its name) before anything is written, stored once in the
database by its SHA-256 exactly as received (``evidence_files``, append-only, so the
evidence pack and a database backup hold it), and attached to the incident as an
evidence item with its name, type, size, who and when.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.incidents import roles
from alerting.incidents.settings import settings_of
from alerting.incidents.workflow import WorkflowError, record
from storage.models import EvidenceFile, EvidenceItem, Incident, Post

ACCEPTED = "图片（PNG、JPEG、GIF、WebP、HEIC）、PDF 和纯文本"
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


class FileRefused(WorkflowError):
    """A file that is too large, empty or of a type we do not keep."""


class Upload(BaseModel):
    """A file as handed in: the name it had and its bytes."""

    name: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The media type by the content's first bytes, or None for anything we do not keep."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/avif" if data[8:12] == b"avif" else "image/heic"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return "text/plain" if _is_text(data) else None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for codec in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n\f")
        return controls <= len(text) // 100
    return False


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"


def check(upload: Upload, config) -> str:
    """The file's media type when it may be kept; ``FileRefused`` with a sentence saying
    why not."""
    limit = int(settings_of(config).reports.max_file_size)
    name = upload.name or "（无名文件）"
    if not upload.data:
        raise FileRefused(f"文件“{name}”是空文件")
    if len(upload.data) > limit:
        raise FileRefused(
            f"文件“{name}”超过大小上限 {human_size(limit)}（incidents.reports.max_file_size），"
            "请压缩或截取后再提交"
        )
    media = sniff(upload.data)
    if media is None:
        raise FileRefused(
            f"文件“{name}”不是可接受的类型（按文件内容识别，而不是文件名）：只接受{ACCEPTED}"
        )
    return media


def read_path(path: str | Path, config) -> Upload:
    """A file on disk as an upload; reads at most one byte past the size limit."""
    p = Path(path)
    limit = int(settings_of(config).reports.max_file_size)
    try:
        with p.open("rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise FileRefused(f"找不到文件 {p}：请核对路径和文件名") from None
    except IsADirectoryError:
        raise FileRefused(f"{p} 是文件夹，请给出其中的文件") from None
    except PermissionError:
        raise FileRefused(f"没有权限读取文件 {p}") from None
    except OSError as e:
        raise FileRefused(f"无法读取文件 {p}（{e.strerror or e}）") from None
    return Upload(name=p.name, data=data)


def _store(session: Session, data: bytes, media: str, now: datetime) -> EvidenceFile:
    digest = hashlib.sha256(data).hexdigest()
    f = session.scalar(select(EvidenceFile).where(EvidenceFile.sha256 == digest))
    if f is None:
        f = EvidenceFile(sha256=digest, size=len(data), media_type=media, body=data, stored_at=now)
        session.add(f)
        session.flush()
    return f


def attach(
    session: Session,
    incident: Incident,
    uploads: list[Upload],
    *,
    by: str,
    config,
    now: datetime,
    note: str | None = None,
    post: Post | None = None,
    role_checked: bool = False,
) -> list[EvidenceItem]:
    """补充材料: attach files to the incident (the office, or the incident's unit). Every
    file is checked before any is stored; the same file twice is kept once."""
    name = (
        by
        if role_checked
        else roles.require(session, by, "添加材料", incident, own_unit_may=True).name
    )
    if not uploads:
        raise FileRefused("请用 --file 给出要添加的文件")
    kinds = [check(u, config) for u in uploads]
    have = set(
        session.scalars(
            select(EvidenceItem.file_id).where(
                EvidenceItem.incident_id == incident.id, EvidenceItem.file_id.is_not(None)
            )
        )
    )
    added: list[EvidenceItem] = []
    for u, media in zip(uploads, kinds, strict=True):
        f = _store(session, u.data, media, now)
        if f.id in have:
            continue
        have.add(f.id)
        item = EvidenceItem(
            incident_id=incident.id,
            post_id=post.id if post else None,
            snapshot_id=None,
            sha256=f.sha256,
            added_at=now,
            added_by=name,
            file_id=f.id,
            filename=u.name[:300],
            note=note or ("报案附件" if post is not None else "补充材料"),
        )
        session.add(item)
        added.append(item)
    session.flush()
    if added:
        listing = "；".join(
            f"{i.filename}（{_media(session, i)}，SHA-256 {i.sha256[:16]}…）" for i in added
        )
        record(
            session,
            incident,
            "file_added",
            actor=name,
            now=now,
            note=f"{len(added)} 份：{listing}" + (f"。{note}" if note else ""),
            files=[i.file_id for i in added],
            sha256=[i.sha256 for i in added],
        )
    return added


def _media(session: Session, item: EvidenceItem) -> str:
    f = session.get(EvidenceFile, item.file_id)
    return f"{f.media_type}，{human_size(f.size)}" if f else ""
