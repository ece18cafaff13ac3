"""The channel registry: built-ins and plug-ins are entry points of ``sentinel.channels``;
queueing fans a message out to every channel with no channel named in the outbox."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from alerting.compose.notice import incident_notice
from alerting.notify import incident_alerts, outbox
from alerting.notify.channels import Channel, ChannelError, channel_types
from alerting.notify.outbox import Outbox
from alerting.notify.settings import NotifySettings
from storage.models import OutboxMessage
from tests.notify.conftest import make_config, with_notify

ROOT = Path(__file__).resolve().parents[2]

PAGER = '''
"""A pager channel, as an outside package would ship it: one module, one config model."""

import json
import urllib.request

from pydantic import BaseModel, ConfigDict, Field

from alerting.notify.channels.base import Channel, Delivery, DeliveryError


class PagerSettings(BaseModel):
    """Where pages go and who carries a pager."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="The paging gateway.")
    pagers: dict[str, list[str]] = Field(description="Pager numbers per recipient group.")


class PagerChannel(Channel):
    kind = "pager"
    config_model = PagerSettings

    @classmethod
    def deliveries(cls, config, draft):
        settings = cls.settings_of(config)
        if settings is None:
            return []
        return [Delivery(recipients=settings.pagers[g], body=draft.subject.encode("utf-8"), suffix=f"pager:{g}")
                for g in draft.groups if g in settings.pagers]

    def send(self, message):
        page = {"to": message.recipients, "text": message.body.decode("utf-8")}
        req = urllib.request.Request(self.settings.url, data=json.dumps(page).encode("utf-8"),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                r.read()
        except OSError as e:
            raise DeliveryError(f"pager: {e}") from None


class NotAChannel:
    kind = "broken"
'''


def install(tmp_path: Path, monkeypatch, entry: str) -> None:
    """A distribution on the import path, as pip would leave it: a module and its
    dist-info declaring ``entry`` in the ``sentinel.channels`` group."""
    (tmp_path / "sentinel_pager.py").write_text(textwrap.dedent(PAGER), encoding="utf-8")
    info = tmp_path / "sentinel_pager-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: sentinel-pager\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[sentinel.channels]\n{entry}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.fixture
def pager_plugin(tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, "pager = sentinel_pager:PagerChannel")
    yield
    sys.modules.pop("sentinel_pager", None)


class Gateway(BaseHTTPRequestHandler):
    pages: ClassVar[list] = []

    def do_POST(self):
        Gateway.pages.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def gateway():
    Gateway.pages = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/page"
    srv.shutdown()


def test_builtin_channels_are_entry_points_declared_in_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = declared["project"]["entry-points"]["sentinel.channels"]
    installed = {ep.name: ep.value for ep in entry_points(group="sentinel.channels")}
    assert declared.items() <= installed.items(), (
        "installed entry points are stale: run make install"
    )
    types = channel_types()
    for name, value in declared.items():
        module, _, attr = value.partition(":")
        assert types[name] is getattr(importlib.import_module(module), attr)
    assert {"email", "chat"} <= set(declared)


def test_every_channel_declares_a_config_model_with_described_fields():
    for kind, cls in channel_types().items():
        assert issubclass(cls, Channel) and cls.kind == kind
        bare = [n for n, f in cls.config_model.model_fields.items() if not f.description]
        assert not bare, f"{kind}: settings without a description: {bare}"


def test_channel_installed_as_a_plugin_is_queued_and_sent_with_no_edit_to_the_outbox(
    db, clock, world, pager_plugin, gateway
):
    assert "pager" in channel_types()
    cfg = with_notify(
        make_config(None), pager={"url": gateway, "pagers": {"office": ["13800000000"]}}
    )
    box = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        inc = world.incident(s, pm)
        incident_alerts.opened(s, box, inc, [pm])
        inc_id = inc.id
    stats = box.drain()
    print(
        f"\nplug-in channel 'pager' from an entry point: drain {stats}; gateway received {Gateway.pages}"
    )
    assert stats == {"sent": 1, "failed": 0, "retry": 0, "deferred": 1}  # e-mail waits: no smtp
    [page] = Gateway.pages
    assert page["to"] == ["13800000000"] and page["text"].startswith("【舆情预警】")
    with db.session() as s:
        rows = {m.channel: m for m in s.scalars(select(OutboxMessage))}
    assert set(rows) == {"email", "pager"}
    assert (
        rows["pager"].key == f"incident:{inc_id}:opened#pager:office"
        and rows["pager"].status == "sent"
    )
    assert "pager" not in Path(outbox.__file__).read_text(encoding="utf-8")


def test_plugin_settings_are_checked_by_the_plugin_model(pager_plugin):
    with pytest.raises(ValidationError) as e:
        NotifySettings.model_validate({"pager": {"url": "http://127.0.0.1/page"}})
    assert "notify.pager.pagers" in str(e.value)


def test_unknown_key_under_notify_names_the_allowed_keys_and_installed_channels(pager_plugin):
    with pytest.raises(ValidationError) as e:
        NotifySettings.model_validate({"group_windw": "5m"})
    msg = str(e.value)
    assert "group_windw" in msg and "group_window" in msg and "pager" in msg


def test_unknown_key_under_notify_is_a_positioned_config_error(tmp_path):
    from core.errors import ConfigError
    from sentinel.config import load

    path = tmp_path / "sentinel.yaml"
    path.write_text("timezone: Asia/Shanghai\nnotify:\n  group_windw: 5m\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load(path)
    print(f"\nunknown notify key: {e.value}")
    assert str(e.value).startswith(f"{path}:") and "group_window" in str(e.value)


def test_entry_point_that_is_not_a_channel_is_one_clear_error(tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, "broken = sentinel_pager:NotAChannel")
    try:
        with pytest.raises(ChannelError) as e:
            channel_types()
        assert "sentinel.channels:broken" in str(e.value) and "Channel" in str(e.value)
    finally:
        sys.modules.pop("sentinel_pager", None)


def test_queueing_one_composed_message_twice_stores_one_copy_per_channel(db, clock, world):
    cfg = with_notify(make_config(None), channels={"office": ["wecombot://k1/", "feishu://t1/"]})
    box = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        inc = world.incident(s, world.post(s))
        spec = incident_notice(
            key=f"escalation:{inc.id}:1:office",
            kind="escalation",
            to=["office"],
            subject="【舆情报告】",
            heading="舆情报告",
            incident=inc,
            config=cfg,
        )
        first = box.queue(s, spec)
        assert box.queue(s, spec) is None
    with db.session() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.channel, m.key) for m in rows] == [
        ("email", spec.key),
        ("chat", spec.key + "#chat:office:0"),
        ("chat", spec.key + "#chat:office:1"),
    ]
    assert first.channel == "email" and len({m.message_id for m in rows}) == 3
