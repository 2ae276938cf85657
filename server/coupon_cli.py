"""chiiki-settle commands of coupon campaigns: create, issue, close, list, and the prize draw.

A campaign is defined by a TOML file (``coupon-campaign-create --file``) or by options with the
same names (``--discount-yen`` for ``discount_yen``). The file form::

    id = "aki-2026"                 # 1 to 24 of a-z, 0-9 and "-"; part of every coupon code
    title = "秋の100円引き"          # at most 30 bytes of UTF-8, about 10 Japanese characters
    issuer_merchant = "m_..."       # the merchant that funds it; or, for the operator:
    # issuer_name = "若松商店街振興組合"
    discount_yen = 100              # or discount_percent = 10 with max_discount_yen = 500
    minimum_spend_yen = 500
    starts = "2026-10-01"           # a date (00:00 Japan time) or an ISO time with offset
    ends = "2026-11-01"
    valid_days = 14                 # optional: each coupon expires this long after its issue
    budget_yen = 100000
    shops = ["m_...", "m_..."]
    chain_group = "wakamatsu-aki"   # optional: campaigns that pass customers to each other
    [audience]
    resident = true                 # optional
    attributes = { area = ["wakamatsu", "tobata"] }

Creating a campaign moves ``budget_yen`` into the campaign account ``coupons:<id>`` (transfer
``coupon-fund:<id>``): from the merchant's account for a merchant's campaign, or as coin issued
from the issuance account for the operator's. Closing it moves what the discounts left back
(``coupon-return:<id>``): to the merchant, or to the issuance account, which retires it.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import coupons, ledger, lottery, new_files, seed_files
from server.coupon_models import Coupon, CouponCampaign, CouponCampaignShop, CouponPrizeDraw
from server.coupon_models import CouponUseRow
from server.db import Database
from server.errors import InsufficientFunds, invalid, not_found, not_utf8
from server.models import ISSUANCE_ACCOUNT_ID, Merchant, Wallet
from server.settings import Settings, iso_utc
from terminal import coupon_code
from terminal.japan_time import JAPAN_TIME_ZONE, format_japan_time

logger = logging.getLogger(__name__)

AddCommand = Callable[[str, str], argparse.ArgumentParser]

_CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
CAMPAIGN_OWNER = "coupon_campaign"
_RECORD_FILE = new_files.NewFile(
    noun="record file", command="coupon-prize-publish", option="--out",
    reason="it may be a seed file or another draw's record")
_SPEC_KEYS = frozenset({
    "id", "title", "issuer_merchant", "issuer_name", "discount_yen", "discount_percent",
    "max_discount_yen", "minimum_spend_yen", "starts", "ends", "valid_days", "budget_yen",
    "shops", "chain_group", "audience",
})


@dataclass(frozen=True)
class CampaignSpec:
    """A checked campaign definition."""

    id: str
    title: str
    issuer_merchant: str | None
    issuer_name: str | None
    discount_kind: str
    discount_value: int
    max_discount_yen: int
    minimum_spend_yen: int
    starts: datetime
    ends: datetime
    valid_days: int | None
    budget_yen: int
    shops: tuple[str, ...]
    chain_group: str | None
    audience_resident: bool | None
    audience_attributes: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class IssueReport:
    issued: int
    already_held: int
    not_in_audience: int
    left_for_budget: int


# --- campaign definitions ------------------------------------------------------------------


def parse_spec(values: Mapping[str, Any], source: str) -> CampaignSpec:
    """Check a campaign definition and return it; raise ``invalid`` naming the bad value."""
    unknown = sorted(set(values) - _SPEC_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_SPEC_KEYS))
        raise invalid(f"{source}: unknown key {unknown[0]!r}; allowed: {allowed}")
    campaign_id = _text(values, "id", source)
    if not _CAMPAIGN_ID.match(campaign_id):
        raise invalid(f"{source}: id {campaign_id!r} must be 1 to 24 of a-z, 0-9 and '-',"
                      " starting with a letter or digit")
    title = _text(values, "title", source)
    if not 1 <= len(title.encode()) <= coupon_code.MAX_TITLE_BYTES or not title.isprintable():
        raise invalid(f"{source}: title {title!r} must be printable and at most"
                      f" {coupon_code.MAX_TITLE_BYTES} bytes of UTF-8 (about 10 Japanese"
                      " characters)")
    kind, value, cap = _discount(values, source)
    starts, ends = _time(values, "starts", source), _time(values, "ends", source)
    if ends <= starts:
        raise invalid(f"{source}: ends {iso_utc(ends)} must be after starts {iso_utc(starts)}")
    budget = _integer(values, "budget_yen", source, minimum=1)
    reservation = value if kind == "yen" else cap
    if budget < reservation:
        raise invalid(f"{source}: budget_yen {budget} is less than one coupon's largest"
                      f" discount of {reservation} yen; raise the budget")
    resident, attributes = _audience(values.get("audience", {}), source)
    return CampaignSpec(
        id=campaign_id, title=title, issuer_merchant=_optional_text(values, "issuer_merchant"),
        issuer_name=_optional_text(values, "issuer_name"), discount_kind=kind,
        discount_value=value, max_discount_yen=cap,
        minimum_spend_yen=_integer(values, "minimum_spend_yen", source, minimum=0, default=0),
        starts=starts, ends=ends, valid_days=_optional_integer(values, "valid_days", source),
        budget_yen=budget, shops=_shops(values, source),
        chain_group=_optional_text(values, "chain_group"), audience_resident=resident,
        audience_attributes=attributes,
    )


def _discount(values: Mapping[str, Any], source: str) -> tuple[str, int, int]:
    has_yen, has_percent = "discount_yen" in values, "discount_percent" in values
    if has_yen == has_percent:
        raise invalid(f"{source}: give exactly one of discount_yen and discount_percent")
    if has_yen:
        if "max_discount_yen" in values:
            raise invalid(f"{source}: max_discount_yen applies only to discount_percent")
        return "yen", _integer(values, "discount_yen", source, minimum=1), 0
    percent = _integer(values, "discount_percent", source, minimum=1)
    if percent > coupon_code.MAX_PERCENT:
        raise invalid(f"{source}: discount_percent {percent} is more than"
                      f" {coupon_code.MAX_PERCENT}")
    if "max_discount_yen" not in values:
        raise invalid(f"{source}: discount_percent needs max_discount_yen, the largest discount"
                      " one coupon gives, so the budget can reserve it")
    return "percent", percent, _integer(values, "max_discount_yen", source, minimum=1)


def _audience(raw: object, source: str) -> tuple[bool | None, dict[str, list[str]]]:
    if not isinstance(raw, dict):
        raise invalid(f"{source}: audience must be a table with resident and attributes")
    resident = raw.get("resident")
    if resident is not None and not isinstance(resident, bool):
        raise invalid(f"{source}: audience.resident must be true or false, not {resident!r}")
    attributes: dict[str, list[str]] = {}
    for name, accepted in (raw.get("attributes") or {}).items():
        listed = [accepted] if isinstance(accepted, str) else accepted
        if not (isinstance(listed, list) and listed and all(isinstance(v, str) for v in listed)):
            raise invalid(f"{source}: audience attribute {name!r} must be a text or a list of"
                          " texts")
        attributes[str(name)] = sorted(set(listed))
    return resident, attributes


def _shops(values: Mapping[str, Any], source: str) -> tuple[str, ...]:
    shops = values.get("shops")
    if not (isinstance(shops, list) and shops and all(isinstance(s, str) for s in shops)):
        raise invalid(f"{source}: shops must list at least one merchant id")
    if len(set(shops)) != len(shops):
        raise invalid(f"{source}: shops lists a merchant twice")
    return tuple(sorted(shops))


def _text(values: Mapping[str, Any], key: str, source: str) -> str:
    value = values.get(key)
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{source}: {key} is missing; give it as text")
    return value.strip()


def _optional_text(values: Mapping[str, Any], key: str) -> str | None:
    value = values.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _integer(values: Mapping[str, Any], key: str, source: str, *, minimum: int,
             default: int | None = None) -> int:
    value = values.get(key, default)
    if value is None:
        raise invalid(f"{source}: {key} is missing; give a whole number of at least {minimum}")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid(f"{source}: {key} {value!r} must be a whole number of at least {minimum}")
    if value > coupon_code.MAX_U32:
        raise invalid(f"{source}: {key} {value} is more than {coupon_code.MAX_U32}")
    return value


def _optional_integer(values: Mapping[str, Any], key: str, source: str) -> int | None:
    return None if values.get(key) is None else _integer(values, key, source, minimum=1)


def _time(values: Mapping[str, Any], key: str, source: str) -> datetime:
    raw = values.get(key)
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, date):
        moment = datetime.combine(raw, time(0), JAPAN_TIME_ZONE)
    elif isinstance(raw, str):
        try:
            moment = (datetime.fromisoformat(raw) if "T" in raw
                      else datetime.combine(date.fromisoformat(raw), time(0), JAPAN_TIME_ZONE))
        except ValueError:
            raise invalid(f"{source}: {key} {raw!r} is not a date (2026-10-01) or an ISO time"
                          " with offset (2026-10-01T09:00+09:00)") from None
    else:
        raise invalid(f"{source}: {key} is missing; give a date such as 2026-10-01")
    if moment.tzinfo is None:
        raise invalid(f"{source}: {key} {raw!r} has no offset; add one, e.g. +09:00")
    return moment.astimezone(UTC).replace(microsecond=0)


# --- campaign operations -------------------------------------------------------------------


def create_campaign(session: Session, spec: CampaignSpec, *, now: datetime) -> CouponCampaign:
    """Store a campaign, open its account and, for a merchant's campaign, fund the budget."""
    if session.get(CouponCampaign, spec.id) is not None:
        raise invalid(f"coupon campaign {spec.id} already exists; choose another id")
    if spec.ends <= now:
        # Funding a campaign that can issue no coupon would lock its budget away until closed.
        raise invalid(f"coupon campaign {spec.id} ends at {_japan(spec.ends)}, which is not in"
                      f" the future (now {_japan(now)}); give ends a later date")
    issuer_name = _issuer_name(session, spec)
    for merchant_id in spec.shops:
        if session.get(Merchant, merchant_id) is None:
            raise not_found(f"shop {merchant_id} is not a merchant; check the shops list")

    account_id = coupons.campaign_account_id(spec.id)
    ledger.open_account(session, account_id, CAMPAIGN_OWNER, now=now)
    campaign = CouponCampaign(
        id=spec.id, title=spec.title, issuer_name=issuer_name,
        issuer_merchant_id=spec.issuer_merchant, account_id=account_id,
        discount_kind=spec.discount_kind, discount_value=spec.discount_value,
        max_discount_yen=spec.max_discount_yen, minimum_spend_yen=spec.minimum_spend_yen,
        starts_at=spec.starts, ends_at=spec.ends, valid_days=spec.valid_days,
        audience_resident=spec.audience_resident, audience_attributes=spec.audience_attributes,
        budget_yen=spec.budget_yen, committed_yen=0, chain_group=spec.chain_group,
        created_at=now,
    )
    session.add(campaign)
    session.add_all(CouponCampaignShop(campaign_id=spec.id, merchant_id=merchant_id)
                    for merchant_id in spec.shops)
    session.flush()
    _fund(session, campaign, now)
    logger.info("coupon campaign %s created for %d shops, budget %d yen", spec.id,
                len(spec.shops), spec.budget_yen)
    return campaign


def _japan(moment: datetime) -> str:
    return format_japan_time(moment, "%Y-%m-%d %H:%M JST")


def _issuer_name(session: Session, spec: CampaignSpec) -> str:
    if spec.issuer_merchant is None:
        if spec.issuer_name is None:
            raise invalid("give issuer_merchant (a merchant funds the campaign) or issuer_name"
                          " (the operator funds it and receipts show this name)")
        return spec.issuer_name
    merchant = session.get(Merchant, spec.issuer_merchant)
    if merchant is None:
        raise not_found(f"issuer_merchant {spec.issuer_merchant} is not a merchant")
    return merchant.name


def _fund(session: Session, campaign: CouponCampaign, now: datetime) -> None:
    transfer_id = f"coupon-fund:{campaign.id}"
    merchant_id = campaign.issuer_merchant_id
    if merchant_id is None:
        ledger.issue(session, transfer_id=transfer_id, issuer_id=ISSUANCE_ACCOUNT_ID,
                     destination_id=campaign.account_id, amount_yen=campaign.budget_yen, now=now)
        return
    try:
        ledger.pay(session, transfer_id=transfer_id, source_id=merchant_id,
                   destination_id=campaign.account_id, amount_yen=campaign.budget_yen, now=now)
    except InsufficientFunds:
        held = sum(ledger.balance(session, merchant_id, now=now).values())
        raise invalid(f"merchant {merchant_id} has a balance of {held} yen, less than the"
                      f" budget of {campaign.budget_yen} yen; lower budget_yen or wait for"
                      " sales") from None


def _lock_campaign(session: Session, campaign_id: str) -> CouponCampaign:
    campaign = session.scalars(
        select(CouponCampaign).where(CouponCampaign.id == campaign_id).with_for_update()
    ).one_or_none()
    if campaign is None:
        raise not_found(f"coupon campaign {campaign_id} does not exist; list them with"
                        " chiiki-settle coupon-campaigns")
    return campaign


def issue_to_audience(session: Session, campaign_id: str, settings: Settings) -> IssueReport:
    """Issue one coupon to every wallet of the audience that has none of this campaign yet.

    Wallets are served in the order of SHA-256 of ``<campaign id>:<wallet id>``. That order is
    fixed and unrelated to sign-up time, so early and late wallets are equally likely to miss
    out when the budget runs out. Issuing again later serves the wallets left over, once
    budget is released.
    """
    now = settings.clock()
    campaign = _lock_campaign(session, campaign_id)
    if not coupons.is_open(campaign, now) and not (campaign.closed_at is None
                                                   and now < campaign.starts_at):
        raise invalid(f"coupon campaign {campaign_id} has ended or is closed; nothing issued")
    coupons.release_expired(session, campaign, now=now, grace=_grace(settings))

    held = set(session.scalars(select(Coupon.wallet_id).where(
        Coupon.campaign_id == campaign_id, Coupon.issued_for == coupons.ISSUED_FOR_AUDIENCE,
    )))
    wallets = [wallet for wallet in session.scalars(select(Wallet))
               if wallet.blocked_at is None]
    audience = [wallet for wallet in wallets if coupons.in_audience(campaign, wallet)]
    waiting = sorted((wallet for wallet in audience if wallet.id not in held),
                     key=lambda wallet: coupons.audience_order_key(campaign_id, wallet.id))
    shops = coupons.campaign_shops(session, campaign_id)
    listed = shops if len(shops) <= coupon_code.MAX_SHOPS else []

    issued = 0
    for wallet in waiting:
        if coupons.issue_coupon(session, campaign, wallet.id, listed,
                                issued_for=coupons.ISSUED_FOR_AUDIENCE, now=now) is None:
            break
        issued += 1
    return IssueReport(issued=issued, already_held=len(audience) - len(waiting),
                       not_in_audience=len(wallets) - len(audience),
                       left_for_budget=len(waiting) - issued)


def close_campaign(session: Session, campaign_id: str, settings: Settings) -> int:
    """Close a campaign: withdraw its unused coupons and return a merchant's unspent funds.

    Returns the yen moved back to the merchant, or to the issuance account for the operator's.
    """
    now = settings.clock()
    campaign = _lock_campaign(session, campaign_id)
    if campaign.closed_at is not None:
        raise invalid(f"coupon campaign {campaign_id} was closed at {iso_utc(campaign.closed_at)}")
    used = select(CouponUseRow.coupon_id)
    unused = list(session.scalars(select(Coupon).where(
        Coupon.campaign_id == campaign_id, Coupon.withdrawn_at.is_(None), Coupon.id.not_in(used),
    )))
    for coupon in unused:
        coupon.withdrawn_at = now
        if coupon.released_at is None:
            coupon.released_at = now
            campaign.committed_yen -= coupon.reserved_yen
    campaign.closed_at = now
    session.flush()

    returned = sum(ledger.balance(session, campaign.account_id, now=now).values())
    if returned:
        ledger.pay(session, transfer_id=f"coupon-return:{campaign_id}",
                   source_id=campaign.account_id,
                   destination_id=campaign.issuer_merchant_id or ISSUANCE_ACCOUNT_ID,
                   amount_yen=returned, now=now)
    logger.info("coupon campaign %s closed: %d coupons withdrawn, %d yen returned", campaign_id,
                len(unused), returned)
    return returned


def _grace(settings: Settings) -> timedelta:
    return coupons.release_grace(settings.offline_max_age_s,
                                 settings.offline_certificate_validity_s)


# --- prize draw ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PrizeSeed:
    """The secret seed of a campaign's prize draw and the commitment stored for it."""

    campaign_id: str
    places: int
    seed: str
    commitment: str


def commit_prize_draw(session: Session, campaign_id: str, places: int,
                      now: datetime) -> PrizeSeed:
    """Generate the prize draw's secret seed, store only its commitment, and return the seed.

    The caller must hand the seed to the operator (``seed_files.write_prize_seed``) before the
    transaction commits, because the database does not hold it until the draw.
    """
    campaign = _lock_campaign(session, campaign_id)
    if places < 1:
        raise invalid(f"--places {places} must be at least 1")
    existing = session.get(CouponPrizeDraw, campaign_id)
    if existing is not None:
        raise invalid(f"the prize draw of campaign {campaign_id} is already committed (at"
                      f" {iso_utc(existing.committed_at)}, commitment {existing.commitment});"
                      " a seed cannot be replaced")
    if campaign.closed_at is not None:
        # A seed fixed once the entries are known could be picked to favour someone.
        raise invalid(f"coupon campaign {campaign_id} closed at {iso_utc(campaign.closed_at)},"
                      " so its prize draw can no longer be committed; commit the draw of a"
                      " campaign while it is open and publish the commitment before it closes")
    seed = lottery.generate_seed()
    prize = PrizeSeed(campaign_id, places, seed, lottery.commitment(seed))
    session.add(CouponPrizeDraw(campaign_id=campaign_id, places=places, seed=None,
                                commitment=prize.commitment, committed_at=now))
    session.flush()
    logger.info("prize draw of coupon campaign %s committed: %s", campaign_id, prize.commitment)
    return prize


def run_prize_draw(session: Session, campaign_id: str, now: datetime, *,
                   seed: str | None, file_places: int | None = None) -> list[str]:
    """Draw the winners among the wallets' entries; one entry is one ticket.

    The campaign must be closed, so no entry arrives after the draw. ``seed`` is the seed from
    the operator's seed file. It must match the stored commitment, and it is stored with the
    result, so ``publish_prize_draw`` can reveal it. It may be None only for a draw committed
    before seed files existed, whose seed the database holds. ``file_places``, the places
    the seed file states, must equal the places stored at the commit.
    """
    campaign = _lock_campaign(session, campaign_id)
    draw = _committed_draw(session, campaign_id)
    if campaign.closed_at is None:
        raise invalid(f"close coupon campaign {campaign_id} before its prize draw, so the"
                      " entries are final")
    if draw.drawn_at is not None:
        raise invalid(f"the prize draw of campaign {campaign_id} was drawn at"
                      f" {iso_utc(draw.drawn_at)}")
    seed = _prize_seed(draw, seed)
    if file_places is not None and file_places != draw.places:
        raise invalid(f"the seed file gives {file_places} places, but the prize draw of"
                      f" campaign {campaign_id} was committed with {draw.places}, so the file"
                      " was changed; use an unchanged copy of the file that coupon-prize-commit"
                      " wrote. Nothing was drawn")

    candidates = {wallet_id: min(entries, lottery.MAX_WEIGHT)
                  for wallet_id, entries in coupons.prize_entries(session, campaign_id).items()}
    draw.seed = seed
    draw.candidates = candidates
    draw.winners = lottery.draw(seed, candidates, draw.places)
    draw.drawn_at = now
    session.flush()
    logger.info("prize draw of coupon campaign %s: %d candidates, %d winners", campaign_id,
                len(candidates), len(draw.winners))
    return list(draw.winners)


def _prize_seed(draw: CouponPrizeDraw, seed: str | None) -> str:
    """Return the seed to draw with, after checking it against the stored commitment."""
    campaign_id = draw.campaign_id
    if seed is None:
        if draw.seed is None:
            raise invalid(f"the prize draw of campaign {campaign_id} needs its seed; give the"
                          " seed file that coupon-prize-commit wrote for this campaign"
                          f" (coupon-prize-draw --campaign {campaign_id} --seed-file FILE)")
        logger.warning("prize draw of coupon campaign %s is drawn with the seed stored in the"
                       " database: it was committed before seed files, so anyone who could"
                       " read the database before this draw could have predicted it",
                       campaign_id)
        return draw.seed

    return seed_files.checked_seed(
        seed, draw.commitment, draw_name=f"the prize draw of campaign {campaign_id}",
        advice="give the seed file that coupon-prize-commit wrote for this campaign, unchanged")


def publish_prize_draw(session: Session, campaign_id: str, now: datetime) -> dict[str, Any]:
    """Reveal the seed and return the record anyone can check with ``lottery.verify``."""
    draw = _committed_draw(session, campaign_id)
    if draw.drawn_at is None or draw.candidates is None or draw.winners is None:
        raise invalid(f"run chiiki-settle coupon-prize-draw --campaign {campaign_id}"
                      " --seed-file FILE first, with the seed file that coupon-prize-commit"
                      " wrote")
    draw.published_at = draw.published_at or now
    session.flush()
    return {
        "campaign_id": campaign_id, "commitment": draw.commitment, "seed": draw.seed,
        "places": draw.places, "candidates": draw.candidates, "winners": draw.winners,
        "committed_at": iso_utc(draw.committed_at), "drawn_at": iso_utc(draw.drawn_at),
        "algorithm": "server/lottery.py: weighted commit-reveal draw, weight = entries",
    }


def _committed_draw(session: Session, campaign_id: str) -> CouponPrizeDraw:
    draw = session.get(CouponPrizeDraw, campaign_id)
    if draw is None:
        raise invalid(f"run chiiki-settle coupon-prize-commit --campaign {campaign_id} first")
    return draw


# --- commands ------------------------------------------------------------------------------


def add_commands(add: AddCommand) -> None:
    """Register this module's subcommands through ``add(name, help)``."""
    create = add("coupon-campaign-create", "create a coupon campaign from a TOML file or options")
    create.add_argument("--file", type=Path, help="campaign TOML file (see server/coupon_cli.py)")
    create.add_argument("--id", help="campaign id, 1 to 24 of a-z, 0-9 and '-'")
    create.add_argument("--title", help="coupon title, at most 30 bytes of UTF-8")
    create.add_argument("--issuer-merchant", help="merchant id that funds the campaign")
    create.add_argument("--issuer-name", help="name shown as issuer when the operator funds it")
    create.add_argument("--discount-yen", type=int, help="fixed discount in yen")
    create.add_argument("--discount-percent", type=int, help="discount in percent, 1 to 100")
    create.add_argument("--max-discount-yen", type=int,
                        help="largest discount of one percent coupon, in yen")
    create.add_argument("--minimum-spend-yen", type=int, help="smallest sale total, in yen")
    create.add_argument("--starts", help="first day (Japan time) or ISO time with offset")
    create.add_argument("--ends", help="end, exclusive: day (Japan time) or ISO time with offset")
    create.add_argument("--valid-days", type=int, help="days each coupon is valid after issue")
    create.add_argument("--budget-yen", type=int, help="largest total of discounts, in yen")
    create.add_argument("--shop", action="append", dest="shops", help="participating merchant"
                        " id; repeat for each shop")
    create.add_argument("--chain-group", help="campaigns of one group issue each other's coupons")
    create.add_argument("--resident", choices=["yes", "no"], help="only residents, or only"
                        " non-residents")
    create.add_argument("--attribute", action="append", default=[], metavar="NAME=V1,V2",
                        help="only wallets whose attribute NAME is one of the values")

    issue = add("coupon-issue", "issue the campaign's coupon to every wallet of its audience")
    issue.add_argument("--campaign", required=True, help="campaign id")
    add("coupon-campaigns", "print every coupon campaign with its budget and uses")
    close = add("coupon-campaign-close",
                "close a campaign: withdraw unused coupons, return a merchant's unspent budget")
    close.add_argument("--campaign", required=True, help="campaign id")

    commit = add("coupon-prize-commit", "fix the prize draw's secret seed: write it to a new"
                 " seed file, store and print the commitment to publish")
    commit.add_argument("--campaign", required=True, help="campaign id")
    commit.add_argument("--places", required=True, type=int, help="number of winners")
    commit.add_argument("--seed-file", type=Path, required=True, metavar="FILE",
                        help="seed file to create (mode 0600, never overwritten); keep it"
                        " offline until the draw")
    draw = add("coupon-prize-draw", "draw the winners of a closed campaign's prize draw")
    draw.add_argument("--campaign", required=True, help="campaign id")
    seed = draw.add_mutually_exclusive_group()
    seed.add_argument("--seed-file", type=Path, default=None, metavar="FILE",
                      help="the seed file coupon-prize-commit wrote for the campaign")
    seed.add_argument("--seed", default=None, metavar="HEX",
                      help="the draw's seed (64 hexadecimal characters) instead of the file")
    publish = add("coupon-prize-publish", "write the seed, entries and winners to a JSON file")
    publish.add_argument("--campaign", required=True, help="campaign id")
    publish.add_argument("--out", required=True, type=Path, metavar="FILE",
                         help="JSON file to create (never overwritten)")


def _create(args: argparse.Namespace, db: Database) -> None:
    if args.file is not None:
        values, source = _read_toml(args.file), str(args.file)
    else:
        values, source = _option_values(args), "options"
    spec = parse_spec(values, source)
    settings = Settings.from_env()
    with db.write() as session:
        create_campaign(session, spec, now=settings.clock())
    funding = ("funded by merchant " + spec.issuer_merchant if spec.issuer_merchant
               else "funded by the operator")
    print(f"coupon campaign {spec.id} created: {len(spec.shops)} shops, budget"
          f" {spec.budget_yen} yen, {funding}")


def _option_values(args: argparse.Namespace) -> dict[str, Any]:
    names = ("id", "title", "issuer_merchant", "issuer_name", "discount_yen", "discount_percent",
             "max_discount_yen", "minimum_spend_yen", "starts", "ends", "valid_days",
             "budget_yen", "shops", "chain_group")
    values = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    audience: dict[str, Any] = {"attributes": {}}
    if args.resident is not None:
        audience["resident"] = args.resident == "yes"
    for text in args.attribute:
        name, separator, accepted = text.partition("=")
        if not separator or not name or not accepted:
            raise invalid(f"--attribute {text!r} must look like area=wakamatsu,tobata")
        audience["attributes"][name] = accepted.split(",")
    values["audience"] = audience
    return values


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    except OSError as exc:
        raise invalid(f"file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise invalid(f"{path} is not valid TOML: {exc}") from None


def _issue(args: argparse.Namespace, db: Database) -> None:
    with db.write() as session:
        report = issue_to_audience(session, args.campaign, Settings.from_env())
    print(f"coupon campaign {args.campaign}: {report.issued} coupons issued,"
          f" {report.already_held} wallets already hold one, {report.not_in_audience} wallets"
          f" outside the audience, {report.left_for_budget} left out for lack of budget")


def _campaigns(args: argparse.Namespace, db: Database) -> None:
    with db.read() as session:
        campaigns = list(session.scalars(select(CouponCampaign).order_by(CouponCampaign.id)))
        uses = dict(session.execute(
            select(CouponUseRow.campaign_id, func.count()).group_by(CouponUseRow.campaign_id)
        ).all())
        issued = dict(session.execute(
            select(Coupon.campaign_id, func.count()).group_by(Coupon.campaign_id)
        ).all())
    print("campaign_id\tissuer\tdiscount\tbudget_yen\tcommitted_yen\tissued\tused\tstatus")
    for campaign in campaigns:
        unit = "yen" if campaign.discount_kind == "yen" else "%"
        status = "closed" if campaign.closed_at is not None else "open"
        print(f"{campaign.id}\t{campaign.issuer_name}\t{campaign.discount_value}{unit}"
              f"\t{campaign.budget_yen}\t{campaign.committed_yen}\t{issued.get(campaign.id, 0)}"
              f"\t{uses.get(campaign.id, 0)}\t{status}")


def _close(args: argparse.Namespace, db: Database) -> None:
    with db.write() as session:
        returned = close_campaign(session, args.campaign, Settings.from_env())
    print(f"coupon campaign {args.campaign} closed; {returned} yen of its budget returned")


def _prize_commit(args: argparse.Namespace, db: Database) -> None:
    seed_files.reject_seed_like(args.campaign, "the value of --campaign",
                                "give --campaign the campaign id")
    seed_files.reject_seed_like(args.seed_file, "the value of --seed-file",
                                "give --seed-file the path of a new seed file")
    now = Settings.from_env().clock()
    prize = seed_files.commit_with_seed_file(
        db, args.seed_file,
        lambda session: commit_prize_draw(session, args.campaign, args.places, now),
        lambda committed: seed_files.write_prize_seed(
            args.seed_file, committed.campaign_id, places=committed.places, seed=committed.seed,
            commitment=committed.commitment, committed_at=now),
        check_advice=f"run chiiki-settle coupon-prize-commit --campaign {args.campaign} again"
        " with a new --seed-file: if it reports the draw already committed with the commitment"
        f" written in {args.seed_file}, keep that file, which contains its seed; if it commits,"
        f" delete {args.seed_file}")

    print(f"commitment {prize.commitment}; publish it before the campaign closes. The seed is"
          f" only in {args.seed_file}: keep it and a copy offline, because coupon-prize-draw"
          " needs it and the winners cannot be drawn without it")


def _prize_draw(args: argparse.Namespace, db: Database) -> None:
    seed_files.reject_seed_like(args.campaign, "the value of --campaign",
                                "give --campaign the campaign id, and pass a seed with --seed or"
                                " the seed file's path with --seed-file")
    seed_files.reject_seed_like(args.seed_file, "the value of --seed-file",
                                "pass a seed with --seed, or give --seed-file the path of the"
                                " seed file")
    seed, places = args.seed, None
    if args.seed_file is not None:
        from_file = seed_files.read_prize_seed(args.seed_file, args.campaign)
        seed, places = from_file.seed, from_file.places
    with db.write() as session:
        winners = run_prize_draw(session, args.campaign, Settings.from_env().clock(), seed=seed,
                                 file_places=places)
    print(f"{len(winners)} winners of campaign {args.campaign}:")
    for place, wallet_id in enumerate(winners, 1):
        print(f"{place}\t{wallet_id}")


def _prize_publish(args: argparse.Namespace, db: Database) -> None:
    seed_files.reject_seed_like(args.campaign, "the value of --campaign",
                                "give --campaign the campaign id")
    seed_files.reject_seed_like(args.out, "the value of --out",
                                "give --out the path of a new record file")

    # The file is created before the draw is published, so a path that is taken changes
    # nothing. Publishing again returns the same record.
    try:
        with new_files.new_file(args.out, _RECORD_FILE, outcome="Nothing was changed") as out:
            with db.write() as session:
                record = publish_prize_draw(session, args.campaign,
                                            Settings.from_env().clock())
            out.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
    except OSError as exc:
        raise new_files.write_failed(
            args.out, _RECORD_FILE, exc, "The prize draw is published; run"
            " coupon-prize-publish again with a new --out path to write its record") from None
    print(f"prize draw of campaign {args.campaign} written to {args.out}")


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], None]] = {
    "coupon-campaign-create": _create,
    "coupon-issue": _issue,
    "coupon-campaigns": _campaigns,
    "coupon-campaign-close": _close,
    "coupon-prize-commit": _prize_commit,
    "coupon-prize-draw": _prize_draw,
    "coupon-prize-publish": _prize_publish,
}
