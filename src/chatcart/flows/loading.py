"""Reading flow documents (YAML or JSON: JSON is read as YAML) and checking them, listing
EVERY problem with its path and line — a seller fixing a flow wants the whole list at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from chatcart.flows import steps as _steps  # noqa: F401  (registers the built-in steps)
from chatcart.flows.document import (
    LANGUAGES,
    AskStep,
    Flow,
    FlowSet,
    GotoStep,
    HttpStep,
    Localized,
    SetFieldStep,
    Step,
    documents_of,
)
from chatcart.flows.registry import MODELS
from chatcart.flows.render import BUILTIN_VARIABLES, VARIABLE

Path = tuple[str | int, ...]
MAX_DOCUMENT_CHARS = 500_000
MAX_NODES = 200_000


@dataclass(frozen=True)
class FlowError:
    path: str  # flows[0].steps.hello.text
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path or '(document)'}: {self.message}"


@dataclass
class Loaded:
    flows: list[Flow]
    errors: list[FlowError]

    @property
    def ok(self) -> bool:
        return not self.errors


class _TooBig(Exception):
    pass


class _Tree:
    """The document's values and the line of every path in it."""

    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self.errors: list[FlowError] = []
        self.nodes = 0

    def build(self, node: yaml.Node, loader: yaml.SafeLoader, path: Path) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:  # YAML aliases can expand a short text enormously
            raise _TooBig
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int):
                    key = str(key)
                if key in out:
                    self.errors.append(
                        FlowError(
                            _dotted((*path, key)),
                            key_node.start_mark.line + 1,
                            f"duplicate key {key!r}",
                        )
                    )
                out[key] = self.build(value_node, loader, (*path, key))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, loader, (*path, i)) for i, item in enumerate(node.value)]
        return loader.construct_object(node, deep=True)

    def line(self, path: Path) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def error(self, path: Path, message: str) -> FlowError:
        return FlowError(_dotted(path), self.line(path), message)


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(text: str) -> tuple[Any, _Tree]:
    """The document's data and lines; YAML syntax errors are returned, never raised."""
    tree = _Tree()
    if len(text) > MAX_DOCUMENT_CHARS:
        tree.errors.append(FlowError("", None, f"longer than {MAX_DOCUMENT_CHARS} characters"))
        return None, tree
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else tree.build(node, loader, ())
    except _TooBig:
        tree.errors.append(FlowError("", None, f"more than {MAX_NODES} values (YAML aliases?)"))
        return None, tree
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        tree.errors.append(FlowError("", mark.line + 1 if mark else None, str(problem)))
        return None, tree
    finally:
        loader.dispose()
    return data, tree


def _data_path(data: Any, loc: tuple[int | str, ...], missing: bool) -> Path:
    """Pydantic's error location with the union tags it inserts dropped."""
    path: list[str | int] = []
    here = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        inside = isinstance(here, dict) and part in here
        if isinstance(here, list) and isinstance(part, int):
            inside = 0 <= part < len(here)
        if inside:
            here = here[part]
        elif not (last and missing and isinstance(here, dict) and isinstance(part, str)):
            continue  # a union tag ("str", "keyword", "function-after[...]"): not in the text
        path.append(part)  # (a missing field is named at its parent's line)
    return tuple(path)


def _pydantic_errors(
    exc: ValidationError, data: Any, prefix: Path, tree: _Tree
) -> Iterator[FlowError]:
    seen: set[tuple[str, str]] = set()
    for item in exc.errors(include_url=False):
        path = (*prefix, *_data_path(_at(data, prefix), item["loc"], item["type"] == "missing"))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "union_tag_invalid":
            context = item.get("ctx", {})
            tags = str(context.get("expected_tags", "")).replace("'", "")
            message = f"unknown type {context.get('tag')!r}; one of: {tags}"
        key = (_dotted(path), message)
        if key not in seen:
            seen.add(key)
            yield tree.error(path, message)


def _at(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def _typed_steps(data: Any, prefix: Path, tree: _Tree) -> None:
    """Replace each step mapping by the model its type registers (pydantic cannot dispatch
    on a registry that grows); a broken step becomes a bare Step so the rest still checks."""
    flow = _at(data, prefix)
    if not isinstance(flow, dict) or not isinstance(flow.get("steps"), dict):
        return
    for step_id, raw in list(flow["steps"].items()):
        path = (*prefix, "steps", step_id)
        kind = raw.get("type") if isinstance(raw, dict) else None
        model = MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            known = ", ".join(sorted(MODELS))
            tree.errors.append(tree.error(path, f"unknown step type {kind!r}; one of: {known}"))
        else:
            try:
                flow["steps"][step_id] = model.model_validate(raw)
                continue
            except ValidationError as exc:
                tree.errors.extend(_pydantic_errors(exc, data, path, tree))
        nxt = raw.get("next") if isinstance(raw, dict) else None
        flow["steps"][step_id] = Step.model_construct(
            type=str(kind), next=nxt if isinstance(nxt, str) else None
        )


def load(text: str, *, known_flows: set[str] | None = None, check_gotos: bool = True) -> Loaded:
    """Parse and check a flow document or set. `known_flows`: ids of other flows a `goto`
    may name (the workspace's), besides those in the document; check_gotos=False trusts
    them all (a stored version, checked when it was published)."""
    data, tree = parse(text)
    if tree.errors and data is None:
        return Loaded([], tree.errors)
    if not isinstance(data, dict):
        return Loaded([], [*tree.errors, tree.error((), "a flow (a mapping) or flows: [...]")])
    is_set = "flows" in data
    prefixes: list[Path] = []
    if is_set and isinstance(data["flows"], list):
        prefixes = [("flows", i) for i in range(len(data["flows"]))]
    elif not is_set:
        prefixes = [()]
    for prefix in prefixes:
        _typed_steps(data, prefix, tree)
    try:
        parsed: Flow | FlowSet = (FlowSet if is_set else Flow).model_validate(data)
    except ValidationError as exc:
        tree.errors.extend(_pydantic_errors(exc, data, (), tree))
        return Loaded([], sorted(tree.errors, key=_order))
    flows = documents_of(parsed)
    ids = [flow.id for flow in flows]
    for index, flow_id in enumerate(ids):
        if flow_id in ids[:index]:
            tree.errors.append(tree.error(prefixes[index] + ("id",), f"two flows are {flow_id!r}"))
    available = set(ids) | (known_flows or set())
    for prefix, flow in zip(prefixes, flows, strict=True):
        tree.errors.extend(_check_flow(flow, prefix, tree, available if check_gotos else None))
    tree.errors.extend(_check_loops(flows, prefixes, tree))
    return Loaded([] if tree.errors else flows, sorted(tree.errors, key=_order))


def _order(error: FlowError) -> tuple[int, str]:
    return (error.line or 0, error.path)


def _check_flow(
    flow: Flow, prefix: Path, tree: _Tree, flows: set[str] | None
) -> Iterator[FlowError]:
    if flow.start not in flow.steps:
        yield tree.error((*prefix, "start"), f"no step {flow.start!r}")
    declared = set(flow.variables) | set(BUILTIN_VARIABLES)
    for step_id, step in flow.steps.items():
        here = (*prefix, "steps", step_id)
        for where, target in step.exits():
            if target not in flow.steps:
                yield tree.error((*here, *where), f"no step {target!r}")
        if isinstance(step, GotoStep) and flows is not None and step.flow not in flows:
            yield tree.error((*here, "flow"), f"no flow {step.flow!r}")
        for text in step.texts():
            yield from _check_text(text, flow, tree, here, declared)
        for value in _template_strings(step):
            for name in VARIABLE.findall(value):
                if name not in declared:
                    yield tree.error(here, _undeclared(name))


def _undeclared(name: str) -> str:
    return f"{{{{{name}}}}} has no default: declare it under variables"


def _check_text(
    text: Localized, flow: Flow, tree: _Tree, here: Path, declared: set[str]
) -> Iterator[FlowError]:
    if isinstance(text, dict):
        if flow.default_language not in text:
            wanted = flow.default_language
            yield tree.error(here, f"a text has no {wanted!r} version (the default language)")
        values = [text[lang] for lang in LANGUAGES if lang in text]
    else:
        values = [text]
    for value in values:
        for name in VARIABLE.findall(value):
            if name not in declared:
                yield tree.error(here, _undeclared(name))


def _template_strings(step: Step) -> list[str]:
    if isinstance(step, SetFieldStep):
        return [step.value]
    if isinstance(step, HttpStep):
        return [step.url, *_strings(step.body)]
    return []


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_loops(flows: list[Flow], prefixes: list[Path], tree: _Tree) -> Iterator[FlowError]:
    """A cycle of steps none of which waits (for an answer or a timer) would run forever
    on one message: refuse it here (the runtime's step budget guards what slips through,
    like gotos into flows of other documents)."""
    by_id = {flow.id: (flow, prefix) for flow, prefix in zip(flows, prefixes, strict=True)}
    Node = tuple[str, str]
    edges: dict[Node, list[Node]] = {}
    for flow in flows:
        for step_id, step in flow.steps.items():
            if step.waits_for_input():
                continue
            targets: list[Node] = [(flow.id, t) for _, t in step.exits() if t in flow.steps]
            if isinstance(step, GotoStep) and step.flow in by_id:
                target = by_id[step.flow][0]
                targets.append((target.id, step.step or target.start))
            edges[(flow.id, step_id)] = targets
    reported: set[frozenset[Node]] = set()
    state: dict[Node, int] = {}  # 1 on the path, 2 done
    stack: list[Node] = []

    def visit(node: Node) -> Iterator[FlowError]:
        state[node] = 1
        stack.append(node)
        for target in edges.get(node, []):
            if target not in edges:
                continue
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    names = " → ".join(f"{f}:{s}" if f != node[0] else s for f, s in cycle)
                    prefix = by_id[cycle[0][0]][1]
                    yield tree.error(
                        (*prefix, "steps", cycle[0][1]),
                        f"steps loop without waiting for input: {names} → {cycle[0][1]}",
                    )
            elif target not in state:
                yield from visit(target)
        stack.pop()
        state[node] = 2

    for node in list(edges):
        if node not in state:
            yield from visit(node)


def ask_fields(flows: list[Flow]) -> dict[str, str]:
    """Contact fields the flows write, with the kind of answer (for defining them)."""
    out: dict[str, str] = {}
    for flow in flows:
        for step in flow.steps.values():
            if isinstance(step, AskStep) and step.save_to:
                out.setdefault(step.save_to, step.kind)
    return out


_JSON_START = re.compile(r"^\s*[\[{]")


def looks_like_json(text: str) -> bool:
    return bool(_JSON_START.match(text))
