"""Settings read once from the environment (prefix TRACKER_)."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the service; the README lists them."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///./var/tracker.db", description="SQLAlchemy URL of the database")
    storage_dir: Path = Field(default=Path("./var/files"), description="folder of uploaded files, when no URL is set")
    storage_url: str | None = Field(default=None, description="file:///path or s3://bucket/prefix (else storage_dir)")
    staging_dir: Path | None = Field(
        default=None,
        description="local folder for uploads being received when files live in S3 (default: the system temp folder)",
    )
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible server (MinIO, Ceph RGW, ...)")
    s3_addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto", description="bucket in the path or the host name; auto: path when an endpoint is set"
    )
    s3_url_ttl_s: int = Field(default=300, ge=1, le=7 * 24 * 3600, description="lifetime of a download URL")
    s3_multipart_threshold_mb: int = Field(default=8, ge=5, description="files from this size upload in parts")
    max_upload_mb: int = Field(default=20, ge=1, description="largest accepted upload, in MiB")
    token_ttl_minutes: int = Field(default=60 * 12, ge=1, description="lifetime of a bearer token")
    feed_ttl_days: int = Field(default=365, ge=1, description="lifetime of a calendar-feed URL")
    activation_ttl_days: int = Field(default=14, ge=1, description="lifetime of a roster activation code")
    check_time_limit_s: float = Field(default=5.0, gt=0, description="CPU-time limit of one format check")
    check_workers: int = Field(
        default_factory=lambda: max(2, os.cpu_count() or 1),
        ge=1,
        description="format checks that run at once (worker processes)",
    )
    check_per_user: int = Field(default=2, ge=1, description="checks one user may have queued or running")
    cache_dir: Path = Field(default=Path("./var/cache"), description="folder of derived files (page pictures)")
    check_memory_limit_mb: int = Field(default=512, ge=64, description="memory limit of one format check")
    dashboard_cache_s: float = Field(default=2.0, ge=0, description="how long a computed dashboard is shared")
    secret_key: str = Field(default="change-me-in-production", description="signs web session CSRF tokens")
    login_max_failures: int = Field(default=5, ge=1, description="failed logins per account before a lockout")
    login_max_failures_per_address: int = Field(
        default=20, ge=1, description="failed logins per client address before a lockout"
    )
    login_lockout_s: int = Field(default=30, ge=1, description="first lockout; each further failure doubles it")
    login_lockout_max_s: int = Field(default=3600, ge=1, description="longest lockout")
    login_failure_window_s: int = Field(
        default=3600, ge=1, description="failures older than this (and no lockout) are forgotten"
    )
    max_json_kb: int = Field(default=256, ge=1, description="largest non-upload request body, in KiB")
    max_anonymous_body_kb: int = Field(
        default=16, ge=1, description="largest body read from a request without a valid token, in KiB"
    )
    upload_stall_timeout_s: float = Field(
        default=30.0, gt=0, description="an upload that sends nothing for this long is cut off"
    )
    cookie_secure: bool = Field(default=True, description="mark session cookies Secure (HTTPS only)")
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed",
    )
    host: str = Field(default="127.0.0.1", description="address `tracker serve` binds")
    port: int = Field(default=8000, description="port `tracker serve` binds")
    workers: int = Field(default=1, ge=1, description="worker processes of `tracker serve` (PostgreSQL only)")
    db_pool_size: int = Field(default=5, ge=1, description="PostgreSQL connections kept open per process")
    db_max_overflow: int = Field(default=10, ge=0, description="extra PostgreSQL connections allowed per process")
    public_url: str = Field(default="http://127.0.0.1:8000", description="the address users reach, for links")
    smtp_url: str | None = Field(
        default=None,
        description="smtp://user:pass@host:port (STARTTLS) or smtps:// (TLS); unset keeps notices in the outbox",
    )
    mail_from: str = Field(default="Project Tracker <tracker@localhost>", description="From: of every notice")
    notify_loop: bool = Field(default=True, description="`tracker serve` also runs the notice sender")
    notify_interval_s: float = Field(default=30.0, gt=0, description="pause of the sender loop between rounds")

    @property
    def storage_location(self) -> str:
        """Where files live: the storage URL, else the storage folder."""
        return self.storage_url or str(self.storage_dir)

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def trusted_proxy_set(self) -> frozenset[str]:
        """The trusted proxy addresses as a set."""
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
