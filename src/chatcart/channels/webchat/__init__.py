"""Website chat widget: a script any page embeds, talking to the server over a WebSocket."""
