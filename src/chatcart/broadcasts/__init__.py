"""Broadcasts: spin text, audience frozen into recipients, the plan, paced runs, the ledger."""
