"""The one secret behind console sessions and the signed one-tap links in mails.

Taken from ``$SENTINEL_WEB_SECRET`` when it is set; otherwise made once, at random, and kept
in ``var_dir/web-secret`` (mode 0600), so the daemon that writes the mails and the console
that checks their links agree without anyone configuring anything. Changing the secret makes
every session and every link already sent invalid, which is what rotating it is for.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ENV = "SENTINEL_WEB_SECRET"
FILE_NAME = "web-secret"


def web_secret(var_dir: Path | str) -> str:
    """The secret: the environment's if set, else the one kept under ``var_dir``."""
    given = os.environ.get(ENV, "").strip()
    if given:
        return given
    path = Path(var_dir) / FILE_NAME
    try:
        kept = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    made = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start at once, one writes and the other reads its secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(made + "\n")
    return made
