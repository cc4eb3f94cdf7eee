"""Service settings, read once from ``LIVESCREEN_*`` environment variables.

Every value has an embedded default so that ``livescreen run`` works on a fresh
machine with nothing configured (SQLite, tasks in-process).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.alerts.smtp_url import parse_smtp_url

BUNDLED_PROTOCOLS_DIR = Path(__file__).resolve().parent.parent / "protocols"
FLAGSHIP_PROTOCOL = BUNDLED_PROTOCOLS_DIR / "psilocybin-microdosing.toml"
NCBI_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
CLINICALTRIALS_URL = "https://clinicaltrials.gov/api/v2/"


DB_FILE = "livescreen.db"


def default_data_dir() -> Path:
    """The user's data folder for livescreen (``~/.local/share/livescreen`` on Linux,
    honouring ``XDG_DATA_HOME``; the platform's own elsewhere), by platformdirs."""
    return Path(platformdirs.user_data_dir("livescreen", appauthor=False))


class Settings(BaseSettings):
    """All knobs of the service; tests build their own instance instead of patching."""

    # hide_input_in_errors: a rejected value may hold a password (LIVESCREEN_SMTP_URL,
    # LIVESCREEN_DATABASE_URL), and pydantic would otherwise echo it in the error.
    model_config = SettingsConfigDict(
        env_prefix="LIVESCREEN_", extra="ignore", hide_input_in_errors=True
    )

    # Where the embedded default keeps its SQLite file: one place per user, so every command
    # finds the same database from whatever folder it runs in.
    data_dir: Path = Field(default_factory=default_data_dir)
    # Empty: SQLite at data_dir/livescreen.db (see database_location()).
    database_url: str = ""
    broker_url: str = ""
    # The Celery queue the chains run on: deployments (or test runs) sharing one Redis keep
    # apart by naming their own; workers consume it and beat sends to it.
    # Redis hands an unacknowledged task (its worker died) to another worker after this long;
    # tasks are acknowledged late, so it must exceed the longest task, or a long sweep would
    # run twice. Four hours leaves a wide margin over a full sweep of a large review.
    celery_visibility_timeout: float = Field(default=4 * 3600, gt=0)
    # A sweep's per-review lock lapses this long after its holder stopped renewing it.
    sweep_lock_seconds: float = Field(default=60.0, gt=0)
    celery_queue: str = Field(default="celery", min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    eutils_url: str = NCBI_EUTILS_URL
    ncbi_api_key: str = ""
    ncbi_email: str = ""
    ncbi_tool: str = "livescreen"
    # ClinicalTrials.gov v2 API (registry sweeps); tests point it at a local server.
    clinicaltrials_url: str = CLINICALTRIALS_URL
    # The registry allows about 50 requests a minute from one address; paced below that.
    clinicaltrials_requests_per_minute: float = Field(default=45.0, gt=0)
    esearch_limit: int = Field(default=9999, ge=1)
    efetch_batch_size: int = Field(default=1000, ge=1, le=10000)  # README: Benchmarks
    http_timeout: float = Field(default=60.0, gt=0)
    http_retries: int = Field(default=6, ge=0)
    http_backoff: float = Field(default=1.0, ge=0)
    gap_attempts: int = Field(default=3, ge=1)  # sweeps that ask for a missing PMID, then give up
    protocols: Annotated[list[Path], NoDecode] = Field(default_factory=lambda: [FLAGSHIP_PROTOCOL])
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    lease_minutes: int = Field(default=10, ge=1)
    public_url: str = ""
    secure_cookies: bool | None = None
    session_hours: float = Field(default=14 * 24, gt=0)
    session_idle_minutes: float = Field(default=12 * 60, gt=0)
    # Alerts. Webhooks to loopback/private/link-local addresses are refused unless allowed
    # (local receivers in development and tests). SMTP: smtp://user:pass@host:587?starttls=1
    # or smtps://user:pass@host:465; empty turns e-mail digests off.
    alerts_allow_private: bool = False
    alerts_timeout: float = Field(default=10.0, gt=0)
    # A delivery being sent is leased this long; a sender that dies leaves it to lapse, and
    # it is sent again (with the same X-Livescreen-Delivery key, for receivers to drop).
    delivery_lease_seconds: float = Field(default=300.0, gt=0)
    smtp_url: SecretStr = SecretStr("")
    smtp_from: str = "livescreen@localhost"
    # Screening limits, so that no record can stall the pipeline: a record whose title and
    # abstract exceed this many characters is screened on the first ones (and marked so);
    # one whose screening takes longer than this is recorded uncertain with the reason.
    screen_max_chars: int = Field(default=100_000, ge=1_000)
    screen_seconds_per_record: float = Field(default=5.0, gt=0)
    # A sweep screens its records in a child process (a second core) when this is "auto"
    # (two or more cores) or "on"; "off" screens in the sweep's own process.
    screen_process: Literal["auto", "on", "off"] = "auto"

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url.strip():
            self.database_url = f"sqlite:///{self.data_dir.expanduser().resolve() / DB_FILE}"
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        """A lease shorter than a send would let a second worker send a live delivery."""
        if self.delivery_lease_seconds <= 2 * self.alerts_timeout:
            raise ValueError(
                f"LIVESCREEN_DELIVERY_LEASE_SECONDS ({self.delivery_lease_seconds:g}) must be "
                f"more than twice LIVESCREEN_ALERTS_TIMEOUT ({self.alerts_timeout:g})"
            )
        return self

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr) -> SecretStr:
        """Fail at start-up, naming the setting, rather than at the first digest."""
        if value.get_secret_value():
            parse_smtp_url(value.get_secret_value())
        return value

    @field_validator("protocols", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        """Accept a comma- or os.pathsep-separated list in one environment variable."""
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return [Path(p) for p in parts if p]
        return value

    @property
    def requests_per_second(self) -> float:
        """NCBI's published limits: 3/s anonymously, 10/s with an API key."""
        return 10.0 if self.ncbi_api_key else 3.0

    def database_location(self) -> str:
        """Where the data lives, for people: the SQLite file's path, else the URL without
        its password."""
        from services.db.engine import redact

        url = self.database_url
        if url.startswith("sqlite:///"):
            return str(Path(url.removeprefix("sqlite:///")).resolve())
        return redact(url)

    def prepare_data_dir(self) -> None:
        """Create the data folder when the SQLite file is to live there (a fresh machine)."""
        folder = self.data_dir.expanduser().resolve()
        if self.database_url == f"sqlite:///{folder / DB_FILE}":
            folder.mkdir(parents=True, exist_ok=True)

    def stray_database_note(self, folder: Path | None = None) -> str | None:
        """A warning when ``folder`` (the working one) holds a livescreen.db that is not
        the database in use: before the data folder, that was the default location."""
        here = (folder or Path.cwd()) / DB_FILE
        if not here.is_file() or str(here.resolve()) == self.database_location():
            return None
        return (
            f"note: {here.resolve()} is not the database in use ({self.database_location()}); "
            f"set LIVESCREEN_DATABASE_URL=sqlite:///{here.resolve()} to use it"
        )

    @property
    def uses_broker(self) -> bool:
        return bool(self.broker_url)

    @property
    def cookies_secure(self) -> bool:
        """Session cookies only over HTTPS: as set, else whenever the public URL is https."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_url.lower().startswith("https://")


@lru_cache
def get_settings() -> Settings:
    return Settings()
