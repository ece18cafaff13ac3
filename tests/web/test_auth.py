"""Logins, sessions, CSRF and roles as a person meets them: every route without a
session gets the login page (or 401 under /api), a wrong password is refused and then
throttled, sessions end by idleness, age and logout, a form without its token is refused,
and each role sees only what it may."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD, csrf_of, login


def _routes(app) -> list[tuple[str, str]]:
    from fastapi.routing import APIRoute

    out = []
    for r in app.router.routes:
        for route in (
            getattr(r, "original_router", None).routes if hasattr(r, "original_router") else [r]
        ):
            if isinstance(route, APIRoute):
                for m in route.methods:
                    out.append((m, route.path))
    return out


def test_every_route_without_a_session_gets_the_login_page_or_401(client, app, incident):
    routes = _routes(app)
    assert len(routes) > 20
    for method, path in routes:
        # The one-tap links of mails need no login: their signed token is the authority
        # (tests/web_links/ shows a tampered, expired or used one refused).
        if path in ("/login", "/onetap/onetap.css") or path.split("/")[1] in ("ack", "approve"):
            continue
        url = path.replace("{incident_id}", str(incident)).replace("{name}", "note")
        url = url.replace("{snapshot_id}", "1").replace("{item_id}", "1")
        r = client.request(method, url, follow_redirects=False)
        if path.startswith("/api"):
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json() == {"error": "请先登录"}
        else:
            assert r.status_code == 401, (method, path, r.status_code)
            assert "登录" in r.text and 'name="password"' in r.text, (method, path)


def test_login_then_logout_ends_the_session(client, people, incident):
    r = login(client, "赵敏")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.cookies.get("sentinel_session") or client.cookies.get("sentinel_session")
    assert cookie and len(cookie) >= 40
    page = client.get("/")
    assert page.status_code == 200 and "事件工单" in page.text and "赵敏" in page.text
    client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    # The old cookie no longer opens anything, even if replayed.
    client.cookies.set("sentinel_session", cookie)
    assert client.get("/").status_code == 401
    assert client.get("/api/me").status_code == 401


def test_a_wrong_password_is_refused_and_repeated_failures_are_throttled(client, people):
    r = login(client, "赵敏", "wrong-password")
    assert r.status_code == 401 and "用户名或密码不正确" in r.text
    assert login(client, "没有这个人", "whatever-123").status_code == 401
    for _ in range(4):
        login(client, "赵敏", "wrong-password")
    r = login(client, "赵敏", PASSWORD)  # even the right password waits now
    assert r.status_code == 429 and "登录失败次数过多" in r.text and "分钟后再试" in r.text


def test_the_login_form_needs_its_token(client, people):
    r = client.post("/login", data={"username": "赵敏", "password": PASSWORD})
    assert r.status_code == 403 and "登录表单已过期" in r.text


def test_an_idle_or_old_session_ends(client, people, clock):
    assert login(client, "赵敏").status_code == 303
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/").status_code == 401  # idle for more than 30 minutes
    assert login(client, "赵敏").status_code == 303
    for _ in range(25):  # used every 29 minutes, but 12 hours after the login it ends
        clock.advance(minutes=29)
        if client.get("/").status_code == 401:
            break
    else:
        pytest.fail("the session outlived its absolute lifetime")


def test_next_never_leads_to_another_site(client, people):
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "赵敏",
            "password": PASSWORD,
            "csrf": csrf_of(page.text),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_a_form_posted_without_its_csrf_token_is_refused(client, as_user, incident):
    token = as_user("赵敏")
    r = client.post(f"/incidents/{incident}/actions/note", data={"text": "无令牌"})
    assert r.status_code == 403 and "校验码" in r.text
    r = client.post(
        f"/incidents/{incident}/actions/note", data={"text": "错令牌", "csrf": "x" * 40}
    )
    assert r.status_code == 403
    r = client.post(f"/api/incidents/{incident}/actions/note", json={"text": "无令牌"})
    assert r.status_code == 403
    page = client.get(f"/incidents/{incident}")
    assert "无令牌" not in page.text and "错令牌" not in page.text
    r = client.post(f"/incidents/{incident}/actions/note", data={"text": "有令牌", "csrf": token})
    assert r.status_code == 200 and "已记录备注" in r.text and "有令牌" in r.text


def test_security_headers_on_every_page(client, people):
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in r.text  # no inline script anywhere


def test_a_leader_cannot_do_office_only_actions(client, as_user, incident):
    token = as_user("李书记")
    r = client.post(
        f"/incidents/{incident}/actions/close", data={"note": "领导结案", "csrf": token}
    )
    assert "结案未完成" in r.text and "只有舆情办工作人员" in r.text
    r = client.post(
        f"/api/incidents/{incident}/actions/classify",
        json={"category": "hype"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 403 and "不能" in r.json()["error"]
    assert client.get("/users").status_code == 403


def test_a_leader_is_offered_only_the_forms_the_domain_allows_a_leader(client, as_user, incident):
    import re

    token = as_user("李书记")
    page = client.get(f"/incidents/{incident}").text
    offered = set(re.findall(r'data-action="(\w+)"', page))
    assert offered == {"ack", "approve", "reject", "assign"}, offered
    assert f'action="/incidents/{incident}/actions/check"' not in page
    # The domain refuses what is not offered, whoever posts it.
    r = client.post(f"/incidents/{incident}/actions/note", data={"text": "批示", "csrf": token})
    assert "备注未完成" in r.text and "只有舆情办工作人员" in r.text


def test_a_unit_user_sees_only_its_unit(client, as_user, web_db, web_config, clock, incident):
    from tests.web.conftest import open_incident

    other = open_incident(
        web_db,
        web_config,
        clock,
        "https://weibo.example.com/2",
        "宿舍停水",
        "江西警察学院宿舍停水三天了",
        terms=("停水",),
        topic="water",
    )
    token = as_user("赵敏")
    client.post(f"/incidents/{incident}/actions/unit", data={"unit": "保卫处", "csrf": token})
    as_user("保卫处刘老师")
    queue = client.get("/")
    assert f"#{incident}" in queue.text and f"#{other}" not in queue.text
    assert client.get(f"/incidents/{other}").status_code == 403
    assert client.get(f"/api/incidents/{other}").status_code == 403
    ids = [i["id"] for i in client.get("/api/incidents").json()["incidents"]]
    assert ids == [incident]
    assert client.get("/posts").status_code == 403


def test_the_office_manages_people_and_a_deactivated_person_is_logged_out(
    client, app, as_user, people
):
    from fastapi.testclient import TestClient

    from tests.web.conftest import login

    token = as_user("赵敏")
    r = client.post(
        "/users",
        data={
            "csrf": token,
            "do": "add",
            "name": "学生处小周",
            "role": "unit",
            "unit": "学生处",
            "email": "zhou@example.edu.cn",
            "password": "zhou-pass-123",
        },
    )
    assert "已添加用户 学生处小周" in r.text
    with TestClient(app, base_url="http://127.0.0.1") as other:
        assert login(other, "学生处小周", "zhou-pass-123").status_code == 303
        assert other.get("/").status_code == 200
        r = client.post("/users", data={"csrf": token, "do": "deactivate", "name": "学生处小周"})
        assert "学生处小周 已停用" in r.text
        assert other.get("/").status_code == 401  # logged out at once
        assert login(other, "学生处小周", "zhou-pass-123").status_code == 401
    r = client.post("/users", data={"csrf": token, "do": "deactivate", "name": "赵敏"})
    assert "不能停用自己的账号" in r.text
    r = client.post(
        "/users", data={"csrf": token, "do": "password", "name": "王主任", "password": "short"}
    )
    assert "密码至少 8 个字符" in r.text
    leader = as_user("李书记")
    r = client.post("/users", data={"csrf": leader, "do": "activate", "name": "学生处小周"})
    assert "只有舆情办工作人员可以管理用户" in r.text
