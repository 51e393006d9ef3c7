"""The flows room's only door: documents (validate, import, export, publish, archive), the
published set of a workspace as a Book, conversation runs, and the pure turn/simulation."""

from __future__ import annotations

import logging
import random
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.channels.base import MessageContent
from chatcart.flows import graph, greeter, http_call, repository, simulator
from chatcart.flows.document import Flow
from chatcart.flows.errors import FlowInvalid, FlowNotFound, FlowNotPublishable
from chatcart.flows.loading import FlowError, Loaded, load, parse
from chatcart.flows.matching import IntentResolver, KeywordIntentResolver
from chatcart.flows.runtime import Book, Context, conduct
from chatcart.flows.schemas import (
    BotInput,
    ContactView,
    FlowInput,
    FlowOut,
    HttpAction,
    HttpResult,
    Outcome,
    RunRecord,
    RunState,
    SimSession,
    WorkspaceView,
)
from chatcart.kit import config_cache
from chatcart.kit.clock import utcnow
from chatcart.kit.crypto import SecretBox, random_token
from chatcart.kit.ids import blocks_of
from chatcart.kit.textnorm import nfc
from chatcart.models import FlowRow, FlowRun, FlowVersion

# Versions never change: compiled once per process. Books are keyed by their versions.
_VERSIONS: OrderedDict[tuple[int, str], Flow] = OrderedDict()
_BOOKS: OrderedDict[tuple[object, ...], Book] = OrderedDict()
_CACHE_SIZE = 512
# guess_language(text, fallback) -> "vi" | "tl" | "en": the language a message is in.
guess_language = greeter.guess_language
_RESOLVER = KeywordIntentResolver()
log = logging.getLogger(__name__)


def respond(data: BotInput) -> list[MessageContent]:
    """The built-in greeter: what a workspace without a matching flow answers."""
    return greeter.reply(data)


def respond_to_comment(data: BotInput) -> MessageContent:
    return greeter.comment_reply(data)


# ---- documents (pure) ------------------------------------------------------------------


def validate(text: str, known_flows: set[str] | None = None) -> list[FlowError]:
    """Every problem of a document, each with its path and line (empty: valid)."""
    return load(nfc(text), known_flows=known_flows).errors


def load_document(text: str, known_flows: set[str] | None = None) -> Loaded:
    return load(nfc(text), known_flows=known_flows)


def simulate(
    document: str | list[Flow],
    state: RunState | None,
    data: FlowInput,
    *,
    now: datetime | None = None,
    seed: int = 0,
    contact: ContactView | None = None,
    workspace: WorkspaceView | None = None,
) -> Outcome:
    """One turn of a draft, no storage (the browser simulator, `flows test`). A document
    with errors raises FlowInvalid."""
    flows = _flows_or_raise(document) if isinstance(document, str) else document
    context = Context(
        contact or ContactView(),
        workspace or WorkspaceView(name="Shop"),
        Book(flows),
        _RESOLVER,
    )
    rng = random.Random(seed)  # noqa: S311  (a replayable A/B split, not a secret)
    return conduct(state, data, now or utcnow(), rng, context)


def graph_svg(text: str, errors: list[FlowError] | None = None) -> str:
    """The document drawn as SVG (steps, where they lead; those with an error marked)."""
    return graph.render(nfc(text), errors)


def simulate_chat(
    sim: SimSession,
    flows: list[Flow],
    data: FlowInput,
    *,
    workspace: WorkspaceView,
    now: datetime | None = None,
) -> SimSession:
    """One turn of the editor's simulator (nothing stored, nothing sent)."""
    return simulator.turn(sim, flows, data, now=now or utcnow(), workspace=workspace)


async def simulation_flows(session: AsyncSession, workspace_id: int, text: str) -> list[Flow]:
    """The draft's flows, plus the workspace's other flows (their drafts, when valid) so a
    `goto` or a button into them works in the simulator. An invalid draft: FlowInvalid."""
    rows = await repository.flows(session, workspace_id)
    flows = _flows_or_raise(nfc(text), {row.key for row in rows})
    mine = {flow.id for flow in flows}
    for row in rows:
        if row.key not in mine and row.status != "archived":
            loaded = load(row.draft, check_gotos=False)
            flows += loaded.flows if loaded.ok else []
    return flows


def _flows_or_raise(text: str, known_flows: set[str] | None = None) -> list[Flow]:
    loaded = load_document(text, known_flows)
    if not loaded.ok:
        raise FlowInvalid(
            f"the flow document has {len(loaded.errors)} error(s)",
            errors=[{"path": e.path, "line": e.line, "message": e.message} for e in loaded.errors],
        )
    return loaded.flows


def _sources(text: str, flows: list[Flow]) -> dict[str, str]:
    """Each flow's own source: the text itself for one flow, else its part of the set."""
    if len(flows) == 1 and "flows" not in (parse(text)[0] or {}):
        return {flows[0].id: text}
    data, _ = parse(text)
    out = {}
    for raw in data["flows"]:
        out[raw["id"]] = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100)
    return out


def library(name: str) -> str:
    """A flow set shipped with chatcart (flows/library/<name>.yaml), e.g. "demo_shop"."""
    return (files("chatcart.flows") / "library" / f"{name}.yaml").read_text(encoding="utf-8")


# ---- stored flows ----------------------------------------------------------------------


def _out(row: FlowRow) -> FlowOut:
    return FlowOut(
        id=row.id,
        key=row.key,
        name=row.name,
        status=row.status,
        published_number=row.published_number,
        draft=row.draft,
        updated_at=row.updated_at,
    )


async def list_flows(session: AsyncSession, workspace_id: int) -> list[FlowOut]:
    return [_out(row) for row in await repository.flows(session, workspace_id)]


async def get(session: AsyncSession, workspace_id: int, key: str) -> FlowOut:
    return _out(await _row(session, workspace_id, key))


async def _row(session: AsyncSession, workspace_id: int, key: str) -> FlowRow:
    row = await repository.flow(session, workspace_id, key)
    if row is None:
        raise FlowNotFound(f"no flow {key!r}", key=key)
    return row


async def _keys(session: AsyncSession, workspace_id: int) -> set[str]:
    return {row.key for row in await repository.flows(session, workspace_id)}


async def save(
    session: AsyncSession,
    secrets: SecretBox,
    workspace_id: int,
    text: str,
    *,
    publish: bool = False,
    actor: str | None = None,
) -> list[FlowOut]:
    """Save the flows of a document as drafts (new ones are created), publishing them too
    when asked. An invalid document raises FlowInvalid and changes nothing."""
    text = nfc(text)
    flows = _flows_or_raise(text, await _keys(session, workspace_id))
    sources = _sources(text, flows)
    rows = []
    for flow in flows:
        row = await repository.flow(session, workspace_id, flow.id)
        if row is None:
            row = FlowRow(
                workspace_id=workspace_id,
                key=flow.id,
                status="draft",
                signing_secret_encrypted=secrets.encrypt(random_token(32)),
            )
            session.add(row)
        row.name, row.draft, row.updated_at = flow.name, sources[flow.id], utcnow()
        rows.append(row)
    await session.flush()
    if publish:
        for row in rows:
            await _publish(session, row, actor)
    return [_out(row) for row in rows]


async def publish(
    session: AsyncSession, workspace_id: int, key: str, *, actor: str | None = None
) -> FlowOut:
    row = await _row(session, workspace_id, key)
    await _publish(session, row, actor)
    return _out(row)


async def _publish(session: AsyncSession, row: FlowRow, actor: str | None) -> None:
    flows = _flows_or_raise(row.draft, await _keys(session, row.workspace_id))
    if len(flows) != 1 or flows[0].id != row.key:
        raise FlowNotPublishable(f"the draft of {row.key!r} must hold that one flow")
    number = row.published_number
    current = await repository.version(session, row.id, number) if number else None
    if current is None or current.source != row.draft:
        number = await repository.last_number(session, row.id) + 1
        session.add(
            FlowVersion(
                workspace_id=row.workspace_id,
                flow_id=row.id,
                number=number,
                source=row.draft,
                published_by=actor,
            )
        )
    row.published_number, row.status, row.updated_at = number, "active", utcnow()
    await session.flush()


async def archive(session: AsyncSession, workspace_id: int, key: str) -> FlowOut:
    """The flow starts no more; conversations inside it finish on their version."""
    row = await _row(session, workspace_id, key)
    row.status, row.updated_at = "archived", utcnow()
    await session.flush()
    return _out(row)


async def export(
    session: AsyncSession, workspace_id: int, keys: Iterable[str] | None = None
) -> str:
    """The workspace's flows (drafts) as one YAML set, ready for git or `flows import`."""
    wanted = set(keys) if keys is not None else None
    rows = [
        r
        for r in await repository.flows(session, workspace_id)
        if wanted is None or r.key in wanted
    ]
    if wanted is not None and (missing := wanted - {r.key for r in rows}):
        raise FlowNotFound(f"no flow {sorted(missing)[0]!r}")
    documents = [parse(row.draft)[0] for row in rows]
    return yaml.safe_dump({"flows": documents}, allow_unicode=True, sort_keys=False, width=100)


async def signing_secret(
    session: AsyncSession, secrets: SecretBox, workspace_id: int, key: str
) -> str:
    return secrets.decrypt((await _row(session, workspace_id, key)).signing_secret_encrypted)


# ---- the published set and runs ----------------------------------------------------------


@dataclass
class BatchRuns:
    """A claimed inbound batch's view of the flows room: the runs of its conversations
    (read with one query, written by the batch's flush) and the published books it has
    read (a publication lands in the next batch, never half-way through one)."""

    rows: dict[int, FlowRun]  # by conversation id
    books: dict[tuple[int, int | None], Book | None] = field(default_factory=dict)
    dropped: set[int] = field(default_factory=set)  # conversations whose run was deleted


async def load_runs(session: AsyncSession, conversation_ids: set[int]) -> BatchRuns:
    rows = await repository.runs_of(session, conversation_ids)
    return BatchRuns({row.conversation_id: row for row in rows})


async def book(
    session: AsyncSession,
    workspace_id: int,
    pinned: int | None = None,
    batch: BatchRuns | None = None,
) -> Book | None:
    """The workspace's published flows, plus the version a run in progress is pinned to;
    None when the workspace has no published flow and no run to finish. One small query
    (once per claimed batch); compiled versions and trigger indexes are cached (a version
    never changes)."""
    if batch is None:
        return await _book(session, workspace_id, pinned)
    key = (workspace_id, pinned)
    if key not in batch.books:
        batch.books[key] = await _book(session, workspace_id, pinned)
    return batch.books[key]


async def _book(session: AsyncSession, workspace_id: int, pinned: int | None) -> Book | None:
    rows = await config_cache.cached(
        session,
        workspace_id,
        ("flows.published", pinned),
        lambda: repository.published(session, workspace_id, pinned),
    )
    if not rows:
        return None
    # The creation time tells a version id reused by another database (tests) apart.
    stamps = {vid: (vid, created.isoformat()) for _, vid, created, _ in rows}
    await _compile(session, list(stamps.values()))
    active = [(key, vid) for key, vid, _, is_active in rows if is_active]
    cache_key = (*sorted(stamps[vid] for _, vid in active), ("pinned", pinned or 0))
    found = _BOOKS.get(cache_key)
    if found is None:
        flows = [_VERSIONS[stamps[vid]] for _, vid in active if stamps[vid] in _VERSIONS]
        versions = {key: vid for key, vid in active}
        pins = {}
        if pinned is not None and pinned in stamps and stamps[pinned] in _VERSIONS:
            pins[pinned] = _VERSIONS[stamps[pinned]]
        found = _BOOKS[cache_key] = Book(flows, versions, pins)
        if len(_BOOKS) > _CACHE_SIZE:
            _BOOKS.popitem(last=False)
    return found


async def _compile(session: AsyncSession, stamps: list[tuple[int, str]]) -> None:
    missing = {vid: stamp for stamp in stamps if stamp not in _VERSIONS for vid in stamp[:1]}
    sources = await repository.version_sources(session, list(missing))
    for vid, source in sources.items():
        loaded = load(source, check_gotos=False)  # checked when published
        if loaded.ok:
            _VERSIONS[missing[vid]] = loaded.flows[0]
        else:  # a step type removed since it was published: the flow is left out
            log.error("flow version %s no longer loads: %s", vid, loaded.errors[0])
    while len(_VERSIONS) > _CACHE_SIZE * 4:
        _VERSIONS.popitem(last=False)


def intent_resolver() -> IntentResolver:
    return _RESOLVER


async def run_of(
    session: AsyncSession, conversation_id: int, batch: BatchRuns | None = None
) -> tuple[RunState | None, int]:
    """Where the conversation is in a flow (None: in none) and how many turns it took."""
    if batch is not None:
        row = batch.rows.get(conversation_id)
    else:
        row = await repository.run_of(session, conversation_id)
    if row is None:
        return None, 0
    return RunState.model_validate(row.state), row.turns


def _record(row: FlowRun) -> RunRecord:
    return RunRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        workspace_id=row.workspace_id,
        state=RunState.model_validate(row.state),
        turns=row.turns,
    )


async def save_run(
    session: AsyncSession,
    *,
    workspace_id: int,
    conversation_id: int,
    state: RunState | None,
    batch: BatchRuns | None = None,
) -> int | None:
    """Store where the conversation is now (None: no run). Returns the run's turn number
    (for idempotency keys). A run waiting for a timer or an HTTP call becomes due work.
    With `batch` (a claimed inbound batch) nothing is flushed: the batch's flush writes."""
    if batch is not None:
        return await _save_in_batch(session, batch, workspace_id, conversation_id, state)
    row = await repository.run_of(session, conversation_id)
    if state is None:
        if row is not None:
            await repository.delete_run(session, row.id)
        return None
    if row is None:
        row = FlowRun(workspace_id=workspace_id, conversation_id=conversation_id, turns=0)
        session.add(row)
    _store(row, state)
    await session.flush()
    return row.turns


async def _save_in_batch(
    session: AsyncSession,
    batch: BatchRuns,
    workspace_id: int,
    conversation_id: int,
    state: RunState | None,
) -> int | None:
    row = batch.rows.get(conversation_id)
    if state is None:
        if row is None:
            return None
        del batch.rows[conversation_id]
        if row in session.new:  # begun in this batch: never written
            session.expunge(row)
        else:
            await session.delete(row)
            batch.dropped.add(conversation_id)
        return None
    if row is None:
        if conversation_id in batch.dropped:
            # The unit of work inserts before it deletes: the old run (one per
            # conversation) must be gone first. Rare: a run ended and another began
            # for one person within one batch.
            await session.flush()
            batch.dropped.discard(conversation_id)
        # A key taken ahead: SQLite cannot insert many rows returning their keys at once.
        blocks = blocks_of(session)
        row = FlowRun(
            id=await blocks.take(FlowRun) if blocks is not None else None,
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            turns=0,
        )
        session.add(row)
        batch.rows[conversation_id] = row
    _store(row, state)
    return row.turns


def _store(row: FlowRun, state: RunState) -> None:
    row.state = state.model_dump(mode="json")
    row.flow_version_id = state.version
    row.turns = (row.turns or 0) + 1
    if state.status == "waiting" and state.wake_at is not None:
        row.status, row.wake_at = "timer", state.wake_at
    elif state.status == "http":
        row.status, row.wake_at = "timer", utcnow()
    else:
        row.status, row.wake_at = "idle", None
    row.claimed_by = row.claimed_until = None
    row.updated_at = utcnow()


async def claim_due_runs(
    session: AsyncSession, worker_id: str, batch: int, lease_seconds: int
) -> list[RunRecord]:
    ids = await repository.claim_due_runs(session, worker_id, batch, lease_seconds)
    return [_record(row) for row in await repository.runs(session, ids)]


async def claimed_run(session: AsyncSession, run_id: int, worker_id: str) -> RunRecord | None:
    """The run, if it is still ours to resume (not answered, restarted or deleted since)."""
    row = await repository.run_by_id(session, run_id)
    if row is None or row.claimed_by != worker_id or row.status != "timer":
        return None
    return _record(row)


async def call_http(action: HttpAction, secret: str) -> HttpResult:
    """Make an HTTP step's call (network: outside any transaction)."""
    return await http_call.call(action, secret)


def turn(
    book: Book,
    state: RunState | None,
    data: FlowInput,
    now: datetime,
    rng: random.Random,
    contact: ContactView,
    workspace: WorkspaceView,
) -> Outcome:
    """One bot turn over the published flows (pure: see flows/runtime.py)."""
    return conduct(state, data, now, rng, Context(contact, workspace, book, _RESOLVER))
