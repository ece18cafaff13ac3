"""Domain errors. Raised deep, turned into one clear line at the CLI boundary."""

from __future__ import annotations


class SentinelError(Exception):
    """Base for every error the CLI reports as one line instead of a traceback."""

    exit_code = 1


class PositionedError(SentinelError):
    """An error in a file the office edits, reported as ``FILE:LINE:COL: message``."""

    def __init__(self, file: str, line: int, col: int, message: str):
        self.file, self.line, self.col, self.message = str(file), line, col, message
        super().__init__(f"{self.file}:{line}:{col}: {message}")


class ConfigError(PositionedError):
    """``sentinel.yaml`` is missing, unreadable or invalid."""

    exit_code = 2


class WatchlistError(PositionedError):
    """A watchlist YAML file is invalid."""

    exit_code = 1


class OutputError(SentinelError):
    """A file the user asked for (``--out``) could not be written."""


def write_output(path, data: str | bytes):
    """Write a file the user asked for, creating its folder; any OS error becomes one
    clear line (folder not creatable, no permission, a directory in the way, disk full)."""
    import errno
    from pathlib import Path

    p = Path(path)
    try:
        if p.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(p))
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            p.write_bytes(data)
        else:
            p.write_text(data, encoding="utf-8")
    except OSError as e:
        reason = {
            errno.EACCES: "没有写入权限",
            errno.EPERM: "没有写入权限",
            errno.EROFS: "所在磁盘只读",
            errno.ENOSPC: "磁盘已满",
            errno.EISDIR: "这是一个文件夹，请给出文件名",
            errno.ENOTDIR: "路径中有一段不是文件夹",
            errno.ENOENT: "文件夹不存在且无法创建",
        }.get(e.errno, e.strerror or type(e).__name__)
        raise OutputError(f"无法写入 {p}：{reason}") from None
    return p
