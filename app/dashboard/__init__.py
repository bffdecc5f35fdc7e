"""The staff dashboard of a milestone: one row per group."""
