"""A flow document as a graph (steps and where they lead) with a layered layout, drawn as
SVG on the server: the editor's picture of the flow, no JavaScript graph library.

The graph is read from the parsed document, not the validated one, so a draft with mistakes
still draws (the steps with a mistake are marked). Layout: cycles are broken by reversing
back edges of a depth-first walk, layers are the longest path from a source, and the order
inside each layer is improved by a few barycenter sweeps (fewer crossings).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from chatcart.flows.loading import FlowError, parse

NODE_W, NODE_H = 190, 46
GAP_X, GAP_Y = 28, 64
MARGIN = 16
MAX_LABEL = 26
SWEEPS = 4
MAX_NODES = 400  # a bigger document draws its first steps only (the editor stays fast)

# Inline, so the picture looks the same in the page, saved alone, or in a test snapshot.
STYLE = (
    "text{font:11px system-ui,sans-serif;fill:#223}"
    ".head{font-weight:600}"
    ".node rect{fill:#f4f6fb;stroke:#8a94a8}"
    ".node-trigger rect{fill:#e6f4ea;stroke:#3c8d58}"
    ".node-ask rect{fill:#fff6e0;stroke:#c59a2c}"
    ".node-condition rect{fill:#efe8fb;stroke:#7d5cc4}"
    ".node-handover rect,.node-end rect{fill:#eceff1}"
    ".node-flow rect{fill:#fff;stroke-dasharray:4 3}"
    ".node-missing rect{fill:#fff;stroke:#c62828;stroke-dasharray:4 3}"
    ".has-error rect{stroke:#c62828;stroke-width:2.5}"
    ".has-error .head{fill:#c62828}"
    ".edge text{font-size:10px;fill:#445;paint-order:stroke;stroke:#fff;stroke-width:3px}"
    ".edge-fallback path,.edge-error path{stroke:#c62828;stroke-dasharray:5 3}"
    ".edge-goto path,.edge-payload path{stroke-dasharray:2 3}"
)
_STEP_PATH = re.compile(r"^(?:flows\[(\d+)\]\.)?steps\.([^.\[]+)")
_FLOW_PATH = re.compile(r"^(?:flows\[(\d+)\])?")


@dataclass
class Node:
    id: str  # "<flow>/<step>", "<flow>/:start" or ":flow/<id>" (another flow)
    kind: str  # the step type, "trigger", "flow" (goto target) or "missing"
    label: str
    flow: str
    error: str = ""
    layer: int = 0
    order: int = 0
    x: int = 0
    y: int = 0


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    kind: str = "next"  # next | choice | branch | else | fallback | error | payload | goto


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    width: int = 0
    height: int = 0

    def add(self, node: Node) -> Node:
        return self.nodes.setdefault(node.id, node)


def _text(value: Any) -> str:
    """A short label of a Localized value (the first language given)."""
    if isinstance(value, dict):
        value = next(iter(value.values()), "")
    return " ".join(str(value or "").split())


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _step_label(step: dict[str, Any]) -> str:
    kind = step.get("type")
    if kind == "send":
        return _text(step.get("text")) or ("cards" if step.get("cards") else "media")
    if kind == "ask":
        return f"{step.get('kind', 'text')}: {_text(step.get('question'))}"
    if kind in {"set_field", "clear_field"}:
        return f"{step.get('field', '')} = {_text(step.get('value'))}".rstrip(" =")
    if kind == "tag":
        added = ", ".join(f"+{t}" for t in step.get("add") or [])
        removed = ", ".join(f"-{t}" for t in step.get("remove") or [])
        return " ".join(x for x in (added, removed) if x)
    if kind == "goto":
        return f"→ {step.get('flow', '')}"
    if kind == "wait":
        parts = [f"{step[u]}{u[0]}" for u in ("hours", "minutes", "seconds") if step.get(u)]
        return " ".join(parts)
    if kind == "http":
        return f"{step.get('method', 'POST')} {step.get('url', '')}"
    if kind == "handover":
        return _text(step.get("text")) or "to a person"
    return ""


def _trigger_label(triggers: Any) -> str:
    parts = []
    for trigger in triggers if isinstance(triggers, list) else []:
        if not isinstance(trigger, dict):
            continue
        kind = str(trigger.get("type", "?"))
        value = (
            trigger.get("keyword")
            or ", ".join(map(str, trigger.get("any_of") or []))
            or trigger.get("ref")
            or trigger.get("payload")
            or trigger.get("intent")
            or ""
        )
        parts.append(f"{kind}: {value}" if value else kind)
    return "; ".join(parts) or "no trigger"


def _flows_of(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("flows"), list):
        return [f if isinstance(f, dict) else {} for f in data["flows"]]
    return [data] if isinstance(data, dict) else []


def _steps_of(flow: dict[str, Any]) -> dict[str, Any]:
    steps = flow.get("steps")
    return steps if isinstance(steps, dict) else {}


def _exits(step: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target step, edge kind, label) of every way out of a raw step."""
    out: list[tuple[str, str, str]] = []
    for i, choice in enumerate(step.get("choices") or []):
        if isinstance(choice, dict) and isinstance(choice.get("next"), str):
            out.append((choice["next"], "choice", _text(choice.get("title")) or f"#{i + 1}"))
    for i, branch in enumerate(step.get("branches") or []):
        if isinstance(branch, dict) and isinstance(branch.get("next"), str):
            out.append((branch["next"], "branch", f"if #{i + 1}"))
    for key, kind in (("else", "else"), ("fallback", "fallback"), ("error", "error")):
        if isinstance(step.get(key), str):
            out.append((step[key], kind, key))
    if isinstance(step.get("next"), str):
        out.append((step["next"], "next", ""))
    return out


def _payloads(step: dict[str, Any]) -> list[tuple[str, str]]:
    """(payload, title) of the quick replies and buttons a send step offers."""
    out = []
    buttons = list(step.get("quick_replies") or []) + list(step.get("buttons") or [])
    for card in step.get("cards") or []:
        buttons += card.get("buttons") or [] if isinstance(card, dict) else []
    for button in buttons:
        if isinstance(button, dict) and isinstance(button.get("payload"), str):
            out.append((button["payload"], _text(button.get("title"))))
    return out


def build(text: str, errors: list[FlowError] | None = None) -> Graph:
    """The graph of a document (one flow or a set); `errors` mark the steps they are about."""
    data, _ = parse(text)
    flows = _flows_of(data)
    graph = Graph()
    ids = [str(f.get("id") or f"flow{i + 1}") for i, f in enumerate(flows)]
    starts: dict[str, str] = {}
    payload_flows: dict[str, str] = {}
    for fid, flow in zip(ids, flows, strict=True):
        steps = _steps_of(flow)
        if isinstance(flow.get("start"), str):
            starts[fid] = flow["start"]
        for trigger in flow.get("triggers") or []:
            if isinstance(trigger, dict) and trigger.get("type") == "payload":
                payload_flows.setdefault(str(trigger.get("payload")), fid)
        graph.add(Node(f"{fid}/:start", "trigger", _trigger_label(flow.get("triggers")), fid))
        for sid, step in list(steps.items())[:MAX_NODES]:
            step = step if isinstance(step, dict) else {}
            kind = str(step.get("type") or "?")
            graph.add(Node(f"{fid}/{sid}", kind, _step_label(step), fid))
    for fid, flow in zip(ids, flows, strict=True):
        steps = _steps_of(flow)
        if fid in starts:
            graph.edges.append(Edge(f"{fid}/:start", _target(graph, fid, starts[fid]), "", "next"))
        for sid, step in steps.items():
            source = f"{fid}/{sid}"
            if source not in graph.nodes or not isinstance(step, dict):
                continue
            for target, kind, label in _exits(step):
                graph.edges.append(Edge(source, _target(graph, fid, target), label, kind))
            if step.get("type") == "goto" and isinstance(step.get("flow"), str):
                other = step["flow"]
                into = step.get("step") if isinstance(step.get("step"), str) else starts.get(other)
                graph.edges.append(Edge(source, _other_flow(graph, other, into), "", "goto"))
            for payload, title in _payloads(step):
                if payload in payload_flows:
                    other = payload_flows[payload]
                    target = _other_flow(graph, other, starts.get(other))
                    graph.edges.append(Edge(source, target, title or payload, "payload"))
    for error in errors or []:
        _mark(graph, ids, error)
    layout(graph)
    return graph


def _target(graph: Graph, fid: str, step: str) -> str:
    node_id = f"{fid}/{step}"
    if node_id not in graph.nodes:
        graph.add(Node(node_id, "missing", step, fid, error=f"no step {step!r}"))
    return node_id


def _other_flow(graph: Graph, flow: str, step: str | None) -> str:
    """A goto target: the step itself when that flow is in this document, else a box."""
    if step is not None and f"{flow}/{step}" in graph.nodes:
        return f"{flow}/{step}"
    return graph.add(Node(f":flow/{flow}", "flow", f"flow {flow}", flow)).id


def _mark(graph: Graph, ids: list[str], error: FlowError) -> None:
    found = _STEP_PATH.match(error.path)
    index = int(found[1]) if found and found[1] else 0
    if not ids:
        return
    fid = ids[min(index, len(ids) - 1)]
    node = graph.nodes.get(f"{fid}/{found[2]}") if found else None
    if node is None:  # about the flow itself (id, start, triggers...): its entry box
        flow_index = _FLOW_PATH.match(error.path)
        if flow_index and flow_index[1]:
            fid = ids[min(int(flow_index[1]), len(ids) - 1)]
        node = graph.nodes.get(f"{fid}/:start")
    if node is not None:
        line = f"line {error.line}: " if error.line else ""
        node.error = "\n".join(x for x in (node.error, f"{line}{error.message}") if x)


# ---- layout ---------------------------------------------------------------------------


def _acyclic(graph: Graph) -> list[tuple[str, str]]:
    """The edges with the back edges of a depth-first walk reversed (a DAG)."""
    outgoing: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for edge in graph.edges:
        if edge.source != edge.target:
            outgoing[edge.source].append(edge.target)
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    kept: list[tuple[str, str]] = []
    for root in graph.nodes:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, i = stack.pop()
            if i < len(outgoing[node]):
                stack.append((node, i + 1))
                target = outgoing[node][i]
                if state.get(target) == 1:
                    kept.append((target, node))  # back edge: reversed
                else:
                    kept.append((node, target))
                    if target not in state:
                        state[target] = 1
                        stack.append((target, 0))
            else:
                state[node] = 2
    return list(dict.fromkeys(kept))


def layout(graph: Graph) -> None:
    """Place every node: layer (row) by longest path, order (column) by barycenters."""
    edges = _acyclic(graph)
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    succs: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    # Longest path from a source, in topological order (Kahn).
    indegree = {n: len(p) for n, p in preds.items()}
    ready = [n for n in graph.nodes if indegree[n] == 0]
    while ready:
        node = ready.pop(0)
        for nxt in succs[node]:
            graph.nodes[nxt].layer = max(graph.nodes[nxt].layer, graph.nodes[node].layer + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    layers: dict[int, list[str]] = {}
    for placed in graph.nodes.values():
        layers.setdefault(placed.layer, []).append(placed.id)
    rows = [layers[i] for i in sorted(layers)]
    position = {n: i for row in rows for i, n in enumerate(row)}
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        for row in rows[1:] if down else rows[-2::-1]:
            near = preds if down else succs

            def center(n: str, near: dict[str, list[str]] = near) -> float:
                around = [position[m] for m in near[n]]
                return sum(around) / len(around) if around else position[n]

            row.sort(key=center)
            position.update({n: i for i, n in enumerate(row)})
    widest = max((len(row) for row in rows), default=0)
    for depth, row in enumerate(rows):
        shift = (widest - len(row)) * (NODE_W + GAP_X) // 2  # centre each row
        for i, node_id in enumerate(row):
            placed = graph.nodes[node_id]
            placed.order = i
            placed.x = MARGIN + shift + i * (NODE_W + GAP_X)
            placed.y = MARGIN + depth * (NODE_H + GAP_Y)
    graph.width = 2 * MARGIN + max(widest * (NODE_W + GAP_X) - GAP_X, 0)
    graph.height = 2 * MARGIN + max(len(rows) * (NODE_H + GAP_Y) - GAP_Y, 0)


# ---- drawing --------------------------------------------------------------------------


def _curve(a: Node, b: Node) -> tuple[str, float, float]:
    """An edge's path and a point for its label: down into the next rows, or around the
    side when it goes back up (a loop) or stays on its row."""
    x1: float
    y1: float
    x2: float
    y2: float
    if b.y > a.y:
        x1, y1 = a.x + NODE_W / 2, a.y + NODE_H
        x2, y2 = b.x + NODE_W / 2, b.y
        mid = (y1 + y2) / 2
        return f"M{x1:g},{y1:g} C{x1:g},{mid:g} {x2:g},{mid:g} {x2:g},{y2:g}", (x1 + x2) / 2, mid
    x1, y1 = a.x + NODE_W, a.y + NODE_H / 2
    x2, y2 = b.x + NODE_W, b.y + NODE_H / 2
    bulge = max(x1, x2) + GAP_X + abs(y1 - y2) / 8
    path = f"M{x1:g},{y1:g} C{bulge:g},{y1:g} {bulge:g},{y2:g} {x2:g},{y2:g}"
    return path, bulge - 4, (y1 + y2) / 2


def svg(graph: Graph, title: str = "Flow graph") -> str:
    """The graph as a standalone SVG element (text escaped by ElementTree)."""
    width, height = graph.width + GAP_X * 2, graph.height
    root = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": "flow-graph",
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "role": "img",
        },
    )
    ET.SubElement(root, "title").text = title
    ET.SubElement(root, "style").text = STYLE
    defs = ET.SubElement(root, "defs")
    marker = ET.SubElement(
        defs,
        "marker",
        {
            "id": "arrow",
            "viewBox": "0 0 10 10",
            "refX": "9",
            "refY": "5",
            "markerWidth": "7",
            "markerHeight": "7",
            "orient": "auto-start-reverse",
        },
    )
    ET.SubElement(marker, "path", {"d": "M0,0 L10,5 L0,10 z", "fill": "#667"})
    for edge in graph.edges:
        a, b = graph.nodes[edge.source], graph.nodes[edge.target]
        path, lx, ly = _curve(a, b)
        group = ET.SubElement(
            root,
            "g",
            {"class": f"edge edge-{edge.kind}", "data-from": a.id, "data-to": b.id},
        )
        ET.SubElement(
            group,
            "path",
            {"d": path, "fill": "none", "stroke": "#667", "marker-end": "url(#arrow)"},
        )
        if edge.label:
            label = ET.SubElement(
                group, "text", {"x": f"{lx:g}", "y": f"{ly:g}", "text-anchor": "middle"}
            )
            label.text = _short(edge.label)
    for node in graph.nodes.values():
        classes = f"node node-{node.kind}" + (" has-error" if node.error else "")
        group = ET.SubElement(root, "g", {"class": classes, "data-node": node.id})
        tip = f"{node.id} ({node.kind})\n{node.label}" + (f"\n⚠ {node.error}" if node.error else "")
        ET.SubElement(group, "title").text = tip
        ET.SubElement(
            group,
            "rect",
            {
                "x": str(node.x),
                "y": str(node.y),
                "width": str(NODE_W),
                "height": str(NODE_H),
                "rx": "8",
            },
        )
        name = node.id.split("/", 1)[1] if not node.id.startswith(":") else node.flow
        head = ET.SubElement(
            group, "text", {"x": str(node.x + 8), "y": str(node.y + 18), "class": "head"}
        )
        shown = f"▶ {node.flow}" if node.kind == "trigger" else f"{name} · {node.kind}"
        head.text = _short(("⚠ " if node.error else "") + shown)
        body = ET.SubElement(group, "text", {"x": str(node.x + 8), "y": str(node.y + 36)})
        body.text = _short(node.label)
    return ET.tostring(root, encoding="unicode")


def render(text: str, errors: list[FlowError] | None = None) -> str:
    return svg(build(text, errors))
