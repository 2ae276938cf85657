"""The API client's money calls: balance, cash-out preview and request, list, statement CSV."""

from __future__ import annotations

import json

import httpx
import pytest

from terminal import protocol
from terminal.api_client import ApiClient, Declined, ProtocolError, Unreachable
from terminal.keys import Signer
from terminal.protocol import ErrorCode

ACCOUNT = {"bank_code": "0126", "branch_code": "401", "account_type": 1,
           "account_number_last4": "4567", "holder_name": "ｱｲﾂﾞ"}
CASH_OUT = {
    "cash_out_id": "co-1", "status": "requested", "amount_yen": 5000, "fee_yen": 400,
    "fixed_fee_yen": 300, "metered_fee_yen": 100, "net_yen": 4600,
    "payout_date": "2026-12-07", "month": "2026-12", "created_at": "2026-12-04T06:00:00+00:00",
    "bank_account": ACCOUNT,
}
KEY = "cashout-key-0001"


class MoneyServer:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.lose_next: int = 0
        self.error: tuple[int, ErrorCode] | None = None
        self.statement_bytes = "recorded_at,type\r\n".encode()

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self._route(request)
        if self.lose_next:
            self.lose_next -= 1
            raise httpx.ReadError("connection reset", request=request)
        return response

    def _route(self, request: httpx.Request) -> httpx.Response:
        if self.error is not None:
            status, code = self.error
            return httpx.Response(status, json={"error": {"code": code, "message": "no"}})
        path = request.url.path
        if path == "/v1/cash-outs" and request.method == "POST":
            return httpx.Response(200, json=CASH_OUT)
        if path == "/v1/cash-outs":
            return httpx.Response(200, json={"cash_outs": [CASH_OUT]})
        if path == "/v1/cash-outs/preview":
            amount_yen = int(request.url.params["amount_yen"])
            return httpx.Response(200, json={
                "amount_yen": amount_yen, "balance_yen": 9000, "fee_yen": 400,
                "fixed_fee_yen": 300, "metered_fee_yen": 100, "net_yen": amount_yen - 400,
                "payout_date": "2026-12-07", "fee_plan": "demo", "month": "2026-12",
                "month_volume_yen": 0, "bank_account": ACCOUNT,
            })
        if path == "/v1/merchant/balance":
            return httpx.Response(200, json={"merchant_id": "m-1", "total_yen": 9000,
                                             "kinds": {"coin": 9000}, "pending_payout_yen": 0})
        if path.startswith("/v1/statements/"):
            return httpx.Response(200, content=self.statement_bytes,
                                  headers={"content-type": "text/csv; charset=utf-8"})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})


@pytest.fixture
def money_server() -> MoneyServer:
    return MoneyServer()


@pytest.fixture
def api(money_server: MoneyServer, signer: Signer) -> ApiClient:
    return ApiClient("http://127.0.0.1:8000", "term-1", signer,
                     transport=httpx.MockTransport(money_server.handle), sleep=lambda _s: None)


def test_cash_out_resent_with_same_key_after_lost_response(
    api: ApiClient, money_server: MoneyServer
) -> None:
    money_server.lose_next = 1

    cash_out = api.request_cash_out(5000, KEY)

    bodies = [json.loads(r.content) for r in money_server.requests]
    assert cash_out.cash_out_id == "co-1"
    assert bodies == [{"amount_yen": 5000, "idempotency_key": KEY}] * 2


def test_cash_out_unreachable_after_all_attempts(
    api: ApiClient, money_server: MoneyServer
) -> None:
    money_server.lose_next = 3

    with pytest.raises(Unreachable):
        api.request_cash_out(5000, KEY)

    assert len(money_server.requests) == 3


def test_preview_signs_amount_query(api: ApiClient, money_server: MoneyServer) -> None:
    preview = api.preview_cash_out(5000)

    request = money_server.requests[-1]
    assert request.url.raw_path == b"/v1/cash-outs/preview?amount_yen=5000"
    assert protocol.HEADER_SIGNATURE in request.headers
    assert preview.net_yen == 4600


def test_preview_below_fee_declined(api: ApiClient, money_server: MoneyServer) -> None:
    money_server.error = (422, ErrorCode.AMOUNT_BELOW_FEE)

    with pytest.raises(Declined) as caught:
        api.preview_cash_out(100)

    assert caught.value.code is ErrorCode.AMOUNT_BELOW_FEE


def test_balance_and_list(api: ApiClient) -> None:
    assert api.merchant_balance().total_yen == 9000
    assert [item.status for item in api.list_cash_outs(10)] == ["requested"]


def test_statement_csv_text(api: ApiClient, money_server: MoneyServer) -> None:
    text = api.statement_csv("2026-12")

    assert text == "recorded_at,type\r\n"
    assert money_server.requests[-1].url.path == "/v1/statements/2026-12"


def test_statement_not_utf8_is_protocol_error(
    api: ApiClient, money_server: MoneyServer
) -> None:
    money_server.statement_bytes = b"\xff\xfe"

    with pytest.raises(ProtocolError, match="not UTF-8"):
        api.statement_csv("2026-12")
