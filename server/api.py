"""HTTP API of the settlement server, under ``protocol.API_PREFIX``.

Terminal endpoints need a signed request (see ``server.auth``), wallet endpoints a bearer
token. Handlers that touch the database are plain functions, which FastAPI runs on its
thread pool. The intent long-poll is a coroutine that waits on ``IntentNotifier`` events and
re-reads the database every ``poll_recheck_s`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server import (
    auth,
    issuer,
    merchants,
    offline,
    payments,
    reports,
    sync,
    value_remaining,
    wallets,
)
from server.api_errors import install_error_handlers
from server.body_limit import BodyLimitMiddleware
from server.db import Database, init_db
from server.errors import ServerError
from server.models import Terminal, Wallet
from server.notify import IntentNotifier
from server.settings import Settings, iso_utc
from terminal import protocol
from terminal.protocol import API_PREFIX, LONG_POLL_MAX_S, ErrorCode

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ServerState:
    """State shared by every request handler: settings, database and the intent notifier."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.notifier = IntentNotifier()

    def write(self, action: Callable[[Session], T]) -> T:
        """Run ``action`` in a writing transaction, once more if a concurrent insert collided.

        A unique-key collision means another request inserted the same idempotent row first;
        the second attempt finds that row and returns it.
        """
        try:
            with self.db.write() as session:
                return action(session)
        except IntegrityError as exc:
            logger.info("retrying after a concurrent insert: %s", exc.orig)
        with self.db.write() as session:
            return action(session)

    def read(self, action: Callable[[Session], T]) -> T:
        with self.db.read() as session:
            return action(session)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the application; ``database`` defaults to ``init_db(settings.database_url)``."""
    settings = settings if settings is not None else Settings.from_env()
    db = database if database is not None else init_db(settings.database_url)
    state = ServerState(settings, db)

    app = FastAPI(title="chiiki-settle", version="0.1.0")
    app.state.chiiki = state
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    if settings.demo:
        logger.warning("demo mode is on: POST %s/wallet/topup mints coin for any wallet;"
                       " never enable it on a server that settles real money", API_PREFIX)
    app.include_router(_terminal_routes(state), prefix=API_PREFIX)
    app.include_router(_wallet_routes(state), prefix=API_PREFIX)
    app.include_router(_common_routes(state), prefix=API_PREFIX)
    # Imported here because these modules import ServerState and TerminalDep from this module.
    from server import coupon_api, donation_api, premium_api, rally_api
    from server.settlement_api import settlement_routes

    app.include_router(settlement_routes(state), prefix=API_PREFIX)
    for campaign_api in (premium_api, coupon_api, rally_api, donation_api):
        app.include_router(campaign_api.routes(state), prefix=API_PREFIX)
    return app


def _path_with_query(request: Request) -> str:
    # ASGI servers put the path as sent in raw_path; some test transports append the query.
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("ascii").split("?", 1)[0] if raw_path else request.url.path
    query = request.scope.get("query_string", b"").decode("ascii")
    return f"{path}?{query}" if query else path


def _state(request: Request) -> ServerState:
    state = request.app.state.chiiki
    assert isinstance(state, ServerState)
    return state


async def current_terminal(request: Request) -> Terminal:
    """Authenticate the signed terminal request (a FastAPI dependency)."""
    state = _state(request)
    body = await request.body()
    path_with_query = _path_with_query(request)

    def verify(session: Session) -> Terminal:
        return auth.verify_terminal_request(
            session, headers=request.headers, method=request.method,
            path_with_query=path_with_query, body=body, now=state.settings.clock(),
            window_s=state.settings.signature_window_s,
        )

    return await run_in_threadpool(state.read, verify)


def current_wallet(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Wallet:
    """Authenticate the wallet's bearer token (a FastAPI dependency)."""
    return _state(request).read(
        lambda session: auth.wallet_for_authorization(session, authorization)
    )


TerminalDep = Annotated[Terminal, Depends(current_terminal)]
WalletDep = Annotated[Wallet, Depends(current_wallet)]


def _terminal_routes(state: ServerState) -> APIRouter:
    router = APIRouter()
    settings = state.settings

    @router.post("/terminals/enrol")
    def enrol(request: protocol.EnrolRequest) -> protocol.TerminalInfo:
        def action(session: Session) -> protocol.TerminalInfo:
            terminal = merchants.enrol_terminal(session, request.activation_code,
                                                request.public_key, now=settings.clock())
            return merchants.terminal_info(session, terminal, settings.max_amount_yen)

        return state.write(action)

    @router.get("/terminal")
    def terminal_info(terminal: TerminalDep) -> protocol.TerminalInfo:
        return state.read(
            lambda session: merchants.terminal_info(session, terminal, settings.max_amount_yen)
        )

    @router.post("/intents")
    def create_intent(request: protocol.IntentCreate, terminal: TerminalDep) -> protocol.Intent:
        def action(session: Session) -> protocol.Intent:
            view = payments.create_intent(session, terminal, request, settings)
            return payments.intent_model(session, view, settings.clock())

        return state.write(action)

    @router.get("/intents/{intent_id}")
    async def get_intent(
        intent_id: str, terminal: TerminalDep,
        wait: Annotated[float, Query(ge=0, allow_inf_nan=False)] = 0.0,
        seen_rejection_at: Annotated[str | None, Query(max_length=40)] = None,
    ) -> protocol.Intent:
        deadline = time.monotonic() + min(wait, LONG_POLL_MAX_S)
        with state.notifier.subscribe(intent_id) as changed:
            intent = await _read_intent(state, terminal, intent_id)
            # The rejection the caller has already seen: the one it names, or else the one
            # this poll reads first, so a caller that names none waits for a newer one.
            seen = _rejection_at(intent) if seen_rejection_at is None else seen_rejection_at
            while intent.status == "pending" and _rejection_at(intent) == seen:
                remaining_s = deadline - time.monotonic()
                if remaining_s <= 0:
                    break
                changed.clear()
                await _wait_for(changed, min(settings.poll_recheck_s, remaining_s))
                intent = await _read_intent(state, terminal, intent_id)
            return intent

    @router.get("/intents/{intent_id}/events")
    async def intent_events(intent_id: str, terminal: TerminalDep) -> StreamingResponse:
        first = await _read_intent(state, terminal, intent_id)
        return StreamingResponse(_intent_stream(state, terminal, first),
                                 media_type="text/event-stream")

    @router.post("/intents/{intent_id}/cancel")
    def cancel_intent(intent_id: str, terminal: TerminalDep) -> protocol.Intent:
        def action(session: Session) -> protocol.Intent:
            now = settings.clock()
            return payments.intent_model(
                session, payments.cancel_intent(session, terminal, intent_id, now), now)

        intent = state.write(action)
        state.notifier.notify(intent_id)
        return intent

    @router.post("/payments/cpm")
    def redeem_code(request: protocol.CpmRedeem, terminal: TerminalDep) -> protocol.Payment:
        return state.write(lambda session: payments.payment_model(
            session,             payments.redeem_code(session, terminal, request, settings)))

    @router.post("/sync")
    def sync_batch(batch: protocol.SyncBatch, terminal: TerminalDep) -> protocol.SyncResponse:
        return sync.sync_batch(state.db, terminal, batch, settings)

    @router.get("/payments")
    def list_payments(
        terminal: TerminalDep,
        limit: Annotated[int, Query(ge=1, le=payments.MAX_PAYMENT_LIST)] = 50,
    ) -> protocol.PaymentList:
        def action(session: Session) -> protocol.PaymentList:
            rows = payments.list_payments(session, terminal, limit)
            return protocol.PaymentList(payments=payments.payment_models(session, rows))

        return state.read(action)

    @router.get("/payments/{payment_id}")
    def get_payment(payment_id: str, terminal: TerminalDep) -> protocol.Payment:
        return state.read(lambda session: payments.payment_model(
            session, payments.read_payment(session, terminal, payment_id)))

    @router.post("/payments/{payment_id}/refunds")
    def refund(
        payment_id: str, request: protocol.RefundCreate, terminal: TerminalDep
    ) -> protocol.Refund:
        def action(session: Session) -> protocol.Refund:
            row = payments.refund_payment(session, terminal, payment_id, request, settings)
            return payments.refund_model(session, row)

        return state.write(action)

    @router.get("/reports/day")
    def day_report(
        terminal: TerminalDep, business_day: Annotated[str, Query(max_length=10)]
    ) -> protocol.ServerDayReport:
        return state.read(lambda session: reports.day_report(
            session, terminal, business_day, settings.clock()))

    return router


def _wallet_routes(state: ServerState) -> APIRouter:
    router = APIRouter()
    settings = state.settings

    @router.post("/wallets")
    def create_wallet() -> protocol.WalletCreated:
        created = state.write(lambda session: wallets.create_wallet(session, now=settings.clock()))
        return protocol.WalletCreated(wallet_id=created.wallet_id, token=created.token)

    @router.get("/wallet")
    def balance(wallet: WalletDep) -> protocol.Balance:
        return state.read(
            lambda session: wallets.wallet_balance(session, wallet, now=settings.clock())
        )

    @router.post("/wallet/topup")
    def top_up(request: protocol.TopUp, wallet: WalletDep) -> protocol.Balance:
        if not settings.demo:
            raise ServerError(ErrorCode.DEMO_DISABLED,
                              "top-up is only available when the server runs in demo mode;"
                              " start a test server with chiiki-settle serve --demo")
        payments.check_amount(request.amount_yen, settings)
        return state.write(lambda session: wallets.top_up(
            session, wallet, request.amount_yen, request.idempotency_key, now=settings.clock()))

    @router.post("/wallet/payment-codes")
    def payment_code(wallet: WalletDep) -> protocol.PaymentCode:
        return state.write(lambda session: wallets.create_payment_code(
            session, wallet, now=settings.clock(), ttl_s=settings.payment_code_ttl_s))

    @router.post("/wallet/offline-certificate")
    def offline_certificate(
        request: protocol.OfflineCertificateRequest, wallet: WalletDep
    ) -> protocol.OfflineCertificate:
        return state.write(lambda session: offline.certificate_model(
            offline.issue_certificate(session, wallet, request, settings)))

    @router.get("/wallet/preferences")
    def wallet_preferences(wallet: WalletDep) -> value_remaining.WalletPreferences:
        return value_remaining.preferences(wallet)

    @router.put("/wallet/preferences")
    def set_wallet_preferences(
        request: value_remaining.WalletPreferences, wallet: WalletDep
    ) -> value_remaining.WalletPreferences:
        return state.write(
            lambda session: value_remaining.set_preferences(session, wallet, request))

    @router.post("/intents/{intent_id}/pay")
    def pay_intent(
        intent_id: str, request: protocol.IntentPay, wallet: WalletDep
    ) -> protocol.Payment:
        try:
            payment = state.write(lambda session: payments.payment_model(
                session, payments.pay_intent(session, wallet, intent_id, request, settings)))
        except ServerError as exc:
            if exc.code in payments.RECORDED_REJECTIONS:
                _record_rejection(state, intent_id, exc.code)
            raise
        state.notifier.notify(intent_id)
        return payment

    return router


def _common_routes(state: ServerState) -> APIRouter:
    router = APIRouter()

    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "server_time": iso_utc(state.settings.clock())}

    @router.get("/issuer-keys")
    def issuer_keys() -> protocol.IssuerKeyList:
        def ensure_key(session: Session) -> None:
            issuer.signing_key(session, state.settings.clock())

        # The first request on a new database creates the signing key.
        if not state.read(issuer.has_signing_key):
            state.write(ensure_key)
        return state.read(lambda session: issuer.issuer_key_list(session, state.settings))

    return router


def _record_rejection(state: ServerState, intent_id: str, code: ErrorCode) -> None:
    """Record a rejected pay call on the intent and wake its long polls.

    The pay call's transaction has rolled back, so this is a transaction of its own. A failure
    here is logged and swallowed, so the wallet still gets the rejection it caused.
    """
    now = state.settings.clock()
    try:
        recorded = state.write(
            lambda session: payments.record_rejection(session, intent_id, code, now))
    except SQLAlchemyError:
        logger.exception("rejection %s of intent %s could not be recorded", code.value, intent_id)
        return
    if recorded:
        state.notifier.notify(intent_id)


async def _read_intent(state: ServerState, terminal: Terminal, intent_id: str) -> protocol.Intent:
    def action(session: Session) -> protocol.Intent:
        now = state.settings.clock()
        return payments.intent_model(
            session, payments.read_intent(session, terminal, intent_id, now), now)

    return await run_in_threadpool(state.read, action)


def _rejection_at(intent: protocol.Intent) -> str:
    """Return when the intent's latest rejection was recorded, or NO_REJECTION_SEEN."""
    rejection = intent.last_rejection
    return protocol.NO_REJECTION_SEEN if rejection is None else rejection.at


async def _wait_for(event: asyncio.Event, timeout_s: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout_s)
    except TimeoutError:
        pass


async def _intent_stream(
    state: ServerState, terminal: Terminal, first: protocol.Intent
) -> AsyncIterator[str]:
    """Send the intent as a server-sent event now and on every change, until it is settled."""
    intent = first
    yield f"event: intent\ndata: {intent.model_dump_json()}\n\n"
    with state.notifier.subscribe(intent.intent_id) as changed:
        while intent.status == "pending":
            changed.clear()
            await _wait_for(changed, state.settings.poll_recheck_s)
            latest = await _read_intent(state, terminal, intent.intent_id)
            if latest.status != intent.status or latest.last_rejection != intent.last_rejection:
                yield f"event: intent\ndata: {latest.model_dump_json()}\n\n"
            intent = latest
