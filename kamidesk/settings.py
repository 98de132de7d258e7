"""One settings object, read from the environment and `.env`.

Secrets are `SecretStr`. A placeholder secret refuses to start outside demo mode
(see `Settings.check_production_ready`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER = "change-me"
# What Telegram accepts as a webhook secret token (sent back in a header).
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SupplierEndpoint(BaseModel):
    """How to reach one upstream supplier (from the SUPPLIERS JSON list)."""

    code: str
    base_url: str
    merchant_id: str
    secret: SecretStr
    sign_type: str = "MD5"
    supports_key_check: bool = True


class Settings(BaseSettings):
    """Runtime configuration for every kamidesk process."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    demo_mode: bool = False
    database_url: str = "sqlite:///var/kamidesk.db"
    redis_url: str | None = None  # None -> in-process job runner (embedded default)

    # Fernet key (urlsafe base64, 32 bytes) for card keys at rest.
    key_encryption_key: SecretStr = SecretStr(PLACEHOLDER)
    shop_api_token: SecretStr = SecretStr(PLACEHOLDER)
    staff_api_token: SecretStr = SecretStr(PLACEHOLDER)

    # Where suppliers and the payment provider send callbacks (this service, seen from them).
    public_base_url: str = "http://127.0.0.1:8000"
    suppliers: list[SupplierEndpoint] = Field(default_factory=list)

    # Payment provider (the project's sandbox in demo/tests).
    payment_base_url: str = "http://127.0.0.1:8002"
    payment_merchant_id: str = "kamidesk-demo"
    payment_secret: SecretStr = SecretStr(PLACEHOLDER)

    # Fulfilment policy.
    reissue_max_per_order: int = 2
    reissue_max_per_customer: int = 5
    reissue_customer_window_days: int = 30
    reissue_without_check: bool = False  # reissue when the supplier cannot check the key
    refund_auto_approve_limit: Decimal = Decimal("100.00")
    supplier_timeout_seconds: float = 5.0
    supplier_poll_seconds: float = 5.0
    supplier_max_transient_retries: int = 8
    sweep_interval_seconds: float = 2.0

    # Ownership checks: failed attempts allowed per window before locking out.
    ownership_max_failures: int = 5
    ownership_window_minutes: int = 15
    # Per order number: failed proofs (any claimant) in the window before typed proofs on that
    # order are slowed to one per throttle period (the buyer's own Telegram identity still works).
    ownership_order_max_failures: int = Field(default=10, ge=1)
    ownership_order_throttle_seconds: int = Field(default=60, ge=1)
    # A key redeemed within this many seconds of its delivery is ambiguous: a person decides.
    key_redemption_ambiguity_seconds: int = Field(default=60, ge=0)
    # Signed callbacks (payment, suppliers) older or newer than this are refused as replays.
    callback_max_age_seconds: int = Field(default=300, ge=1)

    # Chatbot limits (the `limits` library's notation: "N/period"), on top of the ownership
    # lock-out above: a web client can open new conversations at will.
    chat_conversations_per_ip: str = "30/10 minutes"
    chat_messages_per_conversation: str = "40/minute"
    chat_failed_proofs_per_conversation: str = "5/15 minutes"
    chat_failed_proofs_per_user: str = "5/15 minutes"
    chat_failed_proofs_per_ip: str = "10/hour"

    # NLU (the container builds the parser from these; see `bootstrap.nlu_config`)
    rasa_url: str | None = None
    rasa_token: SecretStr | None = None
    nlu_rasa_fallback: bool = True  # Rasa down: answer with the embedded parser
    nlu_fallback_threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    # "Did you mean A or B?" when the two best intents are at most this far apart
    nlu_disambiguation_margin: float = Field(default=0.15, ge=0.0, le=1.0)
    nlu_cache_dir: Path | None = None  # where the embedded model is cached (default: XDG cache)
    nlu_order_id_patterns: list[str] = Field(
        default_factory=lambda: [
            r"\b\d{16,24}\b",
            r"\bKM\d{13}\b",
            r"\bDJ[0-9A-Z]{14,18}\b",
        ]
    )

    # HTTP limits: bodies over these answer 413 before being read whole.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_key_file_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)  # the key-file upload

    # Operations (README "Operations"): logs, metrics.
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # /metrics on the API port answers only with this bearer token (unset or empty: 404 there).
    metrics_token: SecretStr | None = None
    # A separate plain-HTTP metrics listener (app and worker), for a network only Prometheus sees.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    # Telegram (python-telegram-bot). A token turns the channel on: long polling, or a webhook
    # at POST /telegram/webhook when TELEGRAM_WEBHOOK_URL (its public address) is set.
    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org"  # or a self-hosted Bot API server
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        if not self.telegram_webhook_url:
            return self
        secret = (
            self.telegram_webhook_secret.get_secret_value() if self.telegram_webhook_secret else ""
        )
        if not WEBHOOK_SECRET.fullmatch(secret):
            raise ValueError(
                "TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET: 1-256 characters of "
                "A-Z, a-z, 0-9, _ and -"
            )
        return self

    def check_production_ready(self) -> None:
        """Refuse placeholder secrets unless running in demo mode."""
        if self.demo_mode:
            return
        if self.metrics_token is not None and self.metrics_token.get_secret_value() == PLACEHOLDER:
            raise RuntimeError("METRICS_TOKEN is a placeholder; set it or leave it empty")
        for name in ("key_encryption_key", "shop_api_token", "staff_api_token", "payment_secret"):
            value: SecretStr = getattr(self, name)
            if value.get_secret_value() in ("", PLACEHOLDER) or (
                name == "key_encryption_key" and len(value.get_secret_value()) != 44
            ):
                raise RuntimeError(
                    f"{name.upper()} is a placeholder; set it (or DEMO_MODE=1 for the demo)"
                )


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
