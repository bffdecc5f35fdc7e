"""Importing a course roster from CSV."""
