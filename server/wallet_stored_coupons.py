"""chiiki-wallet's stored coupons: the last copy of each coupon the server listed.

Every command that fetches the wallet's coupons (``coupons``, ``code --coupon`` and
``offline-code --coupon``) stores them in the wallet file, so that ``offline-code --coupon ID``
can still show the coupon while the server cannot be reached. The file's ``coupons`` key maps
each coupon id to the fields of ``terminal.protocol.WalletCoupon`` plus ``seen_at``, the
wallet's UTC time when the server listed it. Each listing replaces the whole map, because the
server returns all of the wallet's coupons. Wallet files written before this key existed have
no stored coupons and load as before.

A stored copy is used only when the server last listed it as usable or not yet valid, and the
wallet's clock is inside its validity. It can still be stale, for example when the coupon was
used from another device. The terminal verifies the coupon's signature either way, and the
server accepts each coupon once, so a second use of a stale copy is declined at sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from server.wallet_cli import WalletError
from terminal.protocol import WalletCoupon

STORED_COUPONS_KEY = "coupons"

# Statuses that the passing of time does not undo, with the wording for a rejection.
_FINAL_STATUS_PROBLEMS = {
    "used": "was already used",
    "expired": "had expired",
    "withdrawn": "was withdrawn because its campaign ended",
}
_OFFLINE_FIX = "show the code without --coupon, or try again when the server can be reached"


@dataclass(frozen=True)
class StoredCoupon:
    """A coupon as the server listed it, and the wallet's UTC time of that listing."""

    coupon: WalletCoupon
    seen_at: datetime


def store_coupons(data: dict[str, Any], coupons: list[WalletCoupon], seen_at: datetime) -> None:
    """Replace the stored coupons in the wallet file's ``data`` with a fresh listing."""
    seen_text = seen_at.isoformat(timespec="seconds")
    data[STORED_COUPONS_KEY] = {
        coupon.coupon_id: {**coupon.model_dump(mode="json"), "seen_at": seen_text}
        for coupon in coupons
    }


def usable_stored_coupon(
    data: dict[str, Any], coupon_id: str, now: datetime, path: Path
) -> StoredCoupon:
    """Return the stored copy of ``coupon_id`` if it is usable at ``now`` by the wallet's clock.

    Otherwise raise WalletError naming the coupon, the problem and what to do next.
    """
    stored = _read_stored(data, coupon_id, path)
    if stored is None:
        raise WalletError(
            f"this wallet has no stored copy of coupon {coupon_id}; run 'chiiki-wallet coupons'"
            " while the server can be reached so the wallet stores its coupons, or show the"
            " code without --coupon"
        )

    coupon = stored.coupon
    seen_text = stored.seen_at.isoformat()
    problem = _FINAL_STATUS_PROBLEMS.get(coupon.status)
    if problem is not None:
        raise WalletError(
            f"coupon {coupon_id} {problem} when the server last listed it at {seen_text};"
            " choose another coupon from chiiki-wallet coupons, or show the code without"
            " --coupon"
        )
    valid_from = _parse_time(coupon.valid_from, coupon_id, path)
    valid_until = _parse_time(coupon.valid_until, coupon_id, path)
    if now >= valid_until:
        raise WalletError(
            f"coupon {coupon_id} expired at {coupon.valid_until} by this device's clock (stored"
            f" copy from {seen_text}); {_OFFLINE_FIX}"
        )
    if now < valid_from:
        raise WalletError(
            f"coupon {coupon_id} is valid only from {coupon.valid_from} by this device's clock;"
            f" {_OFFLINE_FIX}"
        )
    return stored


def _read_stored(data: dict[str, Any], coupon_id: str, path: Path) -> StoredCoupon | None:
    stored_coupons = data.get(STORED_COUPONS_KEY, {})
    if not isinstance(stored_coupons, dict):
        raise _damaged(coupon_id, path, "the stored coupons are not a JSON object")
    entry = stored_coupons.get(coupon_id)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise _damaged(coupon_id, path, "it is not a JSON object")

    fields = dict(entry)
    seen_text = fields.pop("seen_at", None)
    if not isinstance(seen_text, str):
        raise _damaged(coupon_id, path, "its seen_at time is missing")
    try:
        coupon = WalletCoupon.model_validate(fields)
    except ValidationError as exc:
        raise _damaged(coupon_id, path, str(exc).splitlines()[0]) from exc
    if coupon.coupon_id != coupon_id:
        raise _damaged(coupon_id, path, f"it contains coupon {coupon.coupon_id}")
    return StoredCoupon(coupon, _parse_time(seen_text, coupon_id, path))


def _parse_time(text: str, coupon_id: str, path: Path) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _damaged(coupon_id, path, f"{text!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise _damaged(coupon_id, path, f"the time {text!r} has no UTC offset")
    return moment


def _damaged(coupon_id: str, path: Path, reason: str) -> WalletError:
    return WalletError(
        f"the stored copy of coupon {coupon_id} in wallet file {path} is damaged ({reason});"
        " run 'chiiki-wallet coupons' while the server can be reached to store it again"
    )
