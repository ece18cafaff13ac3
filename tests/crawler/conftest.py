"""Fixtures for crawler tests: a loopback HTTP server and a collection context."""

from __future__ import annotations

import pytest

from crawler.base import CollectContext, SourceState, collect_all
from crawler.registry import source_types
from tests.servers.http import LoopbackHTTPServer


@pytest.fixture
def server():
    with LoopbackHTTPServer() as srv:
        yield srv


@pytest.fixture
def context():
    return CollectContext(
        user_agent="sentinel-test/0.1 (+mailto:office@example.edu.cn)",
        queries=["江西警察学院"],
        timezone="Asia/Shanghai",
    )


@pytest.fixture
def collect(context):
    """collect({config dict}, state=None) -> CollectResult, through the registry."""

    def run(config: dict, state: SourceState | None = None, ctx: CollectContext | None = None):
        types = source_types()
        kind = types[config["type"]]
        cfg = kind.config_model.model_validate(config)
        return collect_all(kind(cfg, context=ctx or context), state or SourceState())

    return run
