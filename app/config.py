"""Settings read once from the environment (prefix TRACKER_)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the service; the README lists them."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///./var/tracker.db", description="SQLAlchemy URL of the database")
    storage_dir: Path = Field(default=Path("./var/files"), description="folder of uploaded files")
    max_upload_mb: int = Field(default=20, ge=1, description="largest accepted upload, in MiB")
    token_ttl_minutes: int = Field(default=60 * 12, ge=1, description="lifetime of a bearer token")
    feed_ttl_days: int = Field(default=365, ge=1, description="lifetime of a calendar-feed URL")
    activation_ttl_days: int = Field(default=14, ge=1, description="lifetime of a roster activation code")
    check_time_limit_s: float = Field(default=5.0, gt=0, description="time limit of one format check")
    check_memory_limit_mb: int = Field(default=512, ge=64, description="memory limit of one format check")
    secret_key: str = Field(default="change-me-in-production", description="signs web session CSRF tokens")
    host: str = Field(default="127.0.0.1", description="address `tracker serve` binds")
    port: int = Field(default=8000, description="port `tracker serve` binds")
    public_url: str = Field(default="http://127.0.0.1:8000", description="the address users reach, for links")
    smtp_url: str | None = Field(default=None, description="smtp://user:pass@host:port (STARTTLS) or smtps:// (TLS); "
                                 "unset keeps notices in the outbox")
    mail_from: str = Field(default="Project Tracker <tracker@localhost>", description="From: of every notice")
    notify_loop: bool = Field(default=True, description="`tracker serve` also runs the notice sender")
    notify_interval_s: float = Field(default=30.0, gt=0, description="pause of the sender loop between rounds")

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.max_upload_mb * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
