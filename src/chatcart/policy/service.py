"""The policy room's only door: decide per message, before any send. Pure: inputs in, decision out.

    decide(PolicyRequest) -> Decision     rules_for(channel) -> Pack     send_rate(...) -> Rate

Order of the checks (each names the rule that ends it; rule ids in the report / packs.py):
1. unknown channel -> "<channel>.unknown"; a day before the pack's first modelled day ->
   "<channel>.before_pack".
2. STOP / HỦY: only answers (reply, human_reply, private_reply) go out -> "<channel>.unsubscribed".
   A person who said STOP still gets an answer to their own new message or comment (writing
   again is their choice) within the platform's limits; nothing proactive is sent.
3. A channel without window ("webchat") -> "webchat.open".
4. private_reply -> one per comment within 7 days, regardless of the window (platforms.md
   §2.6, §3).
5. optin_request -> only inside the window, one per 7 days (§2.4).
6. Inside the window -> "<channel>.window": RESPONSE for answers, UPDATE for the rest (§2.1).
7. Outside: answers -> HUMAN_AGENT (human-written, <= 7 d, app has the feature); promotion ->
   opt-in token, never a tag; updates -> their tag while it is in force, else the dated
   refusal (§2.2, §2.4, §3).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from chatcart.policy.errors import UnknownChannel
from chatcart.policy.packs import PACKS, UNKNOWN_CHANNEL
from chatcart.policy.schemas import (
    ANSWERS,
    Decision,
    Endpoint,
    Frequency,
    MarketingRule,
    MessagingType,
    OptinToken,
    Pack,
    PolicyRequest,
    Purpose,
    Rate,
    RecipientKind,
    Refusal,
    Rule,
    TagRule,
    WindowRule,
)
from chatcart.policy.texts import FREQUENCY_WORDS, PURPOSE_NOUNS, en_date, render, vi_date

__all__ = ["decide", "rules_for", "send_rate"]


def rules_for(channel: str) -> Pack:
    """The channel's pack: every rule with its dates (Pack.rules(), Pack.in_force(day))."""
    pack = PACKS.get(channel)
    if pack is None:
        raise UnknownChannel(f"chatcart has no rules for the {channel} channel", channel=channel)
    return pack


def send_rate(channel: str, media: bool = False, *, purpose: Purpose | str | None = None) -> Rate:
    """The per-account send rate for the outbox limiter (`Rate.limit` is a `limits` string).

    Private replies have their own, stricter rate where the pack has one (platforms.md §2.10, §3).
    """
    rates = rules_for(channel).rates
    if purpose == Purpose.PRIVATE_REPLY and rates.private_reply is not None:
        return rates.private_reply
    return rates.media if media else rates.text


def decide(request: PolicyRequest, *, explain: bool = True) -> Decision:
    """`explain=False`: an allowed send carries no sentences (the dispatcher records only
    why a send was refused, and writing them is most of a decision's time); a refusal is
    always explained."""
    pack = PACKS.get(request.channel)
    if pack is None:
        return _unknown(request.channel)
    return _Judge(pack, request, explain).decide()


def _unknown(channel: str) -> Decision:
    reason, vi = render("unknown_channel", channel=channel, channel_vi=channel)
    return Decision(
        allowed=False,
        rule=f"{channel}.unknown",
        effective=UNKNOWN_CHANNEL.effective_from,
        reason=reason,
        explanation_vi=vi,
    )


def _period(moment: datetime, frequency: Frequency, token: OptinToken) -> tuple[int, ...]:
    """The calendar day / ISO week / month of `moment`, in the token's time zone (UTC default)."""
    local = moment.astimezone(token.zone())
    if frequency is Frequency.DAILY:
        return (local.year, local.month, local.day)
    if frequency is Frequency.WEEKLY:
        iso = local.isocalendar()
        return (iso.year, iso.week)
    return (local.year, local.month)


def _next_period(moment: datetime, frequency: Frequency, token: OptinToken) -> date:
    local = moment.astimezone(token.zone()).date()
    if frequency is Frequency.DAILY:
        return local + timedelta(days=1)
    if frequency is Frequency.WEEKLY:
        return local + timedelta(days=7 - local.weekday())
    return date(local.year + local.month // 12, local.month % 12 + 1, 1)


class _Judge:
    """One decision: the pack, the request, and the facts every sentence needs."""

    def __init__(self, pack: Pack, request: PolicyRequest, explain: bool = True) -> None:
        self.pack = pack
        self.request = request
        self.explain = explain
        self.now = request.now  # UTC (PolicyRequest normalises)
        self.day = self.now.date()
        self.purpose = request.purpose

    # --- building decisions ------------------------------------------------------------

    def _facts(self, rule: Rule, extra: dict[str, object]) -> dict[str, object]:
        what, whats, what_vi = PURPOSE_NOUNS[self.purpose]
        facts: dict[str, object] = {
            "channel": self.pack.label,
            "channel_vi": self.pack.label_vi,
            "whats": whats,
            "date": en_date(rule.effective_from),
            "date_vi": vi_date(rule.effective_from),
            "what": what,
            "what_vi": what_vi,
            "hours": self.pack.window.hours if self.pack.window else "",
            "tag": getattr(rule, "tag", None) or "",
        }
        facts.update(extra)
        return facts

    def _allow(
        self,
        rule: Rule,
        text: str,
        *,
        rule_id: str | None = None,
        messaging_type: MessagingType = "RESPONSE",
        tag: str | None = None,
        recipient_kind: RecipientKind = "id",
        endpoint: Endpoint = "send_api",
        **extra: object,
    ) -> Decision:
        reason, vi = render(text, **self._facts(rule, extra)) if self.explain else ("", "")
        return Decision(
            allowed=True,
            rule=rule_id or rule.id,
            effective=rule.effective_from,
            messaging_type=messaging_type,
            tag=tag,
            recipient_kind=recipient_kind,
            endpoint=endpoint,
            reason=reason,
            explanation_vi=vi,
            pack_version=self.pack.version,
        )

    def _deny(
        self, rule: Rule, text: str, *, rule_id: str | None = None, **extra: object
    ) -> Decision:
        reason, vi = render(text, **self._facts(rule, extra))
        return Decision(
            allowed=False,
            rule=rule_id or rule.id,
            effective=rule.effective_from,
            reason=reason,
            explanation_vi=vi,
            pack_version=self.pack.version,
        )

    # --- lookups ------------------------------------------------------------------------

    def _age(self, moment: datetime | None) -> timedelta | None:
        return None if moment is None else self.now - moment

    def _tag_for(self, purpose: Purpose) -> TagRule | None:
        for tag in self.pack.tags:
            if purpose in tag.purposes and tag.in_force(self.day):
                return tag
        return None

    def _refusal_for(self, purpose: Purpose) -> Refusal | None:
        for refusal in self.pack.refusals:
            if purpose in refusal.purposes and refusal.in_force(self.day):
                return refusal
        return None

    def _marketing(self) -> MarketingRule | None:
        for rule in self.pack.marketing:
            if rule.in_force(self.day):
                return rule
        return None

    # --- the decision -------------------------------------------------------------------

    def decide(self) -> Decision:
        pack, request = self.pack, self.request
        if pack.valid_from is not None and self.day < pack.valid_from:
            floor = Rule(
                id=f"{pack.channel}.before_pack", effective_from=pack.valid_from, source=""
            )
            return self._deny(floor, "before_pack", day=en_date(self.day), day_vi=vi_date(self.day))
        if request.unsubscribed and self.purpose not in pack.consent.answers:
            return self._deny(pack.consent, "unsubscribed")
        if pack.open is not None:
            messaging: MessagingType = "RESPONSE" if self.purpose in ANSWERS else "UPDATE"
            return self._allow(pack.open, "open", messaging_type=messaging)
        window = pack.window
        assert window is not None  # Pack.__post_init__: open xor window
        if self.purpose is Purpose.PRIVATE_REPLY:
            return self._private_reply(window)
        age = self._age(request.last_interaction_at)
        inside = age is not None and age <= window.span  # §2.2: "allowed iff age <= 24h"
        if self.purpose is Purpose.OPTIN_REQUEST:
            return self._optin_request(window, inside)
        if inside:
            messaging = "RESPONSE" if self.purpose in ANSWERS else "UPDATE"
            return self._allow(window, "window", messaging_type=messaging)
        if self.purpose in ANSWERS:
            return self._answer_outside(window, age)
        if self.purpose is Purpose.PROMOTION:
            return self._promotion_outside(window, age)
        return self._update_outside(window, age)

    def _closed(self, window: WindowRule, age: timedelta | None) -> Decision:
        text = "never_wrote" if age is None else "window_closed"
        return self._deny(window, text, rule_id=f"{self.pack.channel}.window_closed")

    def _answer_outside(self, window: WindowRule, age: timedelta | None) -> Decision:
        human_agent = self._tag_for(self.purpose)
        if human_agent is None or age is None:
            return self._closed(window, age)
        span = human_agent.span
        days = human_agent.max_days
        human = self.request.written_by == "human"
        if span is not None and age > span:  # §2.2: HUMAN_AGENT "allowed iff age <= 7d"
            if not human:
                return self._closed(window, age)
            return self._deny(
                human_agent, "human_agent_expired", rule_id=f"{human_agent.id}.expired", days=days
            )
        if human_agent.human_only and not human:
            return self._deny(
                human_agent,
                "human_agent_human_only",
                rule_id=f"{human_agent.id}.human_only",
                days=days,
            )
        if not self.request.human_agent_enabled:
            return self._deny(
                human_agent,
                "human_agent_not_enabled",
                rule_id=f"{human_agent.id}.not_enabled",
                days=days,
            )
        return self._allow(
            human_agent,
            "human_agent",
            messaging_type="MESSAGE_TAG",
            tag=human_agent.tag,
            days=days,
        )

    def _update_outside(self, window: WindowRule, age: timedelta | None) -> Decision:
        tag = self._tag_for(self.purpose)
        if tag is not None and not tag.human_only:
            if age is None:  # never wrote: no conversation a tag could continue
                return self._closed(window, age)
            span = tag.span
            if span is None or age <= span:
                until = tag.effective_until
                return self._allow(
                    tag,
                    "tag",
                    messaging_type="MESSAGE_TAG",
                    tag=tag.tag,
                    until=en_date(until) if until else "further notice",
                    until_vi=vi_date(until) if until else "khi có thông báo mới",
                )
        refusal = self._refusal_for(self.purpose)
        if refusal is not None:
            return self._deny(refusal, refusal.text)
        return self._closed(window, age)

    def _promotion_outside(self, window: WindowRule, age: timedelta | None) -> Decision:
        # §2.2: tags must not carry promotions, so a token is the only way (§2.4).
        marketing = self._marketing()
        if marketing is None:
            refusal = self._refusal_for(Purpose.PROMOTION)
            if refusal is not None:
                return self._deny(refusal, refusal.text)
            return self._closed(window, age)
        if marketing.paid and not self.request.marketing_api:
            return self._deny(
                marketing, "marketing_not_connected", rule_id=f"{marketing.id}.not_connected"
            )
        token = self.request.optin
        if token is None:
            return self._deny(marketing, "marketing_no_token", rule_id=f"{marketing.id}.no_token")
        if token.status != "active":
            return self._deny(
                marketing, "marketing_stopped", rule_id=f"{marketing.id}.token_stopped"
            )
        if self.now >= token.expires_at:
            expired = token.expires_at.date()
            return self._deny(
                marketing,
                "marketing_expired",
                rule_id=f"{marketing.id}.token_expired",
                expired=en_date(expired),
                expired_vi=vi_date(expired),
            )
        last = token.last_sent_at
        gap = marketing.min_gap_hours
        if last is not None and gap is not None and self.now - last < timedelta(hours=gap):
            return self._deny(
                marketing,
                "marketing_cooldown",
                rule_id=f"{marketing.id}.cooldown",
                gap=marketing.min_gap_hours,
            )
        freq, freq_vi, period, period_vi = FREQUENCY_WORDS[token.frequency]
        if last is not None and _period(last, token.frequency, token) >= _period(
            self.now, token.frequency, token
        ):
            upcoming = _next_period(self.now, token.frequency, token)
            return self._deny(
                marketing,
                "marketing_frequency",
                rule_id=f"{marketing.id}.frequency",
                freq=freq,
                freq_vi=freq_vi,
                period=period,
                period_vi=period_vi,
                zone=token.timezone or "UTC",
                next=en_date(upcoming),
                next_vi=vi_date(upcoming),
            )
        return self._allow(
            marketing,
            "marketing_paid" if marketing.paid else "marketing_free",
            messaging_type="UPDATE",
            recipient_kind="notification_messages_token",
            endpoint="marketing_message_api" if marketing.paid else "send_api",
            freq=freq,
            freq_vi=freq_vi,
        )

    def _optin_request(self, window: WindowRule, inside: bool) -> Decision:
        marketing = self._marketing()
        if marketing is None:
            refusal = self._refusal_for(Purpose.OPTIN_REQUEST)
            if refusal is not None:
                return self._deny(refusal, refusal.text)
            return self._closed(window, self._age(self.request.last_interaction_at))
        if not inside:  # §2.4: opt-in requests only inside the window; they do not open it
            return self._deny(
                marketing,
                "optin_request_window_closed",
                rule_id=f"{marketing.id}.optin_request.window_closed",
            )
        last_asked = self._age(self.request.last_optin_request_at)
        if last_asked is not None and last_asked < timedelta(days=marketing.optin_gap_days):
            return self._deny(
                marketing,
                "optin_request_too_soon",
                rule_id=f"{marketing.id}.optin_request.too_soon",
                gap=marketing.optin_gap_days,
            )
        return self._allow(
            marketing,
            "optin_request",
            rule_id=f"{marketing.id}.optin_request",
            messaging_type="UPDATE",
        )

    def _private_reply(self, window: WindowRule) -> Decision:
        rule = self.pack.private_replies
        if rule is None or not rule.in_force(self.day):
            return self._deny(
                rule or window,
                "private_reply_none",
                rule_id=f"{self.pack.channel}.private_reply.none",
            )
        days = rule.days
        if self.request.private_replies_sent >= rule.per_comment:
            return self._deny(rule, "private_reply_already_sent", rule_id=f"{rule.id}.already_sent")
        age = self._age(self.request.comment_created_at)
        if age is None:
            return self._deny(
                rule, "private_reply_no_comment", rule_id=f"{rule.id}.no_comment", days=days
            )
        if age > rule.span:  # §2.2 fake rule: "iff object age <= 7d"
            return self._deny(
                rule, "private_reply_expired", rule_id=f"{rule.id}.expired", days=days
            )
        return self._allow(rule, "private_reply", recipient_kind="comment_id", days=days)
