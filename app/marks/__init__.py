"""Milestone, project and course marks; release to students; marks.csv; assignment marks."""
