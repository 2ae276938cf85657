"""Issuer keys: the Ed25519 keys that sign offline certificates.

The newest key that is not retired signs new certificates. A key is created at first use and
replaced by ``rotate_issuer_key``; a retired key still verifies codes until ``verify_until``,
when every certificate it signed has expired and the codes made under them are too old for a
terminal to accept. Terminals fetch the public keys from ``GET /v1/issuer-keys``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.models import IssuerKeyRow
from server.settings import Settings, iso_utc
from terminal import offline_code, protocol

logger = logging.getLogger(__name__)


def verification_period(settings: Settings) -> timedelta:
    """Return how long after its last signature a key must still verify codes."""
    return timedelta(
        seconds=settings.offline_certificate_validity_s + settings.offline_max_age_s
    )


def signing_key(session: Session, now: datetime) -> tuple[str, Ed25519PrivateKey]:
    """Return the id and private key of the key that signs certificates, creating it if none."""
    row = _active_key(session)
    if row is None:
        row = _create_key(session, now)
    private_key = Ed25519PrivateKey.from_private_bytes(protocol.b64decode(row.private_key))
    return row.id, private_key


def rotate_issuer_key(session: Session, settings: Settings) -> tuple[str, list[str]]:
    """Retire every signing key and create a new one; return the new id and the retired ids."""
    now = settings.clock()
    verify_until = now + verification_period(settings)
    retired = list(session.scalars(
        select(IssuerKeyRow.id).where(IssuerKeyRow.retired_at.is_(None))
    ))
    session.execute(
        update(IssuerKeyRow)
        .where(IssuerKeyRow.retired_at.is_(None))
        .values(retired_at=now, verify_until=verify_until)
    )
    new_key = _create_key(session, now)
    logger.info("issuer key %s now signs; retired keys %s verify until %s", new_key.id,
                ", ".join(retired) or "(none)", iso_utc(verify_until))
    return new_key.id, retired


def public_keys(session: Session) -> dict[str, Ed25519PublicKey]:
    """Return every stored issuer public key by key id, retired keys included.

    The server checks a code's age against its capture time, so a retired key must still
    verify codes that reach the server after ``verify_until``.
    """
    rows = session.execute(select(IssuerKeyRow.id, IssuerKeyRow.public_key)).all()
    return {
        key_id: Ed25519PublicKey.from_public_bytes(protocol.b64decode(public_key))
        for key_id, public_key in rows
    }


def has_signing_key(session: Session) -> bool:
    return _active_key(session) is not None


def issuer_key_list(session: Session, settings: Settings) -> protocol.IssuerKeyList:
    """List the keys a terminal should accept now: the signing key and retired keys still valid.

    The signing key's ``valid_until`` is the latest time a certificate it signed up to now
    can be used, so terminals fetch the list again before then.
    """
    now = settings.clock()
    rows = session.scalars(
        select(IssuerKeyRow)
        .where(IssuerKeyRow.verify_until.is_(None) | (IssuerKeyRow.verify_until > now))
        .order_by(IssuerKeyRow.created_at.desc())
    )
    keys = [
        protocol.IssuerKey(
            key_id=row.id,
            public_key=row.public_key,
            valid_from=iso_utc(row.created_at),
            valid_until=iso_utc(row.verify_until or now + verification_period(settings)),
        )
        for row in rows
    ]
    return protocol.IssuerKeyList(keys=keys, server_time=iso_utc(now))


def _active_key(session: Session) -> IssuerKeyRow | None:
    # Two servers creating the first key at the same moment leave two unretired keys. Both
    # verify, the newer one signs, and the next rotation retires both.
    query = (
        select(IssuerKeyRow)
        .where(IssuerKeyRow.retired_at.is_(None))
        .order_by(IssuerKeyRow.created_at.desc(), IssuerKeyRow.id)
        .limit(1)
    )
    return session.scalars(query).first()


def _create_key(session: Session, now: datetime) -> IssuerKeyRow:
    private_key = Ed25519PrivateKey.generate()
    public_raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    private_raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    row = IssuerKeyRow(
        id=offline_code.issuer_key_id(public_raw),
        public_key=protocol.b64encode(public_raw),
        private_key=protocol.b64encode(private_raw),
        created_at=now,
    )
    session.add(row)
    session.flush()
    logger.info("issuer key %s created", row.id)
    return row
