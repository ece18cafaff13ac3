"""The daemon's ``sentinel.yaml``, reloaded without a restart when the file changes (or
on SIGHUP), as the watchlists already are; a broken edit is kept out: the daemon goes
on with the last good configuration and says so — once in the log, on its lock row
(``sentinel status``) and in one mail to the office per broken version of the file.

``ConfigWatcher.check`` only loads and validates; the scheduler applies a new
configuration to its jobs.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from core.errors import SentinelError
from sentinel import config as config_mod
from sentinel.config import Config
from storage.types import utcnow

log = logging.getLogger("sentinel.reload")

# Keys read once at start: a change to them is loaded but needs a restart to take effect.
RESTART_KEYS = ("database", "var_dir", "metrics", "log_format")


def _stamp(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class ConfigWatcher:
    """The last good configuration and the state of the file. ``check()`` returns a
    new, valid configuration when the file changed, else None; ``on_broken(error,
    digest)`` is called once per broken version, ``on_loaded(config)`` for each new
    good one (also the first good one after a broken edit)."""

    def __init__(
        self,
        config: Config,
        *,
        on_broken: Callable[[str, str], None] | None = None,
        on_loaded: Callable[[Config], None] | None = None,
        now: Callable[[], datetime] = utcnow,
    ):
        if config.file is None:
            raise ValueError("a configuration loaded from a file is needed")
        self.path: Path = config.file
        self.config = self.started_with = config
        self.on_broken, self.on_loaded, self.now = on_broken, on_loaded, now
        self.error: str | None = None
        self.loaded_at: datetime = now()
        self._stamp = _stamp(self.path)
        self._digest = self._good = _digest(self.path)
        self._lock = threading.Lock()

    def check(self, force: bool = False) -> Config | None:
        """Look at the file (``force``: read it even when it looks untouched, SIGHUP)."""
        with self._lock:
            stamp = _stamp(self.path)
            if not force and stamp == self._stamp:
                return None
            self._stamp = stamp
            digest = _digest(self.path)
            if digest == self._digest and not force:
                return None  # touched, not changed
            self._digest = digest
            try:
                new = config_mod.load(self.path)
            except SentinelError as e:
                self._broken(str(e), digest or "missing")
                return None
            if self.error is not None:
                log.info("配置文件已恢复正常，已重新加载")
            self.error = None
            if digest == self._good and not force:
                return None  # back to the version in use: nothing to apply
            self._good, self.config, self.loaded_at = digest, new, self.now()
            log.info("配置文件已重新加载：%d 个来源", len(new.sources))
            for key in RESTART_KEYS:
                if getattr(new, key) != getattr(self.started_with, key):
                    log.warning("配置项 %s 已修改，需要重启守护进程才能生效", key)
            if self.on_loaded:
                self.on_loaded(new)
            return new

    def _broken(self, error: str, digest: str) -> None:
        """Keep the last good configuration; tell once per distinct mistake."""
        first_time = error != self.error
        self.error = error
        if first_time:
            log.error("配置文件有误，未采用这次修改，继续使用上一版有效配置：%s", error)
            if self.on_broken:
                self.on_broken(error, digest)
