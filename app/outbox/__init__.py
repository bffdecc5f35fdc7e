"""The outbox: notices every domain enqueues in its own transaction, rendered from templates."""
