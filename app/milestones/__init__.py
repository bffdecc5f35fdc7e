"""Milestones, deadlines, extensions and the late policy."""
