"""Accepting an offline payment code at the counter without the server.

The wallet's code carries a certificate signed by the server's issuer key, and the terminal
verifies it with the issuer keys cached in its store (``terminal.offline_code``). Before
approving, ``OfflineAcceptor`` also applies the caps of the ``[offline]`` configuration and
rejects a code whose (wallet, serial, counter) this terminal has already taken. The approval is
the committed capture: the payment, its outbox entry and the replay record are written in one
transaction before the caller shows 承認.

Every rejection raises ``OfflineRejected`` with a message key from ``terminal.messages`` that
instructs the clerk, in most cases to ask for another way to pay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from terminal import messages, offline_code, protocol
from terminal.clock import ServerClock
from terminal.config import OfflineConfig
from terminal.offline_code import OfflineCode
from terminal.paycode import looks_like_payment_code
from terminal.protocol import ErrorCode, TaxLine
from terminal.store import Capture, NewCapture, SeenOfflineCode, Store, StoreError

logger = logging.getLogger(__name__)

# Each verification failure of terminal.offline_code and the clerk's message for it.
_REJECTION_KEYS: tuple[tuple[type[offline_code.OfflineCodeError], str], ...] = (
    (offline_code.MalformedCode, messages.CODE_MALFORMED),
    (offline_code.CertificateExpired, messages.OFFLINE_CERTIFICATE_EXPIRED),
    (offline_code.CodeTooOld, messages.OFFLINE_CODE_TOO_OLD),
    (offline_code.CodeFromFuture, messages.OFFLINE_CODE_FROM_FUTURE),
)


class OfflineRejected(Exception):
    """The code cannot be accepted offline. ``message_key`` names the reason and the next step."""

    def __init__(self, message_key: str, detail: str) -> None:
        super().__init__(detail)
        self.message_key = message_key


@dataclass(frozen=True)
class OfflineApproval:
    capture: Capture
    code: OfflineCode


class OfflineAcceptor:
    """Verifies offline codes and records the payments they approve."""

    def __init__(
        self,
        store: Store,
        caps: OfflineConfig,
        clock: ServerClock,
        new_capture_id: Callable[[], str],
        merchant_id: str = "",
        terminal_id: str = "",
    ) -> None:
        """``merchant_id`` and ``terminal_id`` go on the provisional receipt of a payment."""
        self.merchant_id = merchant_id
        self.terminal_id = terminal_id
        self.store = store
        self.caps = caps
        self.clock = clock
        self._new_capture_id = new_capture_id

    def accept(
        self,
        text: str,
        amount_yen: int,
        tax_lines: Sequence[TaxLine] = (),
        clerk: str | None = None,
    ) -> OfflineApproval:
        """Verify ``text``, check the caps and commit the payment; raise OfflineRejected.

        ``clerk`` is stored on the capture for the per-clerk lines of the day close.
        """
        _reject_online_code(text)
        code = self.verify(text)
        self._check_caps(code, amount_yen)

        capture_id = self._new_capture_id()
        seen = SeenOfflineCode(
            wallet_id=code.certificate.wallet_id,
            serial=code.certificate.serial,
            counter=code.counter,
            fingerprint=code.fingerprint,
        )
        new = NewCapture(
            capture_id=capture_id,
            kind="offline_payment",
            amount_yen=amount_yen,
            method="offline",
            captured_at=self.clock.now(),
            tax_lines=tuple(tax_lines),
            offline_code=text.strip().upper(),
            seen_code=seen,
            clerk=clerk,
        )
        try:
            capture = self.store.record_capture(new)
        except StoreError as exc:
            # Most likely the same code committed by another thread a moment ago: the
            # replay record is unique, so the second insert fails and nothing is approved.
            if self.store.offline_code_seen(seen):
                raise OfflineRejected(messages.OFFLINE_CODE_USED, str(exc)) from exc
            raise
        logger.info(
            "offline payment %s approved: %d yen, wallet %s certificate %d counter %d",
            capture_id,
            amount_yen,
            seen.wallet_id,
            seen.serial,
            seen.counter,
        )
        return OfflineApproval(capture, code)

    def verify(self, text: str) -> OfflineCode:
        """Verify the code's signatures and age against the cached issuer keys."""
        keys = self._issuer_keys()
        if not keys:
            raise OfflineRejected(messages.OFFLINE_NO_ISSUER_KEYS, "no issuer keys are cached")
        try:
            return offline_code.verify_offline_code(
                text,
                keys,
                now=self.clock.now(),
                max_age=timedelta(hours=self.caps.max_age_hours),
            )
        except offline_code.OfflineCodeError as exc:
            masked = offline_code.mask_offline_code(text)
            logger.info("rejected offline code %s: %s", masked, exc)
            raise OfflineRejected(_rejection_key(exc), str(exc)) from exc

    def _issuer_keys(self) -> Mapping[str, Ed25519PublicKey]:
        return {
            key.key_id: Ed25519PublicKey.from_public_bytes(protocol.b64decode(key.public_key))
            for key in self.store.issuer_keys()
        }

    def _check_caps(self, code: OfflineCode, amount_yen: int) -> None:
        caps = self.caps
        certificate = code.certificate
        seen = SeenOfflineCode(
            certificate.wallet_id, certificate.serial, code.counter, code.fingerprint
        )
        if self.store.offline_code_seen(seen):
            raise OfflineRejected(
                messages.OFFLINE_CODE_USED,
                f"wallet {certificate.wallet_id} counter {code.counter} was already taken",
            )
        if amount_yen > caps.max_payment_yen:
            raise OfflineRejected(
                messages.OFFLINE_PAYMENT_TOO_LARGE,
                f"{amount_yen} yen is over the offline cap of {caps.max_payment_yen} yen",
            )

        spent_yen = self.store.offline_spent_yen(certificate.wallet_id, certificate.serial)
        if spent_yen + amount_yen > certificate.allowance_yen:
            raise OfflineRejected(
                ErrorCode.OFFLINE_ALLOWANCE_EXCEEDED,
                f"{spent_yen} + {amount_yen} yen is over the allowance of "
                f"{certificate.allowance_yen} yen",
            )
        self._check_waiting(amount_yen)

    def _check_waiting(self, amount_yen: int) -> None:
        caps = self.caps
        waiting = self.store.waiting("offline_payment")
        if waiting.count + 1 > caps.max_waiting_count:
            raise OfflineRejected(
                messages.OFFLINE_WAITING_COUNT_FULL,
                f"{waiting.count} offline payments are waiting, the cap is {caps.max_waiting_count}",
            )
        if waiting.total_yen + amount_yen > caps.max_waiting_total_yen:
            raise OfflineRejected(
                messages.OFFLINE_WAITING_TOTAL_FULL,
                f"{waiting.total_yen} + {amount_yen} yen waiting is over the cap of "
                f"{caps.max_waiting_total_yen} yen",
            )
        # The server releases a wallet's unused reserve some time after its certificate
        # expires, so a payment left unsent for longer may no longer be covered.
        oldest = waiting.oldest_captured_at
        if oldest is not None and self.clock.now() - oldest > timedelta(hours=caps.max_age_hours):
            raise OfflineRejected(
                messages.OFFLINE_WAITING_TOO_OLD,
                f"an offline payment captured at {oldest.isoformat()} is still waiting",
            )


def _reject_online_code(text: str) -> None:
    if not looks_like_payment_code(text.strip()):
        return
    raise OfflineRejected(
        messages.SHOW_OFFLINE_CODE, "an online payment code cannot be redeemed offline"
    )


def _rejection_key(exc: offline_code.OfflineCodeError) -> str:
    for error_type, key in _REJECTION_KEYS:
        if isinstance(exc, error_type):
            return key
    return ErrorCode.OFFLINE_CODE_INVALID

