"""Channel adapters: platform payloads <-> plain DTOs. No business decisions here."""
