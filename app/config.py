"""Application settings, read from the environment (prefix ``LIVRET_``)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
INSECURE_SECRET = "change-me"  # noqa: S105 - the sentinel we refuse outside development


class Settings(BaseSettings):
    """Every knob of the service. Tests build their own instance instead of patching globals."""

    model_config = SettingsConfigDict(env_prefix="LIVRET_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    secret_key: str = ""
    log_level: str = "INFO"
    base_url: str = "http://127.0.0.1:8000"

    # Sessions and login throttling.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15
    api_token_days: int = 30

    # Reviews.
    review_overdue_days: int = 30

    # Email. An empty SMTP host means no SMTP: in development and test, messages are written
    # to the log and to ``<data_dir>/outbox/`` instead; in production they stay queued.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_from: str = "Livret <livret@localhost>"
    smtp_timeout_seconds: int = 20
    # The server delivers queued mail every N seconds (0: never; then run
    # ``livret mail send-pending`` from cron). Default: 60, and 0 in test.
    mail_sender_interval_seconds: int | None = None
    mail_max_attempts: int = 8
    mail_retry_base_seconds: int = 60  # doubled after each failed attempt, capped at 6 hours

    # Reminders: reviews this many days past their deadline copy the supervisor.
    reminder_escalation_days: int = 14

    # Sign-in links by email (every role by default; false: company tutors only) and emailed
    # signing codes.
    signin_links_for_everyone: bool = True
    signin_link_minutes: int = 30
    signin_link_max_per_window: int = 3
    signin_link_window_minutes: int = 15
    sign_code_minutes: int = 10

    # Invitations (choose a first password) and password resets by email. Requests that send a
    # reset or a new invitation are limited per address typed and per client IP.
    invitation_days: int = 7
    password_reset_minutes: int = 30
    password_reset_max_per_window: int = 5
    password_reset_max_per_ip: int = 30
    password_reset_window_minutes: int = 60

    # The school's language: new accounts (form, CSV import, API) get it unless told otherwise.
    default_locale: Literal["fr", "en"] = "fr"

    # Connection pool: sized to the threadpool so requests never starve waiting for a connection.
    db_pool_size: int = 40

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'livret.db'}"
        if self.mail_sender_interval_seconds is None:
            self.mail_sender_interval_seconds = 0 if self.environment == "test" else 60
        if self.environment == "production" and self.secret_key in ("", INSECURE_SECRET):
            raise ValueError("LIVRET_SECRET_KEY must be set to a strong random value in production")
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def secure_cookies(self) -> bool:
        return self.environment == "production"

    @cached_property
    def effective_secret_key(self) -> str:
        """The signing secret; in development/test one is generated once into the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def outbox_dir(self) -> Path:
        """Where development and test write outgoing mail when no SMTP host is set."""
        return self.data_dir / "outbox"
