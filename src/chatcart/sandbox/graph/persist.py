"""`--state-file`: pages, users and features loaded at start-up and written at shutdown, so a
restarted sandbox still knows the demo's pages. Clock, send log, comments and tokens are not
kept (they belong to one run)."""

from __future__ import annotations

from pathlib import Path

from chatcart.sandbox.graph.control import register_page, register_user
from chatcart.sandbox.graph.schemas import PageIn, StateFile, UserIn
from chatcart.sandbox.graph.state import GraphState


def load(state: GraphState, path: Path) -> None:
    if not path.exists():
        return
    data = StateFile.model_validate_json(path.read_bytes())
    for page in data.pages:
        register_page(state, page)
    for user in data.users:
        register_user(state, user)
    for name, enabled in data.features.items():
        state.set_feature(name, enabled)


def save(state: GraphState, path: Path) -> None:
    pages = [
        PageIn(
            id=a.id,
            token=a.token,
            app_secret=a.app_secret,
            callback_url=a.callback_url,
            name=a.name,
            kind=a.kind,
            page_id=a.page_id,
            app_id=a.app_id,
            granted_profile_fields=sorted(a.granted_profile_fields),
        )
        for a in state.accounts.values()
    ]
    users = [
        UserIn(
            page=u.account_id,
            id=u.id,
            first_name=u.first_name,
            last_name=u.last_name,
            profile_pic=u.profile_pic,
            locale=u.locale,
            timezone=u.timezone,
            gender=u.gender,
            username=u.username,
            unavailable=u.unavailable,
            feed_id=u.feed_id,
            user_ref=u.user_ref,
            conversation_started=u.conversation_started,
            last_interaction_at=u.last_interaction_at,
        )
        for u in state.users.values()
    ]
    data = StateFile(pages=pages, users=users, features=state.features)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(data.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)
