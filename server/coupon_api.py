"""HTTP routes of store coupons.

Terminals quote a scanned coupon before payment (``POST /coupons/quote``), fetch the campaigns
their shop takes part in (to accept campaign-wide coupons offline), and list coupons declined
at sync. Wallets list their coupons with the signed codes to show. A rejected coupon comes back
as an error whose code is one of the ``coupon_*`` values of ``ErrorCode``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from server import coupons
from server.api import ServerState, TerminalDep, WalletDep
from server.settings import iso_utc
from terminal import protocol

# Most declined coupons one list returns.
MAX_DECLINE_LIST = 200


def routes(state: ServerState) -> APIRouter:
    router = APIRouter()
    settings = state.settings

    @router.post("/coupons/quote")
    def quote_coupon(
        request: protocol.CouponQuoteRequest, terminal: TerminalDep
    ) -> protocol.CouponQuote:
        return state.read(lambda session: coupons.quote(
            session, terminal.merchant_id, request, settings.clock()
        ))

    @router.get("/coupons/campaigns")
    def participating_campaigns(terminal: TerminalDep) -> protocol.CouponCampaignList:
        def action(session: Session) -> protocol.CouponCampaignList:
            campaign_ids = coupons.participating_campaigns(session, terminal.merchant_id)
            return protocol.CouponCampaignList(campaign_ids=campaign_ids,
                                               server_time=iso_utc(settings.clock()))

        return state.read(action)

    @router.get("/coupons/declined")
    def declined_coupons(
        terminal: TerminalDep,
        limit: Annotated[int, Query(ge=1, le=MAX_DECLINE_LIST)] = 50,
    ) -> protocol.CouponDeclineList:
        return state.read(
            lambda session: coupons.merchant_declines(session, terminal.merchant_id, limit)
        )

    @router.get("/wallet/coupons")
    def wallet_coupons(wallet: WalletDep) -> protocol.WalletCouponList:
        return state.read(
            lambda session: coupons.wallet_coupons(session, wallet.id, settings.clock())
        )

    return router
