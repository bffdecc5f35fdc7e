"""The presentation selection: ranking reports, overrides, publishing deliverables."""
