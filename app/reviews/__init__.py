"""Rubrics, staff reviews of submissions, reviewer assignment and score aggregation."""
