"""Every outgoing message: idempotency key, status machine, one attempt row per try."""
