"""/api/v1/flows over HTTP: bearer auth, workspace scope, errors with lines, simulate."""

from __future__ import annotations

import httpx

from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server

DOC = """\
id: hello
name: Hello
triggers: [{type: keyword, keyword: xin chào}]
start: ask
steps:
  ask: {type: ask, question: "Bạn ở đâu?", kind: text, save_to: city, next: bye}
  bye: {type: send, text: "Cảm ơn bạn ở {{city}}!"}
variables: {city: "Việt Nam"}
"""


async def test_save_publish_simulate_and_scope(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    async with live_server(runtime.settings, run_worker=False) as host:
        base = f"http://{host}/api/v1"
        mine = {"Authorization": f"Bearer {shop.api_token}"}
        theirs = {"Authorization": f"Bearer {other.api_token}"}
        async with httpx.AsyncClient(base_url=base, headers=mine) as api:
            async with httpx.AsyncClient(base_url=base) as anonymous:
                assert (await anonymous.get("/flows")).status_code == 401

            bad = await api.post("/flows", json={"source": DOC.replace("next: bye", "next: by")})
            assert bad.status_code == 422
            body = bad.json()["error"]
            assert body["code"] == "flow_invalid"
            assert body["details"]["errors"] == [
                {"path": "steps.ask.next", "line": 6, "message": "no step 'by'"}
            ]
            check = await api.post("/flows/validate", json={"source": "id: [x"})
            assert check.status_code == 200 and check.json()["ok"] is False
            assert check.json()["errors"][0]["line"] is not None

            saved = await api.post("/flows", params={"publish": "true"}, json={"source": DOC})
            assert saved.status_code == 201
            assert saved.json()[0]["status"] == "active"
            assert (await api.get("/flows/hello")).json()["published_number"] == 1
            exported = await api.get("/flows/export")
            assert "id: hello" in exported.text

            turn = await api.post(
                "/flows/simulate",
                json={
                    "source": DOC,
                    "input": {"text": "XIN CHAO"},
                    "contact": {"first_name": "An"},
                },
            )
            assert turn.status_code == 200
            state = turn.json()["state"]
            assert state["status"] == "answer"
            sends = [a for a in turn.json()["actions"] if a["kind"] == "send"]
            assert [s["content"]["text"] for s in sends] == ["Bạn ở đâu?"]
            done = await api.post(
                "/flows/simulate",
                json={"source": DOC, "state": state, "input": {"text": "Huế"}},
            )
            sends = [a for a in done.json()["actions"] if a["kind"] == "send"]
            assert [s["content"]["text"] for s in sends] == ["Cảm ơn bạn ở Huế!"]
            assert done.json()["state"] is None

            archived = await api.post("/flows/hello/archive")
            assert archived.json()["status"] == "archived"
            assert (await api.post("/flows/ghost/publish")).status_code == 404

            assert (await api.get("/flows/hello", headers=theirs)).status_code == 404
            assert (await api.get("/flows", headers=theirs)).json() == []
