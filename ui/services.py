"""The services the screens use from the rest of the terminal, gathered in one object.

Presenters receive a ``TerminalServices`` and never build clients, printers or configs
themselves, so tests hand them fakes and the real terminal hands them the real things.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from terminal import protocol
from ui.connection import OfflineParts
from ui.technician.context import TechnicianContext
from ui.worker import TaskRunner


class PaymentApi(Protocol):
    """The calls of ``terminal.api_client.ApiClient`` that the screens make."""

    def create_intent(
        self, amount_yen: int, tax_lines: Sequence[protocol.TaxLine], idempotency_key: str
    ) -> protocol.Intent: ...

    def wait_intent(
        self, intent_id: str, wait_s: float, seen_rejection_at: str = ...
    ) -> protocol.Intent: ...

    def cancel_intent(self, intent_id: str) -> protocol.Intent: ...

    def redeem_cpm(
        self,
        code: str,
        amount_yen: int,
        tax_lines: Sequence[protocol.TaxLine],
        idempotency_key: str,
    ) -> protocol.Payment: ...

    def list_payments(self, limit: int = 50) -> list[protocol.Payment]: ...

    def get_payment(self, payment_id: str) -> protocol.Payment: ...

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund: ...


class ReceiptSink(Protocol):
    """Prints receipts; blocking, so presenters call it on a worker thread.

    Each call returns once the printer confirmed the receipt and raises otherwise. A receipt
    that printed already is not printed again unless ``copy`` is true.
    """

    def print_payment(self, payment: protocol.Payment, *, copy: bool = False) -> None: ...

    def print_refund(self, refund: protocol.Refund, *, copy: bool = False) -> None: ...


@dataclass
class TerminalServices:
    api: PaymentApi
    receipts: ReceiptSink
    runner: TaskRunner
    lang: str
    verify_manager_pin: Callable[[str], bool]
    max_amount_yen: int
    # How long one long-poll request waits on the server; below protocol.LONG_POLL_MAX_S.
    long_poll_s: float = 25.0
    # The terminal database, offline acceptance and sync; None only in tests of lone screens.
    offline: OfflineParts | None = None
    # The technician's screens behind the technician PIN; None leaves them out.
    technician: TechnicianContext | None = None
    # Clerk names for the clerk chooser and the day close's per-clerk lines; empty hides both.
    clerks: tuple[str, ...] = ()

    def is_offline(self) -> bool:
        return self.offline is not None and self.offline.is_offline()


def new_idempotency_key() -> str:
    return uuid.uuid4().hex
