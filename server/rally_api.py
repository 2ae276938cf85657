"""HTTP routes of stamp rallies: the booth's rally, stamps and day count, and wallet codes.

Booth routes need a signed terminal request and act for the calling terminal; wallet routes
need the wallet's bearer token. Stamps sent later through POST /sync go through the same
``rallies.give_stamp``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from server import rallies
from server.api import ServerState, TerminalDep, WalletDep
from server.errors import invalid, shorten
from terminal import protocol


def routes(state: ServerState) -> APIRouter:
    router = APIRouter()
    settings = state.settings

    @router.get("/rally/booth")
    def booth(terminal: TerminalDep) -> protocol.RallyInfo:
        def action(session: Session) -> protocol.RallyInfo:
            now = settings.clock()
            rally, booth_row = rallies.booth_rally(session, terminal.id, now)
            return rallies.rally_info(rally, booth_row, now)

        return state.read(action)

    @router.get("/rally/booth/today")
    def booth_today(terminal: TerminalDep) -> protocol.BoothDay:
        return state.read(lambda session: rallies.booth_day(session, terminal.id, settings.clock()))

    @router.post("/rally/stamps")
    def give_stamp(request: protocol.StampGive, terminal: TerminalDep) -> protocol.StampOutcome:
        captured_at = parse_captured_at(request.captured_at)
        return state.write(lambda session: rallies.give_stamp(
            session, terminal, request.participant_code, request.entry_id, captured_at,
            now=settings.clock()))

    @router.get("/wallet/rallies")
    def wallet_rallies(wallet: WalletDep) -> protocol.ParticipantCodeList:
        return state.write(lambda session: protocol.ParticipantCodeList(
            rallies=rallies.participant_codes(session, wallet, settings.clock())))

    @router.get("/wallet/rallies/{rally_id}")
    def wallet_rally(rally_id: str, wallet: WalletDep) -> protocol.ParticipantCode:
        return state.write(lambda session: rallies.participant_code(
            session, wallet, rally_id, settings.clock()))

    return router


def parse_captured_at(text: str) -> datetime:
    """Read captured_at; a time without an offset is UTC, as the protocol sends."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"captured_at {shorten(text)!r} is not an ISO 8601 time;"
                      " send e.g. 2026-04-01T10:00:00+00:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
