"""The flow graph: every node placed, none overlapping, edges between existing nodes,
loops and gotos drawn, errors marked, and SVG that is valid XML with its text escaped."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

from chatcart.flows import graph
from chatcart.flows.service import library, validate

SVG = "{http://www.w3.org/2000/svg}"

LOOPING = """\
id: menu
name: "Menu <&> \\"quotes\\""
triggers: [{type: keyword, keyword: menu}]
start: ask
steps:
  ask:
    type: ask
    kind: choice
    question: "Bạn cần gì? <script>alert(1)</script>"
    choices:
      - {title: "Giá", value: price, next: price}
      - {title: "Lại", value: again, next: ask}
    fallback: human
  price:
    type: condition
    branches:
      - {when: {has_tag: vip}, next: vip}
    else: ask
  vip: {type: send, text: "VIP -10%", quick_replies: [{title: Mua, payload: BUY}]}
  human: {type: goto, flow: support}
"""


def _assert_sound(g: graph.Graph) -> None:
    assert g.nodes
    for edge in g.edges:
        assert edge.source in g.nodes and edge.target in g.nodes
    boxes = [(n.x, n.y) for n in g.nodes.values()]
    for (x1, y1), (x2, y2) in itertools.combinations(boxes, 2):
        apart_x = abs(x1 - x2) >= graph.NODE_W + graph.GAP_X
        apart_y = abs(y1 - y2) >= graph.NODE_H + graph.GAP_Y
        assert apart_x or apart_y, "two nodes overlap"
    for node in g.nodes.values():
        assert node.x >= 0 and node.x + graph.NODE_W <= g.width
        assert node.y >= 0 and node.y + graph.NODE_H <= g.height


def test_layers_follow_the_edges_and_loops_are_kept() -> None:
    g = graph.build(LOOPING)
    _assert_sound(g)
    ids = set(g.nodes)
    assert {"menu/:start", "menu/ask", "menu/price", "menu/vip", "menu/human"} <= ids
    assert ":flow/support" in ids  # a goto out of the document: its own box
    kinds = {(e.source, e.target): e.kind for e in g.edges}
    assert kinds[("menu/ask", "menu/price")] == "choice"
    assert kinds[("menu/ask", "menu/ask")] == "choice"  # a loop onto itself
    assert kinds[("menu/price", "menu/vip")] == "branch"
    assert kinds[("menu/price", "menu/ask")] == "else"  # a back edge
    assert kinds[("menu/ask", "menu/human")] == "fallback"
    assert kinds[("menu/human", ":flow/support")] == "goto"
    layer = {n.id: n.layer for n in g.nodes.values()}
    assert layer["menu/:start"] < layer["menu/ask"] < layer["menu/price"] < layer["menu/vip"]


def test_the_demo_set_links_flows_and_marks_errors() -> None:
    text = library("demo_shop").replace("start: ask_phone", "start: ask_fone")
    g = graph.build(text, validate(text))
    _assert_sound(g)
    assert g.nodes["order-phone/ask_fone"].kind == "missing"
    assert g.nodes["order-phone/ask_fone"].error
    assert "line" in g.nodes["order-phone/:start"].error  # "start" is the flow's own field
    assert not g.nodes["order-phone/thanks"].error
    # goto human inside the set goes to that flow's first step, not to a loose box
    assert ("order-phone/give_up", "human/handover") in {(e.source, e.target) for e in g.edges}


@pytest.mark.parametrize("text", ["", "id: [", "- 1\n- 2", "steps: 3", "flows: [1, {steps: []}]"])
def test_broken_documents_still_draw(text: str) -> None:
    g = graph.build(text, validate(text))
    for edge in g.edges:
        assert edge.source in g.nodes and edge.target in g.nodes
    ET.fromstring(graph.svg(g))  # noqa: S314  (our own output)


def test_svg_is_valid_xml_with_text_escaped() -> None:
    out = graph.render(LOOPING)
    assert "<script>" not in out and "&lt;script&gt;" in out
    root = ET.fromstring(out)  # noqa: S314  (our own output)
    assert root.tag == f"{SVG}svg"
    drawn = {g.get("data-node") for g in root.iter(f"{SVG}g") if g.get("data-node")}
    assert drawn == set(graph.build(LOOPING).nodes)
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Bạn cần gì?" in texts and "Giá" in texts  # NFC text and edge labels
    assert len(root.findall(f".//{SVG}g[@class='edge edge-choice']")) == 2


def test_bigger_graphs_stay_sound() -> None:
    steps = "\n".join(
        f"  s{i}: {{type: condition, branches: [{{when: {{has_tag: t}}, next: s{(i * 7 + 3) % 40}}}],"
        f" else: s{(i + 1) % 40}}}"
        for i in range(40)
    )
    text = f"id: big\nname: Big\nstart: s0\nsteps:\n{steps}\n"
    g = graph.build(text)
    _assert_sound(g)
    assert len(g.nodes) == 41
