"""Fixtures for the Qt screens: an off-screen platform, a scripted API and a receipt log."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from drivers.printer.emulator import PrinterEmulator

from terminal import protocol
from terminal.api_client import Declined
from terminal.config import PrinterConfig, ScannerConfig, TerminalConfig, hash_pin
from terminal.protocol import ErrorCode
from terminal.receipt_jobs import ReceiptJobs, open_receipt_jobs
from ui import i18n
from ui.app import Terminal, build_terminal
from ui.printing import PrinterReceipts
from ui.theme import apply_theme

MANAGER_PIN = "2468"
# A low iteration count keeps PIN checks fast in tests; the format is the production one.
PIN_HASH = hash_pin(MANAGER_PIN, iterations=1000)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def make_info() -> protocol.TerminalInfo:
    return protocol.TerminalInfo(
        terminal_id="term-1",
        label="REGI-1",
        max_amount_yen=1_000_000,
        merchant=protocol.MerchantInfo(
            merchant_id="m-1",
            name="テスト商店",
            name_ascii="TEST SHOP",
            city_ascii="AIZU",
            address="福島県会津若松市",
            invoice_registration_number="T1234567890123",
        ),
    )


def make_payment(payment_id: str, amount_yen: int, refunded_yen: int = 0) -> protocol.Payment:
    return protocol.Payment(
        payment_id=payment_id,
        merchant_id="m-1",
        terminal_id="term-1",
        amount_yen=amount_yen,
        refunded_yen=refunded_yen,
        method="cpm",
        created_at=iso(datetime.now(UTC)),
        tax_lines=[protocol.TaxLine(rate_percent=10, amount_yen=amount_yen)],
    )


@dataclass
class FakeApi:
    """Returns what the server would, from in-memory state, and records every call."""

    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    payments: list[protocol.Payment] = field(default_factory=list)
    used_codes: set[str] = field(default_factory=set)
    intent_status: protocol.IntentStatus = "pending"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(self, name: str, *args: object) -> None:
        with self.lock:
            self.calls.append((name, args))

    def names(self) -> list[str]:
        with self.lock:
            return [name for name, _ in self.calls]

    def create_intent(
        self, amount_yen: int, tax_lines: Sequence[protocol.TaxLine], idempotency_key: str
    ) -> protocol.Intent:
        self._record("create_intent", amount_yen, idempotency_key)
        return self._intent(amount_yen, "pending")

    def wait_intent(
        self, intent_id: str, wait_s: float, seen_rejection_at: str = protocol.NO_REJECTION_SEEN
    ) -> protocol.Intent:
        self._record("wait_intent", intent_id)
        return self._intent(1990, self.intent_status)

    def cancel_intent(self, intent_id: str) -> protocol.Intent:
        self._record("cancel_intent", intent_id)
        self.intent_status = "cancelled"
        return self._intent(1990, "cancelled")

    def redeem_cpm(
        self, code: str, amount_yen: int, tax_lines: Sequence[protocol.TaxLine], idempotency_key: str
    ) -> protocol.Payment:
        self._record("redeem_cpm", code, amount_yen, idempotency_key)
        if code in self.used_codes:
            raise Declined("code used", ErrorCode.CODE_USED, 409)
        self.used_codes.add(code)
        payment = make_payment(f"pay-{len(self.payments) + 1}", amount_yen)
        self.payments.insert(0, payment)
        return payment

    def list_payments(self, limit: int = 50) -> list[protocol.Payment]:
        self._record("list_payments", limit)
        return list(self.payments[:limit])

    def get_payment(self, payment_id: str) -> protocol.Payment:
        self._record("get_payment", payment_id)
        for payment in self.payments:
            if payment.payment_id == payment_id:
                return payment
        raise Declined(f"payment {payment_id} not found", ErrorCode.NOT_FOUND, 404)

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund:
        self._record("refund", payment_id, amount_yen, idempotency_key)
        index = next(i for i, p in enumerate(self.payments) if p.payment_id == payment_id)
        payment = self.payments[index]
        if amount_yen > payment.amount_yen - payment.refunded_yen:
            raise Declined("too much", ErrorCode.REFUND_EXCEEDS_PAYMENT, 409)
        updated = payment.model_copy(update={"refunded_yen": payment.refunded_yen + amount_yen})
        self.payments[index] = updated
        return protocol.Refund(
            refund_id=f"ref-{len(self.calls)}",
            payment_id=payment_id,
            amount_yen=amount_yen,
            created_at=iso(datetime.now(UTC)),
            payment=updated,
        )

    def _intent(self, amount_yen: int, status: protocol.IntentStatus) -> protocol.Intent:
        now = datetime.now(UTC)
        payment = make_payment("pay-mpm", amount_yen) if status == "approved" else None
        return protocol.Intent(
            intent_id="int-1",
            amount_yen=amount_yen,
            status=status,
            payload="000201010212TESTPAYLOAD",
            created_at=iso(now),
            expires_at=iso(now + timedelta(seconds=180)),
            server_time=iso(now),
            payment=payment,
        )


@dataclass
class ReceiptLog:
    payments: list[protocol.Payment] = field(default_factory=list)
    refunds: list[protocol.Refund] = field(default_factory=list)
    fail_with: Exception | None = None

    def print_payment(self, payment: protocol.Payment, *, copy: bool = False) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.payments.append(payment)

    def print_refund(self, refund: protocol.Refund, *, copy: bool = False) -> None:
        self.refunds.append(refund)


@pytest.fixture
def fake_api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def receipt_log() -> ReceiptLog:
    return ReceiptLog()


@pytest.fixture
def english(qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Install the English translator, compiled into a per-test cache, for the test's duration."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "qm-cache"))
    translator = i18n.install_translator(qapp, "en")
    assert translator is not None
    yield
    qapp.removeTranslator(translator)


@pytest.fixture
def terminal_config(tmp_path: Path) -> TerminalConfig:
    return TerminalConfig(
        data_dir=tmp_path,
        manager_pin_hash=PIN_HASH,
        printer=PrinterConfig(url="dummy://"),
        scanner=ScannerConfig(repeat_window_ms=0),
    )


class ShownTerminals:
    """Terminals shown at 1024x600 during one test, closed with their scan filters removed
    after it."""

    def __init__(self, qapp: QApplication) -> None:
        self.qapp = qapp
        self.built: list[Terminal] = []

    def show(self, terminal: Terminal) -> Terminal:
        terminal.window.resize(1024, 600)
        terminal.window.show()
        self.built.append(terminal)
        return terminal

    def close_all(self) -> None:
        for terminal in self.built:
            terminal.window.close()
            self.qapp.removeEventFilter(terminal.scan_filter)
            terminal.services.runner.wait(5000)


@pytest.fixture
def shown_terminals(qapp: QApplication) -> Iterator[ShownTerminals]:
    shown = ShownTerminals(qapp)
    yield shown
    shown.close_all()


@pytest.fixture
def make_terminal(
    qapp: QApplication,
    fake_api: FakeApi,
    receipt_log: ReceiptLog,
    terminal_config: TerminalConfig,
    shown_terminals: ShownTerminals,
) -> Callable[[str], Terminal]:
    """Build terminals on demand; each is closed and its filter removed after the test."""
    def build(lang: str = "ja") -> Terminal:
        apply_theme(qapp)
        terminal = build_terminal(
            qapp, terminal_config, fake_api, make_info(), lang, receipts=receipt_log, long_poll_s=1
        )
        return shown_terminals.show(terminal)

    return build


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    with PrinterEmulator(paper_width_mm=58, draw_images=False) as running:
        yield running


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[ReceiptJobs]:
    opened = open_receipt_jobs(tmp_path / "receipts")
    yield opened
    opened.close()


@pytest.fixture
def emulated_receipts(
    emulator: PrinterEmulator, jobs: ReceiptJobs, tmp_path: Path
) -> PrinterReceipts:
    """The real receipt printer, printing to the emulator with a 58 mm TM-T20II profile."""
    config = PrinterConfig(url=emulator.url, paper_width_mm=58, profile="TM-T20II")
    return PrinterReceipts(make_info(), config, jobs, lock_dir=tmp_path)
