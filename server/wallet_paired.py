"""chiiki-wallet's paired codes: a payment code and one coupon shown in a single QR code.

``chiiki-wallet code --coupon ID`` and ``chiiki-wallet offline-code --coupon ID`` print
``<payment code>/<coupon code>`` (``terminal.coupon_pairing`` describes the format), so the
clerk scans once and the terminal applies the coupon before it sends the payment. The coupon
must be one of the wallet's coupons and usable now. Otherwise ``WalletError`` names the coupon's
id and the command that lists the usable ones. When the server cannot be reached,
``offline-code --coupon ID`` takes the coupon from the wallet file instead
(``server.wallet_stored_coupons``).
"""

from __future__ import annotations

from server.wallet_cli import WalletError
from terminal import coupon_pairing
from terminal.protocol import WalletCoupon

# Pixels per QR module. At error correction level M a paired online code is QR version 11 and
# the longest paired offline code version 18 (segno 1.6), so the PNG stays below 400 pixels.
PAIRED_QR_SCALE = 4
QR_BORDER_MODULES = 4

_STATUS_PROBLEMS = {
    "used": "was already used",
    "expired": "has expired",
    "withdrawn": "was withdrawn because its campaign ended",
}


def usable_coupon(coupons: list[WalletCoupon], coupon_id: str) -> WalletCoupon:
    """Return the wallet's coupon ``coupon_id``; raise WalletError unless it is usable now."""
    chosen = next((coupon for coupon in coupons if coupon.coupon_id == coupon_id), None)
    if chosen is None:
        raise WalletError(
            f"coupon {coupon_id} is not among this wallet's coupons; list them with"
            " chiiki-wallet coupons"
        )
    if chosen.status == "usable":
        return chosen

    if chosen.status == "not_yet_valid":
        problem = f"is valid only from {chosen.valid_from}"
    else:
        problem = _STATUS_PROBLEMS.get(chosen.status, f"is {chosen.status}")
    raise WalletError(
        f"coupon {coupon_id} {problem}; choose a usable coupon from chiiki-wallet coupons,"
        " or show the code without --coupon"
    )


def paired_code(payment_code: str, coupon: WalletCoupon) -> str:
    """Join a payment code and the coupon's code; raise WalletError when either is damaged."""
    try:
        return coupon_pairing.join(payment_code, coupon.code)
    except coupon_pairing.PairedCodeError as exc:
        raise WalletError(
            f"the {exc.part} part for coupon {coupon.coupon_id} is not a valid code ({exc});"
            " request a new code, and report it to the operator if it repeats"
        ) from exc


def save_paired_qr(text: str, path: str) -> None:
    """Write ``text`` as a QR PNG in alphanumeric mode, which fits every paired code."""
    import segno

    qr = segno.make(text, mode="alphanumeric", error="m", micro=False)
    qr.save(path, scale=PAIRED_QR_SCALE, border=QR_BORDER_MODULES)


def describe(coupon: WalletCoupon) -> str:
    """Describe the coupon for the line printed to standard error."""
    return f"with coupon {coupon.coupon_id} ({coupon.title}: {coupon.discount})"
