"""HTTP routes of premium point sales for wallets (bearer token), and the wallet's value lots.

Every route acts for the calling wallet. It can read every sale, but only the applications it
sent or receives sets from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import premium
from server.api import ServerState, WalletDep
from server.ledger import SPEND_ORDER
from server.models import Lot, Wallet
from server.premium_models import PremiumApplication, PremiumSale
from server.settings import iso_utc
from terminal import protocol
from terminal.protocol import ValueKind


def routes(state: ServerState) -> APIRouter:
    router = APIRouter()
    clock = state.settings.clock

    @router.get("/premium/sales")
    def list_sales(wallet: WalletDep) -> protocol.PremiumSaleList:
        def action(session: Session) -> protocol.PremiumSaleList:
            now = clock()
            return protocol.PremiumSaleList(sales=[
                sale_model(session, sale, wallet, now) for sale in premium.list_sales(session)])

        return state.read(action)

    @router.get("/premium/sales/{sale_id}")
    def get_sale(sale_id: str, wallet: WalletDep) -> protocol.PremiumSale:
        return state.read(lambda session: sale_model(
            session, premium.get_sale(session, sale_id), wallet, clock()))

    @router.post("/premium/sales/{sale_id}/applications")
    def apply(sale_id: str, request: protocol.PremiumApply,
              wallet: WalletDep) -> protocol.PremiumApplication:
        def action(session: Session) -> protocol.PremiumApplication:
            applicant = _fresh(session, wallet)
            row = premium.apply(session, applicant, sale_id, sets=request.sets,
                                for_wallet_id=request.for_wallet_id,
                                idempotency_key=request.idempotency_key, now=clock())
            return application_model(session, row)

        return state.write(action)

    @router.get("/premium/applications")
    def list_applications(
        wallet: WalletDep, sale_id: Annotated[str | None, Query(max_length=24)] = None,
    ) -> protocol.PremiumApplicationList:
        def action(session: Session) -> protocol.PremiumApplicationList:
            rows = premium.wallet_applications(session, wallet, sale_id)
            return protocol.PremiumApplicationList(
                applications=[application_model(session, row) for row in rows])

        return state.read(action)

    @router.get("/premium/applications/{application_id}")
    def get_application(application_id: str, wallet: WalletDep) -> protocol.PremiumApplication:
        return state.read(lambda session: application_model(
            session, premium.application_for(session, wallet, application_id)))

    @router.post("/premium/applications/{application_id}/cancel")
    def cancel(application_id: str, wallet: WalletDep) -> protocol.PremiumApplication:
        return state.write(lambda session: application_model(
            session, premium.cancel(session, wallet, application_id, now=clock())))

    @router.post("/premium/applications/{application_id}/purchase")
    def purchase(application_id: str, wallet: WalletDep) -> protocol.PremiumPurchase:
        def action(session: Session) -> protocol.PremiumPurchase:
            bought = premium.purchase(session, wallet, application_id, now=clock())
            sale = premium.get_sale(session, bought.application.sale_id)
            return protocol.PremiumPurchase(
                application=application_model(session, bought.application),
                paid_yen=bought.paid_yen, local_yen=bought.local_yen, all_yen=bought.all_yen,
                expires_at=iso_utc(sale.usage_until))

        return state.write(action)

    @router.get("/wallet/value")
    def wallet_value(wallet: WalletDep) -> protocol.WalletValue:
        return state.read(lambda session: value_model(session, wallet, clock()))

    return router


def _fresh(session: Session, wallet: Wallet) -> Wallet:
    """Load the wallet in this session, so its household and residency are current."""
    row = session.get(Wallet, wallet.id)
    assert row is not None  # authenticated a moment ago, and wallets are never deleted
    return row


def sale_model(session: Session, sale: PremiumSale, wallet: Wallet,
               now: datetime) -> protocol.PremiumSale:
    draws = premium.draws_of(session, sale.id)
    return protocol.PremiumSale(
        sale_id=sale.id, name=sale.name, phase=premium.sale_phase(sale, draws, now),
        apply_from=iso_utc(sale.apply_from), apply_until=iso_utc(sale.apply_until),
        purchase_from=iso_utc(sale.purchase_from), purchase_until=iso_utc(sale.purchase_until),
        second_purchase_from=_iso_or_none(sale.second_purchase_from),
        second_purchase_until=_iso_or_none(sale.second_purchase_until),
        usage_until=iso_utc(sale.usage_until), price_yen=sale.price_yen,
        local_yen=sale.local_yen, all_yen=sale.all_yen, total_sets=sale.total_sets,
        per_person_max_sets=sale.per_person_max_sets,
        household_max_people=sale.household_max_people,
        household_max_sets=sale.household_max_sets, residents_only=sale.residents_only,
        commitments={str(number): draw.commitment for number, draw in sorted(draws.items())},
        eligible=premium.is_eligible(sale, wallet),
    )


def application_model(session: Session, row: PremiumApplication) -> protocol.PremiumApplication:
    sale = premium.get_sale(session, row.sale_id)
    window = premium.purchase_window(sale, row)
    return protocol.PremiumApplication(
        application_id=row.id, sale_id=row.sale_id, wallet_id=row.wallet_id,
        applicant_wallet_id=row.applicant_wallet_id,
        status=row.status,  # type: ignore[arg-type]  # the column holds only these states
        sets_requested=row.sets_requested, sets_won=row.sets_won, round_won=row.round_won,
        draw_position=row.draw_position, pay_yen=sale.price_yen * row.sets_won,
        purchase_from=None if window is None else iso_utc(window[0]),
        purchase_until=None if window is None else iso_utc(window[1]),
        purchased_at=_iso_or_none(row.purchased_at), created_at=iso_utc(row.created_at),
    )


def value_model(session: Session, wallet: Wallet, now: datetime) -> protocol.WalletValue:
    """Sum the wallet's spendable lots by kind and expiry, in the order a payment spends them."""
    rows = session.execute(
        select(Lot.value_kind, Lot.expires_at, func.sum(Lot.remaining_yen))
        .where(Lot.account_id == wallet.account_id, Lot.remaining_yen > 0,
               Lot.expires_at.is_(None) | (Lot.expires_at > now))
        .group_by(Lot.value_kind, Lot.expires_at)
    ).all()
    rank = {kind: position for position, kind in enumerate(SPEND_ORDER)}
    lots = [protocol.ValueLot(kind=ValueKind(kind), amount_yen=int(total),
                              expires_at=_iso_or_none(expires_at))
            for kind, expires_at, total in rows if total]
    lots.sort(key=lambda lot: (rank[lot.kind], lot.expires_at is None, lot.expires_at or ""))
    return protocol.WalletValue(wallet_id=wallet.id, total_yen=sum(lot.amount_yen for lot in lots),
                                lots=lots)


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)
