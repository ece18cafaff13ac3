"""The daemon about itself: a broken edit of ``sentinel.yaml`` that it keeps out
(【配置有误】). One message per broken version of the file (keyed by its content), so
saving the same mistake again tells nobody twice."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from alerting.compose.spec import MessageSpec
from core.times import office_time
from core.vocabulary import MessageKind


def config_broken(
    path: str, error: str, digest: str, loaded_at: datetime | None, *, tz: ZoneInfo
) -> MessageSpec:
    """``path`` was changed into something that does not load (``error``, one line);
    the daemon goes on with the configuration it loaded at ``loaded_at``."""
    return MessageSpec(
        key=f"config_error:{digest}",
        kind=MessageKind.CONFIG_ERROR.value,
        to=("office",),
        subject=f"【{MessageKind.CONFIG_ERROR.label}】配置文件修改有误，守护进程沿用上一版有效配置",
        template="notice",
        context={
            "heading": "配置文件修改有误",
            "lead": "配置文件 sentinel.yaml 的最新修改无法加载，守护进程未采用这次修改，"
            "仍按上一版有效配置运行（来源、通知、摘要等均不受影响）。",
            "facts": [
                ("文件", path),
                ("错误", error[:500]),
                ("当前使用的配置加载于", office_time(loaded_at, tz) if loaded_at else "—"),
            ],
            "paragraphs": [
                "请改正后保存，守护进程会自动重新加载；也可运行 sentinel config check 检查。"
            ],
        },
    )
