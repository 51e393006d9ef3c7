"""Orders: checkout with stock reservation, statuses, history."""
