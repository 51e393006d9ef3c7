"""The flow editor's graph and simulator over HTTP: the graph is redrawn with the errors
(out of band), the simulator chats with the draft, taps a quick reply, keeps its session
only in the page (encrypted), never touches real contacts, and refuses a forged session
or one from another workspace."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import httpx

from chatcart.flows import service as flows
from chatcart.runtime import Runtime
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server

DRAFT = """\
id: quiz
name: Quiz
triggers: [{type: keyword, keyword: quiz}]
start: pick
steps:
  pick:
    type: send
    text: "Chọn size nhé <b>{{first_name}}</b>"
    quick_replies:
      - {title: "Size M", payload: SIZE_M}
    next: size
  size:
    type: ask
    kind: choice
    question: "Size?"
    choices:
      - {title: "Size M", value: M, next: phone}
    save_to: size
  phone:
    type: ask
    kind: phone
    question: "Số điện thoại?"
    save_to: phone
    next: done
  done:
    type: send
    text: "Cảm ơn! Shop gọi {{phone}}"
"""


def _token(text: str) -> str:
    found = re.search(r'name="sim" value="([^"]*)"', text)
    assert found, "the simulator's session is in the page"
    return found[1]


def _svg(text: str) -> ET.Element:
    found = re.search(r"<svg.*?</svg>", text, re.S)
    assert found
    return ET.fromstring(found[0])  # noqa: S314  (our own output)


async def test_graph_and_simulator(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        await login(client, shop.email, shop.password)
        page = await client.get("/admin/flows/new")
        csrf = csrf_of(page.text)
        assert 'id="flow-graph"' in page.text and 'id="flow-simulator"' in page.text
        svg = _svg(page.text)
        assert svg.find(".//{http://www.w3.org/2000/svg}g[@data-node='new-flow/hello']") is not None

        headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
        checked = await client.post(
            "/admin/flows/check",
            data={"source": DRAFT.replace("next: done", "next: gone")},
            headers=headers,
        )
        assert 'hx-swap-oob="true"' in checked.text
        marked = _svg(checked.text)
        nodes = {g.get("data-node"): g.get("class") for g in marked.iter() if g.get("data-node")}
        assert "has-error" in (nodes["quiz/gone"] or "")  # the missing step, drawn in red
        assert "has-error" not in (nodes["quiz/pick"] or "")

        async def say(token: str, **data: str) -> str:
            form = {"source": DRAFT, "sim": token, **data}
            reply = await client.post("/admin/flows/simulate", data=form, headers=headers)
            assert reply.status_code == 200
            return reply.text

        text = await say("", text="QUIZ")
        shown = html.unescape(text)
        assert "Chọn size nhé" in shown and "&lt;b&gt;Lan&lt;/b&gt;" in text  # escaped
        assert 'hx-vals=\'{"payload": "SIZE_M"}\'' in text
        assert "quiz/pick" in shown and "quiz/size" in shown
        text = await say(_token(text), payload="SIZE_M")
        assert "Số điện thoại?" in html.unescape(text)
        assert 'data-field="size">M<' in text
        text = await say(_token(text), text="0912 345 678")
        shown = html.unescape(text)
        assert "Cảm ơn! Shop gọi +84912345678" in shown
        assert 'data-field="phone">+84912345678<' in text

        empty = await say(_token(text), text="   ")
        assert "Nhập một tin nhắn trước." in html.unescape(empty)
        broken = await say(_token(text), source="id: [", text="quiz")
        assert "Bản nháp còn lỗi" in html.unescape(broken)

        restarted = await say(_token(text), action="restart")
        assert "+84912345678" not in restarted
        forged = await say("not-a-token", text="quiz")
        assert "quiz/pick" in forged  # a fresh session, nothing carried over

        no_csrf = await client.post("/admin/flows/simulate", data={"source": DRAFT, "text": "x"})
        assert no_csrf.status_code == 403

        token = _token(text)
        await client.post("/admin/logout", data={"csrf_token": csrf})
        await login(client, other.email, other.password)
        csrf = csrf_of((await client.get("/admin/flows/new")).text)
        headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
        elsewhere = await say(token, text="hello")
        assert "+84912345678" not in elsewhere  # another workspace's session is not reused

    async with runtime.sessions() as session:
        assert await flows.list_flows(session, shop.workspace_id) == []  # nothing saved
