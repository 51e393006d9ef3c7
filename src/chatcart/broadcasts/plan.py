"""Judging one recipient: which channel, by which rule, or skipped and why, or later (quiet
hours). The plan counts these verdicts; the run acts on them. Pure: facts in, verdict out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatcart.broadcasts.repository import ContactFacts, IdentityFacts, PlanCase
from chatcart.broadcasts.schemas import BroadcastPurpose
from chatcart.models import OptinToken as OptinRow
from chatcart.policy import service as policy
from chatcart.policy.errors import UnknownChannel
from chatcart.policy.schemas import Decision, Frequency, OptinToken, PolicyRequest, Purpose

# chatcart's own rules (not the platform's), with the day they were introduced.
CHATCART_RULES_DATE = date(2026, 11, 21)


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    kind: str
    name: str
    status: str  # active | reauth_required | ...


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: Literal["send", "skip", "later"]
    rule: str
    reason: str
    reason_vi: str = ""
    effective: date | None = None
    account_id: int | None = None
    identity: IdentityFacts | None = None
    decision: Decision | None = None
    not_before: datetime | None = None  # "later": when quiet hours end


@dataclass(frozen=True, slots=True)
class Settings:
    purpose: BroadcastPurpose
    accounts: list[Account]
    frequency_cap_hours: int
    quiet_start_hour: int | None
    quiet_end_hour: int | None


def _skip(rule: str, reason: str, reason_vi: str) -> Verdict:
    return Verdict("skip", rule, reason, reason_vi, CHATCART_RULES_DATE)


def _token(row: OptinRow | None) -> OptinToken | None:
    if row is None or row.expires_at is None:
        return None
    try:
        frequency = Frequency(row.frequency or "WEEKLY")
        return OptinToken(
            expires_at=row.expires_at,
            status="stopped" if row.status == "stopped" else "active",
            frequency=frequency,
            last_sent_at=row.last_sent_at,
            timezone=row.timezone,
        )
    except ValueError:
        return None


def judge(
    settings: Settings,
    contact: ContactFacts,
    tokens: dict[int, OptinRow],
    now: datetime,
) -> Verdict:
    cap = settings.frequency_cap_hours
    if cap and contact.last_broadcast_at and contact.last_broadcast_at > now - timedelta(hours=cap):
        return _skip(
            "broadcast.frequency_cap",
            f"This contact already received a broadcast in the last {cap} hours "
            "(the frequency cap of this broadcast).",
            f"Khách này đã nhận một tin gửi hàng loạt trong {cap} giờ qua "
            "(giới hạn tần suất của chiến dịch).",
        )
    first_refusal: Verdict | None = None
    purpose = settings.purpose.policy_purpose()
    for account, identity in _in_order(settings, contact, now):
        verdict = _judge_identity(settings, account, identity, contact, tokens, purpose, now)
        if verdict.kind == "send":
            return _quiet(settings, contact, verdict, now)
        first_refusal = first_refusal or verdict
    if first_refusal is not None:
        return first_refusal
    return _skip(
        "identity.none",
        "This contact has never written to the chosen channels, so they cannot be messaged there.",
        "Khách này chưa từng nhắn tin qua các kênh đã chọn nên không thể gửi tin qua đó.",
    )


def _in_order(
    settings: Settings, contact: ContactFacts, now: datetime
) -> list[tuple[Account, IdentityFacts]]:
    """The identities in the order they are tried: the accounts' order, then the most
    recent interaction first."""
    by_account: dict[int, list[IdentityFacts]] = {}
    for identity in contact.identities:
        by_account.setdefault(identity.channel_account_id, []).append(identity)
    oldest = datetime.min.replace(tzinfo=now.tzinfo)
    return [
        (account, identity)
        for account in settings.accounts
        for identity in sorted(
            by_account.get(account.id, []),
            key=lambda i: i.last_inbound_at or oldest,
            reverse=True,
        )
    ]


class CaseJudge:
    """`judge` once per distinct case instead of once per recipient. A case is what the
    verdict depends on: the frequency cap hit or not, unsubscribed, the time zone when
    there are quiet hours, and per identity (in the order tried) its account, whether it
    is reachable and where its last interaction falls against every span the channel's
    rules compare it with (the window, each tag's). Contacts with an opt-in token are
    judged one by one (a token has its own state). The verdict's texts never depend on
    more than that, so a case's verdict is every member's, with the member's identity."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        self._spans: dict[str, tuple[timedelta, ...]] = {}
        self._cases: dict[tuple[object, ...], tuple[Verdict, int | None]] = {}
        self.judged = 0  # verdicts computed (the rest came from a case)

    def _spans_of(self, kind: str) -> tuple[timedelta, ...]:
        spans = self._spans.get(kind)
        if spans is None:
            try:
                pack = policy.rules_for(kind)
            except UnknownChannel:
                spans = ()
            else:
                found = {pack.window.span} if pack.window else set()
                found |= {t.span for t in pack.tags if t.span is not None}
                spans = tuple(sorted(found))
            self._spans[kind] = spans
        return spans

    def spans(self) -> list[timedelta]:
        """Every span any chosen account's rules compare a last interaction with."""
        return sorted({s for a in self.settings.accounts for s in self._spans_of(a.kind)})

    def _age_case(self, kind: str, at: datetime | None) -> tuple[bool, ...] | None:
        if at is None:
            return None
        age = self.now - at
        return tuple(age <= span for span in self._spans_of(kind))

    def __call__(self, contact: ContactFacts, tokens: dict[int, OptinRow]) -> Verdict:
        settings, now = self.settings, self.now
        if any(i.id in tokens for i in contact.identities):
            self.judged += 1
            return judge(settings, contact, tokens, now)
        order = _in_order(settings, contact, now)
        cap = settings.frequency_cap_hours
        quiet = settings.quiet_start_hour is not None and settings.quiet_end_hour is not None
        key: tuple[object, ...] = (
            bool(
                cap
                and contact.last_broadcast_at
                and contact.last_broadcast_at > now - timedelta(hours=cap)
            ),
            contact.unsubscribed,
            contact.timezone if quiet else None,
            tuple((a.id, i.reachable, self._age_case(a.kind, i.last_inbound_at)) for a, i in order),
        )
        found = self._cases.get(key)
        if found is None:
            self.judged += 1
            verdict = judge(settings, contact, tokens, now)
            place = None
            if verdict.identity is not None:
                place = next(n for n, (_, i) in enumerate(order) if i is verdict.identity)
            self._cases[key] = found = (verdict, place)
            return verdict
        verdict, place = found
        if place is None:
            return verdict
        return replace(verdict, identity=order[place][1])


def case_facts(case: PlanCase, now: datetime) -> ContactFacts:
    """A stand-in member of a case counted in SQL: what `judge` reads, nothing else."""
    identities = []
    if case.account_id is not None:
        identities.append(
            IdentityFacts(0, 0, case.account_id, "", case.last_inbound_at, case.reachable)
        )
    return ContactFacts(
        0,
        "",
        None,
        None,
        case.timezone,
        identities,
        unsubscribed=case.unsubscribed,
        last_broadcast_at=now if case.capped else None,
    )


def _judge_identity(
    settings: Settings,
    account: Account,
    identity: IdentityFacts,
    contact: ContactFacts,
    tokens: dict[int, OptinRow],
    purpose: Purpose,
    now: datetime,
) -> Verdict:
    if not identity.reachable:
        return _skip(
            "identity.unreachable",
            "The platform said this person cannot receive messages (blocked, deactivated or "
            "messages turned off).",
            "Nền tảng báo người này không nhận được tin nhắn (đã chặn, khóa tài khoản hoặc tắt "
            "tin nhắn).",
        )
    decision = policy.decide(
        PolicyRequest(
            channel=account.kind,
            purpose=purpose,
            now=now,
            last_interaction_at=identity.last_inbound_at,
            written_by="human" if settings.purpose.written_by == "human" else "bot",
            optin=_token(tokens.get(identity.id)),
            unsubscribed=contact.unsubscribed,
        )
    )
    if decision.allowed and purpose is Purpose.PROMOTION and decision.tag:
        # Never, whatever a pack says: a promotion with a tag gets the Page restricted.
        return _skip(
            "broadcast.promotion_tag",
            "A promotion is never sent with a message tag.",
            "Tin khuyến mãi không bao giờ được gửi kèm thẻ tin nhắn.",
        )
    kind: Literal["send", "skip"] = "send" if decision.allowed else "skip"
    return Verdict(
        kind,
        decision.rule,
        decision.reason,
        decision.explanation_vi,
        decision.effective,
        account.id,
        identity,
        decision,
    )


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def quiet_until(start: int, end: int, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The end of the quiet hours `now` falls in (local hours start..end, may span midnight),
    or None when `now` is outside them."""
    local = now.astimezone(zone)
    hour = local.hour
    inside = (start <= hour < end) if start < end else (hour >= start or hour < end)
    if not inside:
        return None
    until = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until.astimezone(now.tzinfo)


def _quiet(settings: Settings, contact: ContactFacts, verdict: Verdict, now: datetime) -> Verdict:
    start, end = settings.quiet_start_hour, settings.quiet_end_hour
    zone = _zone(contact.timezone)
    if start is None or end is None or start == end or zone is None:
        return verdict
    until = quiet_until(start, end, zone, now)
    if until is None:
        return verdict
    return Verdict(
        "later",
        "broadcast.quiet_hours",
        f"It is between {start}:00 and {end}:00 where this contact lives; the message waits.",
        f"Đang trong khung giờ yên lặng ({start}:00-{end}:00) nơi khách sống; tin sẽ chờ.",
        CHATCART_RULES_DATE,
        verdict.account_id,
        verdict.identity,
        verdict.decision,
        not_before=until,
    )
