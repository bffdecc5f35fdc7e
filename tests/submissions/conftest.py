"""The file-store fixtures for the submission tests."""

from tests.stores import s3_endpoint, store

__all__ = ["s3_endpoint", "store"]
