"""The registry of source types: every type, built-in or plug-in, is an entry point in
the ``sentinel.sources`` group, named by the ``type:`` it answers to in
``sentinel.yaml``::

    [project.entry-points."sentinel.sources"]
    weibo = "sentinel_weibo:WeiboSource"

The class is a ``crawler.base.SourceType`` whose ``config_model`` declares the keys it
accepts (an unknown key is an error that names them). The built-ins are declared the
same way in this project's pyproject.toml.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib import metadata

from core.errors import SentinelError
from crawler.base import SourceConfig, SourceType

GROUP = "sentinel.sources"


class SourceTypeError(SentinelError):
    """A declared source type cannot be used (it does not load, or is not a source type)."""


def source_types() -> dict[str, type[SourceType]]:
    """Every source type by name. Looked up again when ``sys.path`` changes (a plug-in
    installed into a running interpreter, a test)."""
    return dict(_load(tuple(sys.path)))


@lru_cache(maxsize=4)
def _load(_path: tuple[str, ...]) -> dict[str, type[SourceType]]:
    declared: dict[str, metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=GROUP):
        other = declared.setdefault(ep.name, ep)
        if other.value != ep.value:
            raise SourceTypeError(
                f"来源类型 '{ep.name}' 被声明了两次（{other.value} 和 {ep.value}），"
                "请卸载其中一个插件"
            )
    if not declared:
        raise SourceTypeError(
            f"没有找到任何来源类型（入口点组 {GROUP}）：sentinel 似乎没有安装，"
            "请在项目目录运行 make install"
        )
    return {name: _checked(declared[name]) for name in sorted(declared)}


def _checked(ep: metadata.EntryPoint) -> type[SourceType]:
    try:
        cls = ep.load()
    except Exception as e:  # a broken plug-in is named, not a traceback
        raise SourceTypeError(
            f"来源类型 '{ep.name}'（{ep.value}）无法加载：{type(e).__name__}: {e}"
        ) from e
    model = getattr(cls, "config_model", None)
    if not (isinstance(cls, type) and issubclass(cls, SourceType)):
        raise SourceTypeError(
            f"来源类型 '{ep.name}'（{ep.value}）不是 crawler.base.SourceType 的子类"
        )
    if not (isinstance(model, type) and issubclass(model, SourceConfig)):
        raise SourceTypeError(
            f"来源类型 '{ep.name}' 的 config_model 不是 crawler.base.SourceConfig 的子类"
        )
    if getattr(cls, "name", ep.name) != ep.name:
        raise SourceTypeError(f"来源类型 '{ep.name}' 的 name 是 '{cls.name}'，应与入口点的名称一致")
    return cls
