"""HTTP routes of the money side for terminals: balance, cash-outs, merchant transfers, statements.

Every route needs a signed terminal request and acts for the terminal's merchant. The terminal
requires the manager PIN before it calls the cash-out and transfer routes. The server checks
only the terminal's signature.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server import cashout, merchant_transfers, statements
from server.api import ServerState, TerminalDep
from terminal import protocol
from terminal.protocol import MAX_CASH_OUT_LIST


def settlement_routes(state: ServerState) -> APIRouter:
    router = APIRouter()
    settings = state.settings

    @router.get("/merchant/balance")
    def merchant_balance(terminal: TerminalDep) -> protocol.MerchantBalance:
        return state.read(lambda session: cashout.merchant_balance(session, terminal.merchant_id))

    @router.get("/cash-outs/preview")
    def preview_cash_out(
        terminal: TerminalDep, amount_yen: Annotated[int, Query(ge=1)]
    ) -> protocol.CashOutPreview:
        return state.read(
            lambda session: cashout.preview(session, terminal, amount_yen, settings)
        )

    @router.post("/cash-outs")
    def request_cash_out(
        request: protocol.CashOutCreate, terminal: TerminalDep
    ) -> protocol.CashOut:
        def action(session: Session) -> protocol.CashOut:
            row = cashout.request_cash_out(session, terminal.merchant_id, request.amount_yen,
                                           request.idempotency_key, settings,
                                           terminal_id=terminal.id)
            return cashout.cash_out_model(row)

        return state.write(action)

    @router.get("/cash-outs")
    def list_cash_outs(
        terminal: TerminalDep,
        limit: Annotated[int, Query(ge=1, le=MAX_CASH_OUT_LIST)] = 50,
    ) -> protocol.CashOutList:
        def action(session: Session) -> protocol.CashOutList:
            rows = cashout.list_cash_outs(session, terminal.merchant_id, limit)
            return protocol.CashOutList(cash_outs=[cashout.cash_out_model(row) for row in rows])

        return state.read(action)

    @router.post("/merchant-transfers")
    def pay_merchant(
        request: protocol.MerchantTransferCreate, terminal: TerminalDep
    ) -> protocol.MerchantTransfer:
        def action(session: Session) -> protocol.MerchantTransfer:
            row = merchant_transfers.pay_merchant(session, terminal, request, settings)
            return merchant_transfers.transfer_model(session, row)

        return state.write(action)

    @router.get("/statements/{month}")
    def statement_csv(month: str, terminal: TerminalDep) -> Response:
        def action(session: Session) -> str:
            built = statements.build_statement(session, terminal.merchant_id, month)
            return statements.to_csv(built)

        text = state.read(action)
        filename = f"statement-{terminal.merchant_id}-{month}.csv"
        return Response(content=text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return router
