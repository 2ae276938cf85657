"""Switch the terminal between sales and the stamp rally booth, behind the technician PIN.

The page is a confirmation screen. It shows what the switch changes. Before a switch to the
booth it asks the server whether this terminal is a booth of a rally that is running or about
to start (``terminal.stamps.check_booth``). Confirming writes ``mode`` to the config file with
``terminal.config.write_config`` and then lets the running window show the other screen, so no
restart is needed.

Unsent payments and stamps do not stop a switch. Both wait in the terminal database, and the
one sync worker sends both kinds in either mode.
"""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from terminal.config import ConfigError, TerminalConfig, with_mode, write_config
from terminal.stamps import BoothCheck, BoothStatus
from ui.technician.common import Page
from ui.technician.context import TechnicianContext
from ui.widgets import styled_label
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

SALE = "sale"
STAMP = "stamp"


class ModeSwitchHost(Protocol):
    """The running window's side of a switch; ``ui.mode_switch.ModeSwitcher`` implements it."""

    def busy_reason(self) -> str | None:
        """Return why the window cannot switch now, in the screen's language, or None."""

    def waiting_counts(self) -> tuple[int, int]:
        """Return the unsent payments and unsent stamps the sync worker last reported."""

    def check_booth(self) -> BoothCheck:
        """Ask the server whether this terminal is a rally booth; blocking."""

    def switch_to(self, mode: str) -> None:
        """Show the screen of ``mode``, after the config file has been written."""


class ModePage(Page):
    """Confirms a switch to the other mode and carries it out."""

    def __init__(
        self, context: TechnicianContext, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__("", parent)
        self._context = context
        self._runner = runner
        self.target = STAMP
        self.summary = styled_label("", "lines", self)
        self.summary.setObjectName("mode_summary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.booth = styled_label("", "lines", self)
        self.booth.setObjectName("mode_booth")
        self.booth.setTextFormat(Qt.TextFormat.PlainText)
        self.waiting = styled_label("", "caption", self)
        self.waiting.setObjectName("mode_waiting")
        self.body.addWidget(self.summary)
        self.body.addWidget(self.booth)
        self.body.addStretch(1)
        self.body.addWidget(self.waiting)
        self.confirm_button = self.add_button("", "primary")
        self.confirm_button.setObjectName("mode_confirm")
        self.confirm_button.clicked.connect(self.confirm)

    # --- preparing -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Show what switching to the other mode does; for the booth, check with the server."""
        self.target = SALE if self._context.config.mode == STAMP else STAMP
        self.booth.setText("")
        self.confirm_button.setEnabled(False)
        self.show_message("")
        self._show_target_texts()

        host = self._context.modes
        if host is None:
            self.show_message(self.tr("この画面からは切り替えられません。端末を起動し直してください"))
            return
        self._show_waiting(host)
        if self._refused(host):
            return
        if self.target == SALE:
            self.confirm_button.setEnabled(True)
            return

        self.booth.setText(self.tr("この端末がスタンプラリーのブースか、サーバーに確認しています…"))
        self._runner.run(host.check_booth, self._on_checked, self._on_check_failed)

    def _show_target_texts(self) -> None:
        if self.target == STAMP:
            self.title.setText(self.tr("スタンプラリー受付にする"))
            self.confirm_button.setText(self.tr("スタンプラリー受付にする"))
            self.summary.setText(self.tr(
                "この端末をスタンプラリーの受付にします。\n"
                "・画面がスタンプの受付に変わり、お会計はできなくなります\n"
                "・設定ファイルに保存するので、再起動してもスタンプの受付で開きます\n"
                "・保守メニューの「お会計に戻す」で、いつでも戻せます"))
        else:
            self.title.setText(self.tr("お会計に戻す"))
            self.confirm_button.setText(self.tr("お会計に戻す"))
            self.summary.setText(self.tr(
                "この端末をお会計の画面に戻します。\n"
                "・スタンプの受付は終わり、スタンプラリーのコードを読んでもスタンプは押されません\n"
                "・設定ファイルに保存するので、再起動してもお会計の画面で開きます"))

    def _show_waiting(self, host: ModeSwitchHost) -> None:
        payments, stamps = host.waiting_counts()
        if payments == 0 and stamps == 0:
            self.waiting.setText(self.tr("未送信のお支払いとスタンプはありません"))
            return
        self.waiting.setText(self.tr(
            "未送信のお支払い {payments}件・スタンプ {stamps}件は、"
            "切り替えたあとも自動で送信を続けます").format(payments=payments, stamps=stamps))

    def _refused(self, host: ModeSwitchHost) -> bool:
        reason = host.busy_reason()
        if reason is None:
            return False
        self.show_message(reason)
        self.confirm_button.setEnabled(False)
        return True

    def _on_checked(self, check: object) -> None:
        assert isinstance(check, BoothCheck)
        if self.target != STAMP:
            return
        self.booth.setText(self.booth_text(check))
        self.confirm_button.setEnabled(check.can_stamp)
        log.info("booth check before switching to the stamp screen: %s", check.status)

    def _on_check_failed(self, exc: BaseException) -> None:
        log.error("checking the rally booth failed", exc_info=exc)
        self.booth.setText(self.tr("ブースの確認に失敗しました: {error}").format(error=exc))

    def booth_text(self, check: BoothCheck) -> str:
        """Describe the outcome of the booth check to the person switching."""
        rally = check.rally
        if check.status is BoothStatus.NOT_A_BOOTH:
            return self.tr(
                "この端末（端末ID {terminal}）は、どのスタンプラリーのブースにも登録されていません。"
                "運営事務局にブースとして登録してもらってから、もう一度開いてください"
            ).format(terminal=self._context.terminal_id)
        if check.status is BoothStatus.UNKNOWN or rally is None:
            return self.tr(
                "サーバーにつながらないため、この端末がブースか確認できません。"
                "ネットワークにつないでから、もう一度開いてください")
        if check.status is BoothStatus.ENDED:
            return self.tr(
                "この端末のスタンプラリー「{rally}」は {end} に終わりました。"
                "次のラリーのブースにするときは、運営事務局に登録を頼んでください"
            ).format(rally=rally.name, end=rally.ends_on)
        text = self.tr("ブース：{rally}　{booth}\n期間 {start} 〜 {end}").format(
            rally=rally.name, booth=rally.booth_name, start=rally.starts_on, end=rally.ends_on)
        if check.status is BoothStatus.UPCOMING:
            text += "\n" + self.tr("まだ始まっていません。{start} からスタンプを押せます").format(
                start=rally.starts_on)
        if check.from_cache:
            text += "\n" + self.tr("サーバーにつながらないため、前回受け取った情報です")
        return text

    # --- switching -------------------------------------------------------------------------

    def confirm(self) -> None:
        """Write the new mode to the config file, then switch the window."""
        host = self._context.modes
        path = self._context.config_path
        if host is None or self._refused(host):
            return
        if path is None:
            self.show_message(self.tr("設定ファイルの場所が決まっていないため保存できません"))
            return
        config = with_mode(self._context.config, self.target)
        self.confirm_button.setEnabled(False)
        self.show_message(self.tr("設定を保存しています…"))
        self._runner.run(lambda: write_config(config, path), self._on_saved, self._on_save_failed)

    def _on_saved(self, written: object) -> None:
        assert isinstance(written, TerminalConfig)
        self._context.config = written
        log.info("saved mode %s to %s", written.mode, written.source)
        self.show_message(self.tr("切り替えました"))
        host = self._context.modes
        if host is not None:
            host.switch_to(written.mode)

    def _on_save_failed(self, exc: BaseException) -> None:
        self.confirm_button.setEnabled(True)
        if isinstance(exc, ConfigError | OSError):
            self.show_message(self.tr("保存できませんでした: {error}").format(error=exc))
            return
        log.error("saving the terminal mode failed", exc_info=exc)
        self.show_message(self.tr("処理に失敗しました: {error}").format(error=exc))
