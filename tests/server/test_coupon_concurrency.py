"""A coupon is used at most once when several threads redeem it at the same moment."""

from __future__ import annotations

from settle_helpers import Server
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_coupon_flows import coupon_setup, pay_plain

from server import coupons, payments
from server.coupon_models import CouponPrizeEntry, CouponUseRow
from server.models import Payment, Terminal
from terminal import protocol

THREADS = 8


def test_concurrent_cpm_redeems_coupon_once(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)
    wallet.post("/v1/wallet/topup", {"amount_yen": 9_000, "idempotency_key": "topup-more-01"})
    payment_codes = [wallet.post("/v1/wallet/payment-codes").json()["code"]
                     for _ in range(THREADS)]
    terminal_row = server.terminal_row(terminal.terminal_id)

    def redeem(session: Session, index: int) -> object:
        request = protocol.CpmRedeem(
            code=payment_codes[index], amount_yen=900, idempotency_key=f"race-{index:04d}",
            coupon=protocol.CouponUse(code=code, total_yen=1_000, discount_yen=100),
        )
        return payments.redeem_code(session, _attached(session, terminal_row), request,
                                    server.settings)

    outcomes = server.write_concurrently(THREADS, redeem)

    assert outcomes.count("ok") == 1
    assert outcomes.count("coupon_used") == THREADS - 1
    assert wallet.balance_yen() == 10_000 - 900
    assert server.merchant_balance_yen(terminal.merchant_id) == 1_000
    assert _count(server, CouponUseRow) == 1
    assert _count(server, CouponPrizeEntry) == 1


def test_concurrent_claims_on_booked_payments_once(server: Server) -> None:
    # Payments booked beforehand, so the threads meet only at the use row's unique key and
    # not at the wallet's account lock.
    terminal, wallet, code = coupon_setup(server)
    wallet.post("/v1/wallet/topup", {"amount_yen": 9_000, "idempotency_key": "topup-more-02"})
    payment_ids = [pay_plain(terminal, wallet, 900).json()["payment_id"]
                   for _ in range(THREADS)]
    use = protocol.CouponUse(code=code, total_yen=1_000, discount_yen=100)

    def apply(session: Session, index: int) -> None:
        payment = session.scalars(
            select(Payment).where(Payment.id == payment_ids[index])
        ).one()
        coupons.apply_to_payment(session, payment, use, now=server.clock())

    outcomes = server.write_concurrently(THREADS, apply)

    assert outcomes.count("ok") == 1
    assert outcomes.count("coupon_used") == THREADS - 1
    assert _count(server, CouponUseRow) == 1
    assert server.merchant_balance_yen(terminal.merchant_id) == THREADS * 900 + 100
    assert server.merchant_balance_yen("coupons:aki") == 10_000 - 100


def _attached(session: Session, terminal: Terminal) -> Terminal:
    row = session.get(Terminal, terminal.id)
    assert row is not None
    return row


def _count(server: Server, model: object) -> int:
    with server.state.db.read() as session:
        count = session.scalar(select(func.count()).select_from(model))  # type: ignore[arg-type]
    return int(count or 0)
