"""Conversations and their messages; the engine that runs an inbound event end to end."""
