"""Send API: auth, path, recipient union, parameter shape, responses, the send log
(platforms.md 1.1, 1.2, 2.1, 2.9, checklist 2.11 #1, #2, #5)."""

from __future__ import annotations

import re

import httpx
import pytest

from chatcart.sandbox.graph import GraphState
from tests.sandbox.helpers import (
    IG,
    IG_TOKEN,
    IGSID,
    PAGE,
    PSID,
    TOKEN,
    error_of,
    send,
    text,
)


async def test_accepted_text_returns_recipient_and_message_id(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    response = await send(client, text())
    assert response.status_code == 200
    body = response.json()
    assert body["recipient_id"] == PSID
    assert re.fullmatch(r"m_[A-Za-z0-9_-]{20,}", body["message_id"])
    [record] = state.sends(page=PAGE, user=PSID)
    assert record.accepted
    assert record.message_id == body["message_id"]
    assert "access_token" not in record.request


@pytest.mark.parametrize("version", ["v19.0", "v25.0", "v3.0"])
async def test_any_version_prefix(client: httpx.AsyncClient, version: str) -> None:
    assert (await send(client, text(), version=version)).status_code == 200


@pytest.mark.parametrize("version", ["v25.1", "25.0", "latest"])
async def test_bad_version_is_unknown_path(client: httpx.AsyncClient, version: str) -> None:
    response = await send(client, text(), version=version)
    assert response.status_code == 400
    assert error_of(response)["code"] == 2500


async def test_me_alias(client: httpx.AsyncClient) -> None:
    assert (await send(client, text(), node="me")).status_code == 200


async def test_unknown_token_is_190(client: httpx.AsyncClient, state: GraphState) -> None:
    response = await send(client, text(), token="nope")
    assert response.status_code == 400
    err = error_of(response)
    assert (err["code"], err["type"]) == (190, "OAuthException")
    assert "WWW-Authenticate" in response.headers
    [record] = state.sends()
    assert not record.accepted
    assert record.error == err


async def test_missing_token_is_104(client: httpx.AsyncClient) -> None:
    assert error_of(await send(client, text(), token=None))["code"] == 104


async def test_revoked_token_is_190(client: httpx.AsyncClient, state: GraphState) -> None:
    state.revoke_token(PAGE)
    err = error_of(await send(client, text()))
    assert (err["code"], err["error_subcode"]) == (190, 460)
    state.add_page(PAGE, "EAAG-new-token", "app-secret-1")  # re-connected with a new token
    assert error_of(await send(client, text()))["code"] == 190
    assert (await send(client, text(), token="EAAG-new-token")).status_code == 200


async def test_auth_status_is_configurable(client: httpx.AsyncClient, state: GraphState) -> None:
    state.config.auth_error_status = 401
    assert (await send(client, text(), token="nope")).status_code == 401
    assert (await send(client, text("404"))).status_code == 400  # other errors stay 400


async def test_bearer_header(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"/v25.0/{PAGE}/messages", json=text(), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200


async def test_form_fields_holding_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"/v25.0/{PAGE}/messages",
        data={
            "access_token": TOKEN,
            "recipient": f'{{"id":"{PSID}"}}',
            "messaging_type": "RESPONSE",
            "message": '{"text":"hello, world"}',
        },
    )
    assert response.status_code == 200, response.text


async def test_query_params_with_single_quotes_like_metas_curl(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"/v25.0/{PAGE}/messages",
        params={
            "recipient": f"{{'id':'{PSID}'}}",
            "messaging_type": "RESPONSE",
            "message": "{'text':'hello,world'}",
            "access_token": TOKEN,
        },
    )
    assert response.status_code == 200, response.text


async def test_malformed_json_body(client: httpx.AsyncClient, state: GraphState) -> None:
    response = await client.post(
        f"/v25.0/{PAGE}/messages?access_token={TOKEN}",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert error_of(response)["code"] == 100
    assert not state.sends()[0].accepted


async def test_token_of_another_page_cannot_use_this_page(client: httpx.AsyncClient) -> None:
    err = error_of(await send(client, text(), token=IG_TOKEN, node=PAGE))
    assert (err["code"], err["error_subcode"], err["type"]) == (100, 33, "GraphMethodException")


@pytest.mark.parametrize(
    "recipient",
    [
        {},
        {"id": PSID, "user_ref": "r1"},
        {"id": PSID, "comment_id": "1_2"},
        {"notification_messages_token": "t", "post_id": "p"},
        {"psid": PSID},
        {"id": PSID, "name": {"first_name": "x"}},
        {"id": ""},
        "7001",
    ],
)
async def test_recipient_union_needs_exactly_one_key(
    client: httpx.AsyncClient, recipient: object
) -> None:
    body = text() | {"recipient": recipient}
    assert error_of(await send(client, body))["code"] == 100


async def test_missing_recipient(client: httpx.AsyncClient) -> None:
    body = text()
    del body["recipient"]
    assert error_of(await send(client, body))["code"] == 100


async def test_unknown_psid_is_2018001(client: httpx.AsyncClient) -> None:
    err = error_of(await send(client, text("123456")))
    assert (err["code"], err["error_subcode"]) == (100, 2018001)
    assert err["message"] == "(#100) No matching user found"


async def test_psid_of_another_page_is_2018001(client: httpx.AsyncClient) -> None:
    err = error_of(await send(client, text(IGSID)))
    assert (err["code"], err["error_subcode"]) == (100, 2018001)


async def test_unavailable_person_is_551(client: httpx.AsyncClient, state: GraphState) -> None:
    state.set_unavailable(PAGE, PSID)
    err = error_of(await send(client, text()))
    assert (err["code"], err["message"]) == (551, "(#551) This person isn't available right now.")
    state.set_unavailable(PAGE, PSID, False)
    assert (await send(client, text())).status_code == 200


async def test_messaging_type_is_required_for_psid_messages(client: httpx.AsyncClient) -> None:
    body = text()
    del body["messaging_type"]
    assert error_of(await send(client, body))["code"] == 100


@pytest.mark.parametrize("messaging_type", ["NON_PROMOTIONAL_SUBSCRIPTION", "response", ""])
async def test_invalid_messaging_type(client: httpx.AsyncClient, messaging_type: str) -> None:
    body = text(messaging_type=messaging_type)
    assert error_of(await send(client, body))["code"] == 100


async def test_tag_needs_message_tag_type(client: httpx.AsyncClient) -> None:
    body = text(tag="HUMAN_AGENT")
    assert error_of(await send(client, body))["code"] == 100


async def test_message_tag_needs_a_tag(client: httpx.AsyncClient) -> None:
    body = text(messaging_type="MESSAGE_TAG")
    assert error_of(await send(client, body))["code"] == 100


@pytest.mark.parametrize("value", ["REGULAR", "SILENT_PUSH", "NO_PUSH"])
async def test_notification_types(client: httpx.AsyncClient, value: str) -> None:
    assert (await send(client, text(notification_type=value))).status_code == 200


async def test_bad_notification_type(client: httpx.AsyncClient) -> None:
    assert error_of(await send(client, text(notification_type="LOUD")))["code"] == 100


async def test_neither_message_nor_sender_action(client: httpx.AsyncClient) -> None:
    body = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE"}
    assert error_of(await send(client, body))["code"] == 100


@pytest.mark.parametrize("action", ["typing_on", "typing_off", "mark_seen"])
async def test_sender_actions(client: httpx.AsyncClient, action: str) -> None:
    response = await send(client, {"recipient": {"id": PSID}, "sender_action": action})
    assert response.status_code == 200
    assert response.json() == {"recipient_id": PSID}


async def test_sender_action_with_message_is_rejected(client: httpx.AsyncClient) -> None:
    body = text(sender_action="typing_on")
    assert error_of(await send(client, body))["code"] == 100


async def test_unknown_sender_action(client: httpx.AsyncClient) -> None:
    body = {"recipient": {"id": PSID}, "sender_action": "typing"}
    assert error_of(await send(client, body))["code"] == 100


async def test_sender_action_needs_psid_recipient(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.add_user(PAGE, "7002", user_ref="ref-1", conversation_started=True)
    body = {"recipient": {"user_ref": "ref-1"}, "sender_action": "typing_on"}
    assert error_of(await send(client, body))["code"] == 100


async def test_user_ref_response_omits_recipient_id_and_allows_one_message(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.add_user(PAGE, "7002", user_ref="ref-1")
    body = {
        "recipient": {"user_ref": "ref-1"},
        "messaging_type": "UPDATE",
        "message": {"text": "x"},
    }
    first = await send(client, body)
    assert first.status_code == 200
    assert set(first.json()) == {"message_id"}
    assert error_of(await send(client, body))["code"] == 100
    unknown = body | {"recipient": {"user_ref": "nope"}}
    assert error_of(await send(client, unknown))["error_subcode"] == 2018001


async def test_phone_number_recipient_needs_customer_matching(client: httpx.AsyncClient) -> None:
    body = text() | {"recipient": {"phone_number": "+84901234567", "name": {"first_name": "A"}}}
    assert error_of(await send(client, body))["code"] == 200


async def test_one_time_notification_token_is_retired(client: httpx.AsyncClient) -> None:
    body = {"recipient": {"one_time_notif_token": "otn"}, "message": {"text": "x"}}
    assert error_of(await send(client, body))["code"] == 100


async def test_instagram_send_on_ig_id(client: httpx.AsyncClient, state: GraphState) -> None:
    response = await send(client, text(IGSID), token=IG_TOKEN, node=IG)
    assert response.status_code == 200
    assert response.json()["recipient_id"] == IGSID
    assert state.sends(page=IG)[0].platform == "instagram"


async def test_shared_token_routes_by_recipient(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    """Messenger API for Instagram: the Page token reaches the linked IG account."""
    state.add_page(IG, TOKEN, "app-secret-1", kind="instagram", page_id_link=PAGE)
    state.add_user(IG, IGSID, last_interaction_at=state.clock.now())
    assert (await send(client, text(IGSID), node=PAGE)).json()["recipient_id"] == IGSID
    assert (await send(client, text(PSID), node="me")).json()["recipient_id"] == PSID
    assert [r.platform for r in state.sends(accepted=True)] == ["instagram", "messenger"]


async def test_error_bodies_have_fresh_fbtrace_ids(client: httpx.AsyncClient) -> None:
    a = error_of(await send(client, text("1")))
    b = error_of(await send(client, text("1")))
    assert a["fbtrace_id"] != b["fbtrace_id"]


async def test_send_log_names_the_rule(client: httpx.AsyncClient, state: GraphState) -> None:
    await send(client, text("1"))
    await send(client, text())
    rejected, accepted = state.sends()
    assert not rejected.accepted
    assert "2.9" in rejected.reason
    assert accepted.accepted
    assert state.sends(accepted=False) == [rejected]
    assert state.sends(user=PSID) == [accepted]
