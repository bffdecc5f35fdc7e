"""Versioned submissions of milestone work."""
