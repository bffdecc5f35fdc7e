"""Email notices: the outbox, their rendering, the SMTP sender, reminders and digests."""
