"""Faithful fake platform servers for tests and demo mode (DESIGN.md §3).

`chatcart.sandbox.graph` fakes Meta's Graph API (Messenger + Instagram messaging): it accepts
what the real platform accepts, rejects what it rejects with the real error envelope, and
emits signed webhooks. It is an independent reading of `reference/platforms.md` and never
imports `chatcart.policy`, so it can catch bugs there.
"""
