"""The file-store fixtures for the deployment tests."""

from tests.stores import s3_endpoint, store

__all__ = ["s3_endpoint", "store"]
