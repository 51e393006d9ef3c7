"""The loops that claim and run durable work. No business rules live here."""
