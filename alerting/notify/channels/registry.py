"""The channel registry: every channel, built-in or plug-in, is an entry point.

A package adds a channel by declaring, in its ``pyproject.toml``::

    [project.entry-points."sentinel.channels"]
    pager = "sentinel_pager:PagerChannel"

sentinel's own channels (``email``, ``chat``) are declared the same way in sentinel's
pyproject.toml; nothing registers itself by import. The outbox asks ``channel_types()``
for every channel when it queues a message and when it sends one.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

from pydantic import BaseModel

from alerting.notify.channels.base import Channel
from core.errors import SentinelError

GROUP = "sentinel.channels"

# Entry points only change when the import path does (a package installed in a running
# process is not a supported case): one scan per sys.path.
_cache: dict[tuple[str, ...], dict[str, type[Channel]]] = {}


class ChannelError(SentinelError):
    """A declared channel cannot be used (broken entry point, wrong class)."""


def channel_types() -> dict[str, type[Channel]]:
    """Every declared channel by kind, in the order of their names."""
    path = tuple(sys.path)
    if path not in _cache:
        _cache[path] = _scan()
    return dict(_cache[path])


def _scan() -> dict[str, type[Channel]]:
    found: dict[str, type[Channel]] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        where = f"入口点 {GROUP}:{ep.name}（{ep.value}）"
        try:
            cls = ep.load()
        except Exception as e:
            raise ChannelError(f"{where} 无法加载：{type(e).__name__}: {e}") from None
        if not (isinstance(cls, type) and issubclass(cls, Channel)):
            raise ChannelError(f"{where} 不是 Channel 的子类")
        if cls.kind != ep.name:
            raise ChannelError(f"{where} 的 kind 是 {cls.kind!r}，应与入口点名称 {ep.name!r} 相同")
        model = getattr(cls, "config_model", None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise ChannelError(f"{where} 没有声明配置模型 config_model（pydantic 模型）")
        if ep.name in found and found[ep.name] is not cls:
            raise ChannelError(
                f"有两个渠道都叫 {ep.name!r}：{found[ep.name].__module__} 和 {cls.__module__}"
            )
        found[ep.name] = cls
    if not found:
        raise ChannelError(
            f"没有找到任何通知渠道（入口点组 {GROUP}）：sentinel 未安装或安装已过期，请执行 make install"
        )
    return found
