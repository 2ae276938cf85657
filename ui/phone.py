"""The demo's customer phone: a wallet window that pays the terminal's QR or shows a code.

It replaces the wallet app in the demo and calls the server through
``server.wallet_cli.WalletClient`` on worker threads. 「QRを読み取る」 takes a picture of the terminal window
and decodes the QR in it with zbar, as a phone camera would. 「スキャナーで読み取る」 types the
payment code into the application as a keyboard-wedge scanner does: one key event per
character and Enter, back to back, so the scan goes through the same filter as real scans.
「オフライン用コードを表示」 shows a code the terminal can verify without the server. The first
time, the phone gets an offline certificate from the server; every code after that is made on
the phone alone. The offline key, certificate and last counter are kept in one file of the
demo's data directory, because the server issues one active certificate per wallet and a demo
restarted on the same directory must keep using the key it names. The counter is saved before
a code is shown, so a crash can skip a counter but never reuse one.
「クーポン付きコードを表示」 shows a fresh payment code and the wallet's first usable coupon in
one QR code (``terminal.coupon_pairing``), so one scan pays and applies the coupon.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QVBoxLayout, QWidget

from drivers.scanner.qrimage import QrImageError, read_valid_qr
from server import wallet_paired
from server.wallet_cli import OfflineWallet, WalletClient, WalletDeclined, WalletError
from terminal import emv, protocol
from ui.qr import QrView
from ui.widgets import big_button, format_yen, styled_label
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

# A redemption over loopback takes well under a second; the phone reads its balance after that.
BALANCE_REFRESH_MS = 1500
# The offline allowance the demo phone reserves: enough for a few demo payments, and under the
# server's default cap of 30,000 yen.
DEMO_OFFLINE_ALLOWANCE_YEN = 10_000
# At error correction level M (segno 1.6), the demo coupon paired with a payment code (307
# characters) is QR version 10, and an offline code (336 characters) is version 11. With the
# quiet zone they are 65 and 69 modules wide, so 150 px draws either at 2 px per module. This
# leaves room in the phone's 760-pixel height for five buttons above the code.
CODE_VIEW_MIN_SIDE_PX = 150


def load_offline_wallet(path: Path) -> OfflineWallet:
    """Read the wallet from ``path``, or make a new key when the file does not exist yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return OfflineWallet.generate()
    except (OSError, ValueError) as exc:
        raise WalletError(f"the demo offline wallet in {path} cannot be read: {exc}") from exc
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(data["private_key"]))
    certificate = data.get("certificate")
    raw_certificate = base64.b64decode(certificate) if certificate else None
    return OfflineWallet(key, raw_certificate, int(data.get("counter", 0)))


def save_offline_wallet(path: Path, wallet: OfflineWallet) -> None:
    certificate = wallet.certificate
    data = {
        "private_key": base64.b64encode(wallet.private_key.private_bytes_raw()).decode("ascii"),
        "certificate": base64.b64encode(certificate).decode("ascii") if certificate else None,
        "counter": wallet.counter,
    }
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data), encoding="utf-8")
    os.replace(partial, path)


def next_offline_code(client: WalletClient, wallet: OfflineWallet, path: Path | None) -> str:
    """Return a fresh offline code, first getting a certificate from the server if needed.

    Blocking: the certificate request goes to the server.
    """
    now = datetime.now(UTC)
    body = wallet.certificate_body
    if body is None or body.valid_until <= now:
        credentials = client.credentials
        if credentials is None:
            raise WalletError("the demo wallet has no credentials")
        issued = client.offline_certificate(
            DEMO_OFFLINE_ALLOWANCE_YEN, wallet.private_key.public_key()
        )
        wallet.install_certificate(issued, credentials.wallet_id)
        log.info("demo phone received offline certificate %d", issued.serial)
    counter = wallet.take_counter(now)
    if path is not None:
        save_offline_wallet(path, wallet)
    return wallet.make_code(counter, now)


@dataclass(frozen=True)
class CouponPairedCode:
    """A payment code joined with one coupon, and that coupon's terms for the caption."""

    text: str
    coupon: protocol.WalletCoupon


def next_coupon_paired_code(client: WalletClient) -> CouponPairedCode | None:
    """Return a fresh payment code paired with the first usable coupon, or None without one.

    Blocking: both requests go to the server. The coupons are read first, so a wallet without a
    usable coupon spends no payment code.
    """
    coupon = next((c for c in client.coupons() if c.status == "usable"), None)
    if coupon is None:
        return None
    code = client.payment_code()
    return CouponPairedCode(wallet_paired.paired_code(code.code, coupon), coupon)


def qimage_to_pil(image: QImage) -> Image.Image:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    data = bytes(rgb.constBits())[: rgb.sizeInBytes()]
    return Image.frombuffer("RGB", (rgb.width(), rgb.height()), data, "raw", "RGB", rgb.bytesPerLine(), 1)


def type_as_scanner(target: QWidget, text: str) -> None:
    """Post ``text`` and Enter as key events, as fast as a wedge scanner types them."""
    for char in text:
        key = Qt.Key(ord(char)) if char.isascii() and char.isalnum() else Qt.Key.Key_unknown
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QCoreApplication.postEvent(target, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char))
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QCoreApplication.postEvent(
            target, QKeyEvent(kind, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, "\r")
        )


class PhoneWindow(QWidget):
    """The customer's wallet: balance, pay a QR, show a one-time payment code."""

    def __init__(
        self,
        wallet: WalletClient,
        runner: TaskRunner,
        camera_target: Callable[[], QWidget],
        parent: QWidget | None = None,
        offline_wallet_path: Path | None = None,
    ) -> None:
        """``offline_wallet_path`` keeps the offline key and certificate across demo runs."""
        super().__init__(parent)
        self.setWindowTitle(self.tr("お客様のスマートフォン（デモ）"))
        self._wallet = wallet
        self._runner = runner
        self._camera_target = camera_target
        self._code = ""
        self._offline_wallet_path = offline_wallet_path
        self._offline_busy = False
        self._offline_wallet: OfflineWallet | None = None

        self.balance = styled_label("", "amount")
        self.balance.setObjectName("phone_balance")
        self.balance.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = styled_label("", "hint")
        self.status.setObjectName("phone_status")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_view = QrView(self, min_side_px=CODE_VIEW_MIN_SIDE_PX)
        self.code_digits = styled_label("", "caption")
        self.code_digits.setObjectName("phone_code_digits")
        self.code_digits.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scan_qr_button = big_button(self.tr("QRを読み取る"), "primary")
        self.scan_qr_button.clicked.connect(self.pay_terminal_qr)
        self.show_code_button = big_button(self.tr("支払いコードを表示"), "primary")
        self.show_code_button.clicked.connect(self.show_payment_code)
        self.show_offline_code_button = big_button(self.tr("オフライン用コードを表示"))
        self.show_offline_code_button.setObjectName("phone_offline_code")
        self.show_offline_code_button.clicked.connect(self.show_offline_code)
        self.show_coupon_code_button = big_button(self.tr("クーポン付きコードを表示"))
        self.show_coupon_code_button.setObjectName("phone_coupon_code")
        self.show_coupon_code_button.clicked.connect(self.show_coupon_code)
        self.wedge_button = big_button(self.tr("スキャナーで読み取る"))
        self.wedge_button.setEnabled(False)
        self.wedge_button.clicked.connect(self.scan_code_at_terminal)

        # The caption sits beside the balance, so the phone's 760-pixel height has room for
        # the QR of an offline code or a paired code between the buttons.
        balance_row = QHBoxLayout()
        balance_row.addWidget(styled_label(self.tr("残高"), "hint"))
        balance_row.addWidget(self.balance, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(balance_row)
        layout.addWidget(self.scan_qr_button)
        layout.addWidget(self.show_code_button)
        layout.addWidget(self.show_offline_code_button)
        layout.addWidget(self.show_coupon_code_button)
        layout.addWidget(self.code_view, 1)
        layout.addWidget(self.code_digits)
        layout.addWidget(self.wedge_button)
        layout.addWidget(self.status)
        self.refresh_balance()

    # --- balance ---------------------------------------------------------------------------

    def refresh_balance(self) -> None:
        self._runner.run(self._wallet.balance, self._show_balance, self._show_error)

    def _show_balance(self, balance: protocol.Balance) -> None:
        self.balance.setText(format_yen(balance.total_yen))

    # --- paying the terminal's QR ----------------------------------------------------------

    def pay_terminal_qr(self) -> None:
        """Photograph the terminal window, decode its QR and pay the intent it names."""
        picture = qimage_to_pil(self._camera_target().grab().toImage())
        self.status.setText(self.tr("QRコードを読み取っています…"))
        wallet = self._wallet

        def read_and_pay() -> protocol.Payment:
            payload = read_valid_qr(picture, emv.parse_payload)
            return wallet.pay_payload(payload)

        self._runner.run(read_and_pay, self._paid, self._show_error)

    def _paid(self, payment: protocol.Payment) -> None:
        self.status.setText(self.tr("{amount} を支払いました").format(amount=format_yen(payment.amount_yen)))
        self.refresh_balance()

    # --- payment code ----------------------------------------------------------------------

    def show_payment_code(self) -> None:
        self._runner.run(self._wallet.payment_code, self._show_code, self._show_error)

    def _show_code(self, code: protocol.PaymentCode) -> None:
        self._display_code(code.code)
        groups = [code.code[i : i + 4] for i in range(0, len(code.code), 4)]
        self.code_digits.setText(" ".join(groups))
        self.code_digits.setStyleSheet("font-size: 18pt; font-weight: bold; color: black;")
        self.wedge_button.setEnabled(True)
        self.status.setText(self.tr("お店の人にコードを読み取ってもらってください"))

    # --- payment code with a coupon ----------------------------------------------------------

    def show_coupon_code(self) -> None:
        """Show a fresh payment code joined with the wallet's first usable coupon."""
        self.wedge_button.setEnabled(False)
        self.status.setText(self.tr("クーポン付きコードを準備しています…"))
        wallet = self._wallet
        self._runner.run(
            lambda: next_coupon_paired_code(wallet), self._show_coupon_code, self._show_error
        )

    def _show_coupon_code(self, paired: CouponPairedCode | None) -> None:
        if paired is None:
            # The message needs more lines than the status has beside a QR, so the empty QR
            # area is hidden until the next code.
            self._display_code("")
            self.code_digits.setText("")
            self.status.setText(self.tr(
                "使えるクーポンがありません。デモのクーポンは使用済みです。"
                "デモを起動し直すと、新しいクーポンが届きます"
            ))
            return
        self._display_code(paired.text)
        self.code_digits.setText(self.tr("クーポン「{title}」付き").format(title=paired.coupon.title))
        self.code_digits.setStyleSheet("font-size: 16pt; font-weight: bold; color: black;")
        self.wedge_button.setEnabled(True)
        self.status.setText(self.tr("{minimum}以上で使えます。お店の人に読み取ってもらってください").format(
            minimum=format_yen(paired.coupon.minimum_spend_yen)
        ))

    # --- offline code ----------------------------------------------------------------------

    @property
    def code(self) -> str:
        """The code on the screen, online or offline; empty before one is shown."""
        return self._code

    def show_offline_code(self) -> None:
        """Show a fresh offline code, getting the offline certificate first if there is none."""
        if self._offline_busy:
            return
        self._offline_busy = True
        self.wedge_button.setEnabled(False)
        self.status.setText(self.tr("オフライン用コードを準備しています…"))
        wallet = self._wallet
        path = self._offline_wallet_path
        in_memory = self._memory_wallet() if path is None else None

        def make_code() -> str:
            if path is not None:
                return next_offline_code(wallet, load_offline_wallet(path), path)
            assert in_memory is not None
            return next_offline_code(wallet, in_memory, None)

        self._runner.run(make_code, self._show_offline_code, self._offline_failed)

    def _memory_wallet(self) -> OfflineWallet:
        if self._offline_wallet is None:
            self._offline_wallet = OfflineWallet.generate()
        return self._offline_wallet

    def _show_offline_code(self, code: str) -> None:
        self._offline_busy = False
        self._display_code(code)
        self.code_digits.setText(
            self.tr("オフライン用コード（{length}文字）").format(length=len(code))
        )
        self.code_digits.setStyleSheet("font-size: 16pt; font-weight: bold; color: black;")
        self.wedge_button.setEnabled(True)
        self.status.setText(
            self.tr("お店の人に読み取ってもらってください（オフライン用）")
        )

    def _offline_failed(self, exc: BaseException) -> None:
        self._offline_busy = False
        self._show_error(exc)

    def _display_code(self, text: str) -> None:
        self._code = text
        self.code_view.set_data(text)
        self.code_view.setVisible(bool(text))

    def scan_code_at_terminal(self) -> None:
        """Deliver the shown code to the terminal the way a keyboard-wedge scanner does."""
        if not self._code:
            return
        target = QApplication.focusWidget() or self._camera_target()
        type_as_scanner(target, self._code)
        # The balance changes once the terminal has redeemed the code.
        QTimer.singleShot(BALANCE_REFRESH_MS, self.refresh_balance)

    def _show_error(self, exc: BaseException) -> None:
        if isinstance(exc, QrImageError):
            self.status.setText(self.tr("QRコードが見つかりません。端末にQRコードを表示してください"))
        elif isinstance(exc, WalletDeclined):
            self.status.setText(self.tr("お支払いできませんでした（{reason}）").format(reason=exc.code))
        elif isinstance(exc, WalletError):
            log.warning("wallet request failed: %s", exc)
            self.status.setText(self.tr("サーバーに接続できませんでした"))
        else:
            log.error("wallet action failed", exc_info=exc)
            self.status.setText(self.tr("エラーが発生しました"))
