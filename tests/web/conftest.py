"""The console under test: a config, a SQLite database with people who have passwords,
an incident built from real posts and snapshots, the app in a TestClient, and the real
app under uvicorn on 127.0.0.1 for the browser tests."""

from __future__ import annotations

import re
import socket
import threading
import time
from contextlib import contextmanager

import pytest

from tests.incidents.conftest import PEOPLE, World

PASSWORD = "correct-horse-9"
CANTEEN = (
    "请问江西警察学院第二食堂的饭菜是不是变质了？昨天中午吃完好几个同学拉肚子，学校能不能给个说法。"
)


@pytest.fixture
def web_url(request, tmp_path):
    """SQLite unless a test asks for PostgreSQL (``parametrize("web_url", ["postgresql"],
    indirect=True)``)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'sentinel.db'}"


@pytest.fixture
def web_config(tmp_path, web_url):
    from sentinel.config import Config

    return Config(
        base_dir=tmp_path,
        database=web_url,
        incidents={"reports": {"max_file_size": "1MiB"}},
        timezone="Asia/Shanghai",
        recipients={
            "office": ["zhaomin@example.edu.cn"],
            "leaders": ["leader@example.edu.cn"],
        },
        escalation=[
            {
                "severity": ["I", "II", "III", "IV"],
                "levels": [
                    {"notify": ["office"], "ack_within": "30m"},
                    {"notify": ["leaders"], "ack_within": "1h"},
                ],
            }
        ],
    )


@pytest.fixture
def web_db(web_config):
    from storage.db import Database

    d = Database(web_config.database_url)
    yield d
    d.dispose()


@pytest.fixture
def people(web_db):
    from alerting.incidents import users

    with web_db.session() as s:
        for name, role, email, unit in PEOPLE:
            users.add(s, name, role=role, email=email, unit=unit)
            users.set_password(s, name, PASSWORD)
    return {p[0]: p for p in PEOPLE}


def open_incident(db, config, clock, url, title, text, **kw) -> int:
    from alerting.incidents import intake
    from alerting.notify.outbox import Outbox

    world = World(db, clock)
    with db.session() as s:
        p, m = world.post(s, url, title, text, **kw)
        inc, _ = intake(
            s, p, m, config=config, outbox=Outbox(db, config, now=clock.now), now=clock.now()
        )
        return inc.id


@pytest.fixture
def incident(web_db, web_config, clock, people) -> int:
    return open_incident(
        web_db, web_config, clock, "https://tieba.example.com/p/1", "二食堂饭菜变质？", CANTEEN
    )


@pytest.fixture
def app(web_config, web_db, clock):
    from sentinel.web import create_app

    return create_app(web_config, web_db, now=clock.now)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(client, name: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )


@pytest.fixture
def as_user(client):
    """Log the client in as a person; returns the page's CSRF token."""

    def go(name: str) -> str:
        client.cookies.clear()
        r = login(client, name)
        assert r.status_code == 303, r.text
        return csrf_of(client.get("/").text)

    return go


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app):
    """The app under a real uvicorn on 127.0.0.1, stopped at the end."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(10)


# The browser of the browser tests (one per module).
from tests.web.browser import browser  # noqa: F401
