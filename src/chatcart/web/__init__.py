"""The admin UI (Jinja2 + HTMX, vendored assets) and the public demo page."""
