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


class SourceError(SentinelError):
    """A source could not be fetched or parsed. ``kind`` is a short machine name."""

    def __init__(self, kind: str, message: str):
        self.kind, self.message = kind, message
        super().__init__(f"{kind}: {message}")
