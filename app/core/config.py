"""Settings from the environment (prefix YINGZHI_), validated at start."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_SECRET_KEY = "demo-secret-key-not-for-production-use-0000"  # noqa: S105 - refused outside demo mode


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YINGZHI_", env_file=".env", extra="ignore")

    environment: str = Field("development", description="development | production | test")
    demo_mode: bool = False
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'yingzhi.db'}"
    redis_url: str | None = None
    secret_key: str = DEMO_SECRET_KEY

    access_token_minutes: int = 15
    refresh_token_days: int = 14
    # A refresh whose answer was lost on a weak network may be retried with the same token this
    # long after, as long as its replacement was never used; any other reuse ends the login.
    refresh_reuse_grace_seconds: int = 30

    # Saves arriving up to this long after the deadline are still accepted: phones on weak
    # networks send an answer just before time runs out and it arrives a little later.
    save_grace_seconds: int = 20
    sweep_interval_seconds: float = 5.0
    sweep_enabled: bool = True

    # Login throttling: failures per (account, address) and per address within the window.
    login_window_seconds: int = 900
    login_max_failures_per_account_address: int = 5
    # Whole police stations share one NAT address, so this one is generous.
    login_max_failures_per_address: int = 100

    frontend_dist: Path = PROJECT_ROOT / "frontend" / "dist"
    question_bank_dir: Path = PROJECT_ROOT / "question_bank"
    # A fixed pool: overflow connections are opened and closed again under load, which costs more
    # than waiting for a pooled one. Mind PostgreSQL's max_connections: processes x pool size.
    db_pool_size: int = 24
    db_max_overflow: int = 0
    db_hot_pool_size: int = 16  # PostgreSQL: the answer save's own asyncpg pool
    db_pool_timeout_seconds: float = 20.0

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> "Settings":
        if self.environment == "production" and (self.secret_key == DEMO_SECRET_KEY or self.demo_mode):
            raise ValueError(
                "YINGZHI_SECRET_KEY must be set to a private random value in production "
                "(and YINGZHI_DEMO_MODE must be off)"
            )
        if len(self.secret_key) < 32:
            raise ValueError("YINGZHI_SECRET_KEY must be at least 32 characters")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
