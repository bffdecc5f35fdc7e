"""Courses and their settings."""
