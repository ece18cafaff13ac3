"""The JSON API: the same readers and actions as the pages, its OpenAPI document at
/api/openapi.json (behind the login like everything else), and schemathesis generating
requests from that document against the real app under uvicorn: no server error, and
every answer as the document says."""

from __future__ import annotations

import pytest

from tests.web.conftest import serve


def test_the_api_reads_and_acts_like_the_pages(client, as_user, incident):
    token = as_user("赵敏")
    me = client.get("/api/me").json()
    assert me["name"] == "赵敏" and me["role"] == "office"
    d = client.get(f"/api/incidents/{incident}").json()
    assert d["id"] == incident and d["title"] == "二食堂饭菜变质？" and d["posts"]
    r = client.post(
        f"/api/incidents/{incident}/actions/assess",
        json={"cause": "食堂卫生", "severity": "III"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200 and r.json()["message"] == "已记录研判"
    assert r.json()["incident"]["status"] == "assessing"
    # ``by`` is always the logged-in person: one cannot act under another's name.
    r = client.post(
        f"/api/incidents/{incident}/actions/note",
        json={"text": "冒名", "by": "李书记"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 422
    events = client.get(f"/api/incidents/{incident}").json()["events"]
    assert not any(e["note"] == "冒名" for e in events)
    r = client.post(
        f"/api/incidents/{incident}/actions/nonsense", json={}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 404
    r = client.post(
        f"/api/incidents/{incident}/actions/close",
        json={"note": "太早"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 409 and r.json()["error"].startswith("结案未完成")
    assert client.get("/api/incidents/99999").status_code == 404
    assert client.get("/api/incidents?status=bogus").status_code == 422
    assert client.get("/api/incidents?status=assessing").json()["total"] == 1
    st = client.get("/api/stats?days=7").json()  # the contract of `sentinel stats --json`
    assert set(st) >= {"per_day", "top_sources", "top_terms", "hot_topics", "spikes"}
    assert len(st["per_day"]) == 8 and st["per_day"][-1]["mentioned"] >= 1
    assert st["top_sources"] and st["top_sources"][0]["posts"] >= 1
    doc = client.get("/api/openapi.json").json()
    assert "/api/incidents/{incident_id}/actions/close" in doc["paths"]


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(
    app, client, as_user, incident
):
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    token = as_user("赵敏")
    cookie = client.cookies.get("sentinel_session")
    schema = schemathesis.openapi.from_dict(client.get("/api/openapi.json").json())
    headers = {"Cookie": f"sentinel_session={cookie}", "X-CSRF-Token": token}
    tried = []
    with serve(app) as base:
        for result in schema.get_all_operations():
            op = result.ok()

            @settings(
                max_examples=25,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            @given(case=op.as_strategy())
            def check(case):
                case.call_and_validate(base_url=base, headers=headers)

            check()
            tried.append(op.label)
    assert len(tried) >= 6, tried
