"""HTTP route a donation cause reads its totals from.

The cause authenticates with the read token the operator issued (``chiiki-settle
donation-cause-token``) as ``Authorization: Bearer <token>``. A token reads only its own
cause, and the totals are sums per campaign, day or month: no payment, wallet or merchant ids.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Header, Query
from sqlalchemy.orm import Session

from server import donation_payouts, donations
from server.auth import unauthenticated
from server.donation_models import DonationCause
from server.errors import invalid, shorten
from server.settings import iso_utc
from terminal import protocol
from terminal.japan_time import JAPAN_TIME_ZONE

if TYPE_CHECKING:
    from server.api import ServerState


def routes(state: ServerState) -> APIRouter:
    router = APIRouter()

    @router.get("/donation-causes/{cause_id}/totals")
    def cause_totals(
        cause_id: str,
        group: protocol.DonationGroup = "month",
        since: Annotated[str | None, Query(max_length=10)] = None,
        until: Annotated[str | None, Query(max_length=10)] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> protocol.DonationTotals:
        since_at = _japan_midnight(since, "since")
        until_at = _japan_midnight(until, "until")
        if since_at is not None and until_at is not None and until_at <= since_at:
            raise invalid(f"until {until} is not after since {since}; give a later until date"
                          " or swap the two")

        def action(session: Session) -> protocol.DonationTotals:
            cause = _cause_for_request(session, cause_id, authorization)
            return totals_model(session, cause, group, since_at, until_at,
                                state.settings.clock())

        return state.read(action)

    return router


def totals_model(
    session: Session, cause: DonationCause, group: protocol.DonationGroup,
    since: datetime | None, until: datetime | None, now: datetime,
) -> protocol.DonationTotals:
    """Build the cause's totals as the API sends them."""
    lines = donations.totals(session, group, cause_id=cause.id, since=since, until=until)
    wire_lines = [
        protocol.DonationTotalLine(key=line.key, label=line.label, donated_yen=line.donated_yen,
                                   returned_yen=line.returned_yen, net_yen=line.net_yen,
                                   payment_count=line.payment_count)
        for line in lines
    ]
    donated_yen = sum(line.donated_yen for line in lines)
    returned_yen = sum(line.returned_yen for line in lines)
    payouts = donation_payouts.payout_totals(session, cause.id)
    return protocol.DonationTotals(
        cause_id=cause.id, cause_name=cause.name, group=group, lines=wire_lines,
        donated_yen=donated_yen, returned_yen=returned_yen, net_yen=donated_yen - returned_yen,
        held_yen=donations.cause_held_yen(session, cause),
        owed_yen=donations.owed_yen(session, cause.id), in_payout_yen=payouts.in_payout_yen,
        paid_out_yen=payouts.paid_out_yen, server_time=iso_utc(now),
    )


def _cause_for_request(session: Session, cause_id: str, authorization: str | None
                       ) -> DonationCause:
    if not authorization:
        raise unauthenticated("missing Authorization header; send 'Bearer <cause read token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("Authorization header must be 'Bearer <cause read token>'")
    cause = donations.cause_for_token(session, token.strip())
    # Another cause's id gets the same response as a bad token, so a token cannot probe ids.
    if cause is None or cause.id != cause_id:
        raise unauthenticated(
            f"the read token is not valid for cause {shorten(cause_id)}; ask the operator for"
            " a new token (chiiki-settle donation-cause-token)"
        )
    return cause


def _japan_midnight(text: str | None, name: str) -> datetime | None:
    """Return the start of the Japan calendar day ``text`` (YYYY-MM-DD), or None."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise invalid(f"{name} {shorten(text)!r} is not a date; send YYYY-MM-DD (Japan time),"
                      " e.g. 2026-04-01") from None
    return datetime.combine(day, time(0), tzinfo=JAPAN_TIME_ZONE)
