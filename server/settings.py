"""Server settings, read from ``CHIIKI_*`` environment variables or built directly in code."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from server.business_days import parse_cutoff
from terminal.protocol import MAX_BODY_BYTES

DEFAULT_DATABASE_URL = "sqlite:///chiiki-settle.db"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC with second precision."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Settings:
    """Everything ``create_app`` needs to run.

    ``clock`` returns the current time as an aware UTC datetime; tests replace it to move
    time forward without sleeping.
    """

    database_url: str = DEFAULT_DATABASE_URL
    demo: bool = False
    max_amount_yen: int = 1_000_000
    intent_ttl_s: int = 180
    payment_code_ttl_s: int = 300
    activation_ttl_s: int = 14 * 24 * 3600
    signature_window_s: int = 300
    # Larger request bodies get 413 payload_too_large before the application reads them.
    max_body_bytes: int = MAX_BODY_BYTES
    # How often a long-poll re-reads the database, so that a payment booked by another
    # server process wakes the poll within this interval.
    poll_recheck_s: float = 0.2
    # How long an offline certificate is valid, the most a wallet may reserve for offline
    # payments, and the oldest offline code a terminal accepts (its [offline] max_age_hours
    # default). A wallet gets its next certificate, and its unused reserve back, once the
    # previous certificate is older than valid_until + offline_max_age_s.
    offline_certificate_validity_s: int = 7 * 24 * 3600
    offline_max_allowance_yen: int = 30_000
    offline_max_age_s: int = 24 * 3600
    # Cash-outs requested before this Japan time on a bank business day are paid out that day.
    # The banks' same-day window (Zengin core time) closes at 15:30; 14:00 leaves the operator
    # time to write and send the transfer file.
    payout_cutoff: time = time(14, 0)
    clock: Callable[[], datetime] = field(default=utc_now, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``CHIIKI_DATABASE_URL``, ``CHIIKI_DEMO`` and the other variables."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("CHIIKI_DATABASE_URL", DEFAULT_DATABASE_URL),
            demo=_read_flag(env, "CHIIKI_DEMO"),
            max_amount_yen=_read_int(env, "CHIIKI_MAX_AMOUNT_YEN", 1_000_000),
            intent_ttl_s=_read_int(env, "CHIIKI_INTENT_TTL_S", 180),
            payment_code_ttl_s=_read_int(env, "CHIIKI_PAYMENT_CODE_TTL_S", 300),
            activation_ttl_s=_read_int(env, "CHIIKI_ACTIVATION_TTL_S", 14 * 24 * 3600),
            signature_window_s=_read_int(env, "CHIIKI_SIGNATURE_WINDOW_S", 300),
            offline_certificate_validity_s=_read_int(
                env, "CHIIKI_OFFLINE_CERTIFICATE_VALIDITY_S", 7 * 24 * 3600),
            offline_max_allowance_yen=_read_int(env, "CHIIKI_OFFLINE_MAX_ALLOWANCE_YEN", 30_000),
            offline_max_age_s=_read_int(env, "CHIIKI_OFFLINE_MAX_AGE_S", 24 * 3600),
            payout_cutoff=_read_cutoff(env, "CHIIKI_PAYOUT_CUTOFF", "14:00"),
        )


def _read_flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "0").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={value!r} is invalid; set it to 1 or 0")


def _read_cutoff(env: Mapping[str, str], name: str, default: str) -> time:
    value = env.get(name, default)
    try:
        return parse_cutoff(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is invalid; set it to HH:MM in Japan time,"
                         f" e.g. {default}") from None


def _read_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is invalid; set it to a whole number") from None
    if number <= 0:
        raise ValueError(f"{name}={number} is invalid; set it to a number above 0")
    return number
