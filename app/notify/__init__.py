"""Delivering email notices: the SMTP sender, reminders and digests, and the notices API."""
