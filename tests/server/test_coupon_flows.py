"""Coupon redemption inside payments: CPM, MPM, quotes, failed checks, merchant funding."""

from __future__ import annotations

import base64
import uuid
import zlib
from dataclasses import replace
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from settle_helpers import Server, TerminalClient, WalletClient
from sqlalchemy import func, select

from server import coupon_cli, ledger
from server.demo import DEMO_MERCHANT
from server.errors import ServerError
from server.coupon_models import Coupon, CouponCampaign, CouponUseRow
from server.models import Payment, Wallet
from terminal import coupon_code


def make_campaign(server: Server, shops: list[str], **values: Any) -> None:
    """Create a campaign open now, funded by the operator unless issuer_merchant is given."""
    spec_values: dict[str, Any] = {
        "id": "aki", "title": "秋の100円引き", "discount_yen": 100, "starts": "2026-03-01",
        "ends": "2026-05-01", "budget_yen": 10_000, "shops": shops,
    }
    spec_values.update(values)
    if "discount_percent" in values:
        del spec_values["discount_yen"]
    if "issuer_merchant" not in spec_values:
        spec_values["issuer_name"] = "若松商店街"
    spec = coupon_cli.parse_spec(spec_values, "test")
    with server.state.db.write() as session:
        coupon_cli.create_campaign(session, spec, now=server.clock())


def issue(server: Server, campaign_id: str = "aki") -> coupon_cli.IssueReport:
    with server.state.db.write() as session:
        return coupon_cli.issue_to_audience(session, campaign_id, server.settings)


def wallet_coupons(wallet: WalletClient) -> list[dict[str, Any]]:
    response = wallet.get("/v1/wallet/coupons")
    assert response.status_code == 200, response.text
    coupons: list[dict[str, Any]] = response.json()["coupons"]
    return coupons


def usable_code(wallet: WalletClient, campaign_id: str = "aki") -> str:
    codes = [coupon["code"] for coupon in wallet_coupons(wallet)
             if coupon["status"] == "usable" and coupon["campaign_id"] == campaign_id]
    assert len(codes) == 1, codes
    return str(codes[0])


def pay_cpm(terminal: TerminalClient, wallet: WalletClient, code: str, total_yen: int,
            discount_yen: int, tax_lines: list[dict[str, int]] | None = None) -> httpx.Response:
    payment_code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    return terminal.post("/v1/payments/cpm", {
        "code": payment_code, "amount_yen": total_yen - discount_yen,
        "idempotency_key": f"sale-{uuid.uuid4().hex}",
        "coupon": {"code": code, "total_yen": total_yen, "discount_yen": discount_yen},
        "tax_lines": tax_lines or [],
    })


def coupon_setup(server: Server, **values: Any) -> tuple[TerminalClient, WalletClient, str]:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1_000)
    make_campaign(server, [terminal.merchant_id], **values)
    issue(server)
    return terminal, wallet, usable_code(wallet)


def count_rows(server: Server, model: Any) -> int:
    with server.state.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


# --- CPM -----------------------------------------------------------------------------------


def test_cpm_coupon_pays_discount_to_shop(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)

    response = pay_cpm(terminal, wallet, code, 1_000, 100)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["amount_yen"] == 900
    assert body["coupon"]["discount_yen"] == 100
    assert body["coupon"]["total_yen"] == 1_000
    assert body["coupon"]["issuer_name"] == "若松商店街"
    assert body["coupon"]["title"] == "秋の100円引き"
    assert wallet.balance_yen() == 100
    assert server.merchant_balance_yen(terminal.merchant_id) == 1_000
    with server.state.db.read() as session:
        coupon_id = coupon_code.parse_coupon_code(code).coupon_id
        kinds = ledger.transfer_kinds(session, f"coupon:{coupon_id}")
    assert sum(kinds.values()) == 100


def test_cpm_coupon_tax_lines_sum_to_sale_total(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)
    lines = [{"rate_percent": 10, "amount_yen": 600}, {"rate_percent": 8, "amount_yen": 400}]

    response = pay_cpm(terminal, wallet, code, 1_000, 100, tax_lines=lines)

    assert response.status_code == 200, response.text
    assert response.json()["tax_lines"] == lines


def test_cpm_coupon_tax_lines_of_paid_amount_rejected(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)
    lines = [{"rate_percent": 10, "amount_yen": 900}]

    response = pay_cpm(terminal, wallet, code, 1_000, 100, tax_lines=lines)

    assert response.status_code == 422
    assert "coupon.total_yen is 1000" in response.json()["error"]["message"]
    assert count_rows(server, Payment) == 0


def test_cpm_coupon_second_use_rejected(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)
    assert pay_cpm(terminal, wallet, code, 500, 100).status_code == 200

    response = pay_cpm(terminal, wallet, code, 500, 100)

    assert response.status_code == 409
    assert error_code(response) == "coupon_used"
    assert wallet.balance_yen() == 600
    assert count_rows(server, Payment) == 1


def test_cpm_coupon_of_other_wallet_rejected(server: Server) -> None:
    terminal, _owner, code = coupon_setup(server)
    other = server.new_wallet(1_000)

    response = pay_cpm(terminal, other, code, 1_000, 100)

    assert response.status_code == 409
    assert error_code(response) == "coupon_wrong_wallet"
    assert other.balance_yen() == 1_000
    assert count_rows(server, Payment) == 0
    assert count_rows(server, CouponUseRow) == 0


def test_cpm_coupon_at_other_shop_rejected(server: Server) -> None:
    _terminal, wallet, code = coupon_setup(server)
    elsewhere = server.new_terminal()

    response = pay_cpm(elsewhere, wallet, code, 1_000, 100)

    assert response.status_code == 409
    assert error_code(response) == "coupon_wrong_shop"
    assert wallet.balance_yen() == 1_000


def test_cpm_coupon_below_minimum_rejected(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server, minimum_spend_yen=1_000)

    response = pay_cpm(terminal, wallet, code, 999, 100)

    assert response.status_code == 409
    assert error_code(response) == "coupon_below_minimum"
    assert "at least 1000 yen" in response.json()["error"]["message"]
    assert wallet.balance_yen() == 1_000


def test_cpm_coupon_discount_mismatch_rejected(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)

    response = pay_cpm(terminal, wallet, code, 1_000, 150)

    assert response.status_code == 422
    assert error_code(response) == "coupon_discount_mismatch"
    assert wallet.balance_yen() == 1_000
    assert count_rows(server, Payment) == 0


def test_cpm_coupon_forged_code_rejected(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)
    parsed = coupon_code.parse_coupon_code(code)
    # The same coupon with a larger discount, signed by a key that is not the issuer's but
    # carrying the issuer's key id, so only the signature check can catch it.
    forged_terms = replace(parsed, discount_value=900)
    signed = coupon_code.encode_terms(forged_terms)
    signature = Ed25519PrivateKey.generate().sign(coupon_code.COUPON_DOMAIN + signed)
    body = signed + signature
    text = coupon_code.CODE_PREFIX + base64.b32encode(
        body + zlib.crc32(body).to_bytes(4, "big")
    ).decode().rstrip("=")

    response = pay_cpm(terminal, wallet, text, 1_000, 900)

    assert response.status_code == 422
    assert error_code(response) == "coupon_bad_signature"
    assert wallet.balance_yen() == 1_000


def test_cpm_coupon_damaged_scan_rejected(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)

    response = pay_cpm(terminal, wallet, code[:-2], 1_000, 100)

    assert response.status_code == 422
    assert error_code(response) == "coupon_malformed"
    message = response.json()["error"]["message"]
    assert f"coupon code CKC1...{code[-6:-2]} ({len(code) - 2} chars)" in message


def test_cpm_coupon_expired_rejected(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server, valid_days=3)
    server.clock.advance(3 * 86_400)

    response = pay_cpm(terminal, wallet, code, 1_000, 100)

    assert response.status_code == 410
    assert error_code(response) == "coupon_expired"
    assert wallet_coupons(wallet)[0]["status"] == "expired"


# --- quotes, MPM and wallets ---------------------------------------------------------------


def test_quote_returns_discount_and_pay(server: Server) -> None:
    terminal, _wallet, code = coupon_setup(server, discount_percent=15, max_discount_yen=500)

    response = terminal.post("/v1/coupons/quote", {"code": code, "total_yen": 1_999})

    assert response.status_code == 200, response.text
    quote = response.json()
    assert quote["discount_yen"] == 299
    assert quote["pay_yen"] == 1_700
    assert quote["issuer_name"] == "若松商店街"
    assert terminal.post("/v1/coupons/quote", {"code": code, "total_yen": 9_000}
                         ).json()["discount_yen"] == 500


def test_quote_of_used_coupon_names_reason(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)
    assert pay_cpm(terminal, wallet, code, 1_000, 100).status_code == 200

    response = terminal.post("/v1/coupons/quote", {"code": code, "total_yen": 1_000})

    assert response.status_code == 409
    assert error_code(response) == "coupon_used"


def test_mpm_intent_coupon_applied_on_pay(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)
    intent = terminal.post("/v1/intents", {
        "amount_yen": 700, "idempotency_key": "sale-mpm-0001",
        "coupon": {"code": code, "total_yen": 800, "discount_yen": 100},
    })
    assert intent.status_code == 200, intent.text

    paid = wallet.post(f"/v1/intents/{intent.json()['intent_id']}/pay",
                       {"amount_yen": 700, "idempotency_key": "wallet-pay-0001"})

    assert paid.status_code == 200, paid.text
    assert paid.json()["coupon"]["discount_yen"] == 100
    assert wallet.balance_yen() == 300
    assert server.merchant_balance_yen(terminal.merchant_id) == 800


def test_mpm_intent_coupon_checked_at_creation(server: Server) -> None:
    terminal, _wallet, code = coupon_setup(server)

    response = terminal.post("/v1/intents", {
        "amount_yen": 750, "idempotency_key": "sale-mpm-0002",
        "coupon": {"code": code, "total_yen": 800, "discount_yen": 100},
    })

    assert response.status_code == 422
    assert error_code(response) == "coupon_discount_mismatch"


def test_mpm_coupon_of_other_wallet_fails_payment(server: Server) -> None:
    terminal, _owner, code = coupon_setup(server)
    other = server.new_wallet(1_000)
    intent = terminal.post("/v1/intents", {
        "amount_yen": 900, "idempotency_key": "sale-mpm-0003",
        "coupon": {"code": code, "total_yen": 1_000, "discount_yen": 100},
    }).json()

    paid = other.post(f"/v1/intents/{intent['intent_id']}/pay",
                      {"amount_yen": 900, "idempotency_key": "wallet-pay-0003"})

    assert paid.status_code == 409
    assert error_code(paid) == "coupon_wrong_wallet"
    assert other.balance_yen() == 1_000
    assert terminal.get(f"/v1/intents/{intent['intent_id']}").json()["status"] == "pending"


def test_wallet_lists_coupon_with_code(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server, minimum_spend_yen=300)

    listed = wallet_coupons(wallet)

    assert len(listed) == 1
    assert listed[0]["code"] == code
    assert listed[0]["status"] == "usable"
    assert listed[0]["discount"] == "100 yen"
    assert listed[0]["minimum_spend_yen"] == 300
    assert listed[0]["shops"] == [DEMO_MERCHANT.name]
    assert coupon_code.parse_coupon_code(code).merchant_ids == (terminal.merchant_id,)


def test_terminal_lists_participating_campaigns(server: Server) -> None:
    terminal, _wallet, _code = coupon_setup(server)

    response = terminal.get("/v1/coupons/campaigns")

    assert response.status_code == 200
    assert response.json()["campaign_ids"] == ["aki"]
    assert server.new_terminal().get("/v1/coupons/campaigns").json()["campaign_ids"] == []


# --- merchant funding ----------------------------------------------------------------------


def test_merchant_campaign_funds_and_returns_budget(server: Server) -> None:
    terminal = server.new_terminal()
    funder = server.new_wallet(5_000)
    assert pay_plain(terminal, funder, 5_000).status_code == 200
    wallet = server.new_wallet(1_000)
    make_campaign(server, [terminal.merchant_id], issuer_merchant=terminal.merchant_id,
                  budget_yen=3_000)
    assert server.merchant_balance_yen(terminal.merchant_id) == 2_000
    issue(server)

    paid = pay_cpm(terminal, wallet, usable_code(wallet), 1_000, 100)
    with server.state.db.write() as session:
        returned = coupon_cli.close_campaign(session, "aki", server.settings)

    assert paid.status_code == 200, paid.text
    assert returned == 2_900
    assert server.merchant_balance_yen(terminal.merchant_id) == 5_000 + 900 + 100 - 100
    assert server.merchant_balance_yen("coupons:aki") == 0


def test_merchant_campaign_needs_funds(server: Server) -> None:
    terminal = server.new_terminal()

    with pytest.raises(ServerError) as caught:
        make_campaign(server, [terminal.merchant_id], issuer_merchant=terminal.merchant_id)

    assert "has a balance of 0 yen, less than the budget of 10000 yen" in caught.value.message
    assert count_rows(server, CouponCampaign) == 0


def pay_plain(terminal: TerminalClient, wallet: WalletClient, amount_yen: int) -> httpx.Response:
    payment_code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    return terminal.post("/v1/payments/cpm", {
        "code": payment_code, "amount_yen": amount_yen,
        "idempotency_key": f"sale-{uuid.uuid4().hex}",
    })


def wallet_row(server: Server, wallet_id: str) -> Wallet:
    return server.wallet_row(wallet_id)


def coupons_of(server: Server, wallet_id: str) -> list[Coupon]:
    with server.state.db.read() as session:
        return list(session.scalars(select(Coupon).where(Coupon.wallet_id == wallet_id)))
