"""Cash out coin to yen: the balance, the price of one cash-out, and the request that books it.

``CashOutPresenter`` runs every call on a worker and reports by signal. A cash-out request
carries an idempotency key chosen before its first send. The key is kept until the outcome is
known: after a lost response (``Unreachable``, or a response this client cannot read) the
presenter shows 「結果を確認しています」 and sends the same request again with the same key until
the server answers, so the server books the cash-out once however many times it is sent. Only
an answer from the server (the booked cash-out or a rejection) releases the key. Leaving the
screen pauses the resending, and the next confirm sends the same request again.

The pending request is also written to the terminal database before its first send and
removed once the server has answered (``Store.open_cash_out``). A terminal restarted while a
request was unanswered finds it when the cash-out screen loads the balance, and sends it again
with the same key before anything else can be confirmed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from terminal import messages, protocol
from terminal.api_client import ApiError, Declined, Unreachable
from terminal.japan_time import to_japan_time
from terminal.protocol import ErrorCode
from terminal.store import Store, StoreError
from ui.errors import clerk_message
from ui.services import TerminalServices, new_idempotency_key
from ui.widgets import format_yen

log = logging.getLogger(__name__)

CONTEXT = "CashOut"
# Pause before a request whose outcome is unknown is sent again. Long enough for a network
# blip to pass, short enough that the manager is not left waiting.
RESEND_INTERVAL_MS = 3000
CASH_OUT_LIST_LIMIT = 50
# Cash-out amounts are typed on the keypad; eight digits cover any balance a shop holds.
MAX_CASH_OUT_DIGITS = 8
# The fee in the server's amount_below_fee message, as server/cashout.py words it.
FEE_IN_MESSAGE = re.compile(r"\bfee of (\d+) yen\b")

_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@runtime_checkable
class MoneyApi(Protocol):
    """The calls of ``terminal.api_client.ApiClient`` that the money screens make."""

    def merchant_balance(self) -> protocol.MerchantBalance: ...

    def preview_cash_out(self, amount_yen: int) -> protocol.CashOutPreview: ...

    def request_cash_out(self, amount_yen: int, idempotency_key: str) -> protocol.CashOut: ...

    def list_cash_outs(self, limit: int = 50) -> list[protocol.CashOut]: ...

    def statement_csv(self, month: str) -> str: ...


def money_api(services: TerminalServices) -> MoneyApi | None:
    """Return the terminal's API client when it makes the money calls, else None."""
    api = services.api
    return api if isinstance(api, MoneyApi) else None


# --- words for the screen --------------------------------------------------------------------


def format_date(day: date, lang: str) -> str:
    """Write ``day`` as 12月7日（月） in Japanese, or Mon 7 Dec in English."""
    if lang == "en":
        return f"{_WEEKDAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]}"
    return f"{day.month}月{day.day}日（{_WEEKDAYS_JA[day.weekday()]}）"


def payout_date_text(payout_date: str, lang: str, today: date) -> str:
    """Say when the money reaches the bank: today, or the next bank business day."""
    day = date.fromisoformat(payout_date)
    shown = format_date(day, lang)
    if day == today:
        return QCoreApplication.translate(CONTEXT, "本日 {date}").format(date=shown)
    return QCoreApplication.translate(CONTEXT, "{date}（次の銀行営業日）").format(date=shown)


def account_text(account: protocol.BankAccountSummary) -> str:
    """Describe the payout account by codes, type, last four digits and holder."""
    account_types = {
        1: QCoreApplication.translate(CONTEXT, "普通"),
        2: QCoreApplication.translate(CONTEXT, "当座"),
        4: QCoreApplication.translate(CONTEXT, "貯蓄"),
    }
    # A bank or branch missing from the server's code data is shown by its code.
    bank = account.bank_name or account.bank_code
    branch = account.branch_name or account.branch_code
    return QCoreApplication.translate(
        CONTEXT, "銀行 {bank}　支店 {branch}　{type} ****{last4}　{holder}"
    ).format(
        bank=bank, branch=branch,
        type=account_types[account.account_type], last4=account.account_number_last4,
        holder=account.holder_name,
    )


def status_text(cash_out: protocol.CashOut) -> str:
    """Name the cash-out's state in the manager's words, with the reason of a failure."""
    if cash_out.status == "failed":
        reason = cash_out.failure_reason or QCoreApplication.translate(CONTEXT, "理由不明")
        return QCoreApplication.translate(CONTEXT, "失敗（{reason}）").format(reason=reason)
    names = {
        "requested": QCoreApplication.translate(CONTEXT, "申請済み"),
        "in_file": QCoreApplication.translate(CONTEXT, "振込ファイル作成済み"),
        "paid": QCoreApplication.translate(CONTEXT, "入金済み"),
    }
    return names[cash_out.status]


def japan_today() -> date:
    return to_japan_time(datetime.now().astimezone()).date()


# --- presenter -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingRequest:
    """A cash-out sent at least once whose outcome is not known yet."""

    amount_yen: int
    idempotency_key: str


class CashOutPresenter(QObject):
    """Loads the balance, prices a cash-out and books it exactly once."""

    balance_loaded = Signal(object)  # protocol.MerchantBalance
    previewed = Signal(object)  # protocol.CashOutPreview
    rejected = Signal(str)  # what went wrong and what to do, for the amount or confirm screen
    checking = Signal(str)  # the outcome of a request is unknown; it is being sent again
    booked = Signal(object)  # protocol.CashOut
    list_loaded = Signal(list)  # list[protocol.CashOut], newest first
    list_failed = Signal(str)

    def __init__(
        self,
        services: TerminalServices,
        api: Callable[[], MoneyApi],
        parent: QObject | None = None,
        resend_interval_ms: int = RESEND_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._api = api
        self.balance: protocol.MerchantBalance | None = None
        self.preview: protocol.CashOutPreview | None = None
        self.pending: PendingRequest | None = None
        self._sending = False
        # True after stop(): a failed send is then not resent until the next confirm.
        self._paused = False
        self._resend_timer = QTimer(self)
        self._resend_timer.setSingleShot(True)
        self._resend_timer.setInterval(resend_interval_ms)
        self._resend_timer.timeout.connect(self._send_pending)

    @property
    def lang(self) -> str:
        return self._services.lang

    def load_balance(self) -> None:
        self.balance = None
        if self._refuse_offline():
            return
        api = self._api()
        self._services.runner.run(api.merchant_balance, self._on_balance, self._on_failed)
        self._restore_pending()

    def _restore_pending(self) -> None:
        """Pick up a request left unanswered by an earlier run of the terminal."""
        store = self._store()
        if store is None or self.pending is not None:
            return
        self._services.runner.run(store.pending_cash_out, self._on_restored, self._on_failed)

    def _on_restored(self, found: tuple[str, int] | None) -> None:
        if found is None or self.pending is not None:
            return
        key, amount_yen = found
        log.warning("cash-out %s of %d yen was left unanswered; sending it again", key, amount_yen)
        self.pending = PendingRequest(amount_yen, key)
        self.checking.emit(self.tr("前回の円への交換の結果を確認しています。画面はそのままでお待ちください"))
        self._paused = False
        self._send_pending()

    def _store(self) -> Store | None:
        parts = self._services.offline
        return None if parts is None else parts.store

    def request_preview(self, amount_yen: int) -> None:
        """Price a cash-out of ``amount_yen``; the server also checks the balance and the fee."""
        self.preview = None
        balance = self.balance
        if amount_yen < 1:
            return
        if balance is not None and amount_yen > balance.total_yen:
            self.rejected.emit(self._over_balance_text(balance.total_yen))
            return
        if self._refuse_offline():
            return
        api = self._api()
        self._services.runner.run(
            lambda: api.preview_cash_out(amount_yen), self._on_previewed, self._on_failed
        )

    def confirm(self) -> bool:
        """Book the previewed cash-out; a request still unresolved is resent instead."""
        self._paused = False
        if self._sending:
            return False
        if self.pending is None:
            if self.preview is None:
                return False
            self.pending = PendingRequest(self.preview.amount_yen, new_idempotency_key())
        self._send_pending()
        return True

    def load_list(self) -> None:
        api = self._api()
        self._services.runner.run(
            lambda: api.list_cash_outs(CASH_OUT_LIST_LIMIT),
            self.list_loaded.emit,
            lambda exc: self.list_failed.emit(self._message(exc)),
        )

    def stop(self) -> None:
        """Stop resending; the pending request and its key stay for the next confirm."""
        self._resend_timer.stop()
        self._paused = True

    # --- internals ---------------------------------------------------------------------

    def _send_pending(self) -> None:
        pending = self.pending
        if pending is None or self._sending:
            return
        self._sending = True
        api = self._api()
        store = self._store()
        log.info("requesting cash-out of %d yen, idempotency_key=%s", pending.amount_yen,
                 pending.idempotency_key)
        self._services.runner.run(
            lambda: _send_recorded(api, store, pending),
            self._on_booked,
            self._on_request_failed,
        )

    def _on_booked(self, cash_out: protocol.CashOut) -> None:
        self._sending = False
        self.pending = None
        self.preview = None
        self.booked.emit(cash_out)

    def _on_request_failed(self, exc: BaseException) -> None:
        self._sending = False
        if isinstance(exc, Declined):
            # The server responded with a rejection, so nothing was booked under this key. A new try
            # takes a new key.
            self.pending = None
            self.rejected.emit(self._message(exc))
            return
        if not isinstance(exc, ApiError):
            self.pending = None
            self.rejected.emit(self._message(exc))
            return
        log.warning("cash-out outcome unknown (%s); sending it again with the same key", exc)
        self.checking.emit(self.tr("結果を確認しています。画面はそのままでお待ちください"))
        if not self._paused:
            self._resend_timer.start()

    def _on_balance(self, balance: protocol.MerchantBalance) -> None:
        self.balance = balance
        self.balance_loaded.emit(balance)

    def _on_previewed(self, preview: protocol.CashOutPreview) -> None:
        self.preview = preview
        self.previewed.emit(preview)

    def _on_failed(self, exc: BaseException) -> None:
        self.rejected.emit(self._message(exc))

    def _refuse_offline(self) -> bool:
        if not self._services.is_offline():
            return False
        self.rejected.emit(self._needs_connection_text())
        return True

    def _message(self, exc: BaseException) -> str:
        if isinstance(exc, Declined) and exc.code == ErrorCode.INSUFFICIENT_FUNDS:
            balance = self.balance
            return self._over_balance_text(None if balance is None else balance.total_yen)
        if isinstance(exc, Declined) and exc.code == ErrorCode.AMOUNT_BELOW_FEE:
            return self._below_fee_text(exc)
        if isinstance(exc, Unreachable):
            return self._needs_connection_text()
        return clerk_message(exc, self.lang)

    def _below_fee_text(self, exc: Declined) -> str:
        fee_yen = fee_in_message(exc.message)
        if fee_yen is None:
            return clerk_message(exc, self.lang)
        return clerk_message(messages.CASH_OUT_BELOW_FEE, self.lang, fee=format_yen(fee_yen))

    def _needs_connection_text(self) -> str:
        return self.tr(
            "円への交換にはサーバーとの接続が必要です。ネットワークを確認し、つながってからもう一度お試しください"
        )

    def _over_balance_text(self, balance_yen: int | None) -> str:
        if balance_yen is None:
            return self.tr("金額が残高を超えています。残高以下の金額にしてください")
        return self.tr("金額が残高 {balance} を超えています。{balance} 以下にしてください").format(
            balance=format_yen(balance_yen)
        )


def _send_recorded(
    api: MoneyApi, store: Store | None, pending: PendingRequest
) -> protocol.CashOut:
    """Send a cash-out request, recorded in ``store`` until the server answers it.

    A failure to record it stops the send. A failure to remove the record after the answer is
    only logged: the request is then sent once more on the next load, and the server returns
    the same cash-out for the same key.
    """
    if store is not None:
        store.open_cash_out(pending.idempotency_key, pending.amount_yen, datetime.now(UTC))
    try:
        cash_out = api.request_cash_out(pending.amount_yen, pending.idempotency_key)
    except Declined:
        _forget(store, pending.idempotency_key)
        raise
    _forget(store, pending.idempotency_key)
    return cash_out


def _forget(store: Store | None, idempotency_key: str) -> None:
    if store is None:
        return
    try:
        store.close_cash_out(idempotency_key)
    except StoreError:
        log.exception("cash-out request %s could not be removed after the response", idempotency_key)


def fee_in_message(message: str) -> int | None:
    """Return the fee named in the server's ``amount_below_fee`` message, or None."""
    # NOTE: the error body has no fee field, so the fee is read from the server's text, e.g.
    # "cash-out of 300 yen does not cover its fee of 306 yen (...)". A reworded message falls
    # back to the text without the fee.
    match = FEE_IN_MESSAGE.search(message)
    return None if match is None else int(match.group(1))
