from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from drivers.printer.document import Columns, Cut, QrCode, Text
from drivers.printer.emulator import PrinterEmulator
from drivers.printer.render import render
from drivers.printer.testpage import build_test_page, print_test_main, print_test_page

NOW = datetime(2025, 4, 1, 9, 30, 15)


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    with PrinterEmulator() as running:
        yield running


def test_page_has_every_text_size() -> None:
    texts = [block for block in build_test_page(now=NOW).blocks if isinstance(block, Text)]
    sizes = {(block.double_width, block.double_height) for block in texts}
    assert sizes == {(False, False), (True, False), (False, True), (True, True)}


def test_page_has_date_and_paper_width() -> None:
    texts = [block.text for block in build_test_page(paper_width_mm=58, now=NOW).blocks if isinstance(block, Text)]
    assert any("2025-04-01 09:30:15" in text for text in texts)
    assert any("58 mm / 32桁" in text for text in texts)


def test_page_has_price_line_qr_and_cut() -> None:
    blocks = build_test_page(now=NOW).blocks
    assert any(isinstance(block, Columns) for block in blocks)
    assert any(isinstance(block, QrCode) for block in blocks)
    assert isinstance(blocks[-1], Cut)


def test_page_prints_both_yen_signs() -> None:
    job = render(build_test_page(now=NOW))
    assert b"\x5c1,990" in job
    assert b"\x1c\x26\x81\x8f\x1c\x2e1,990" in job


@pytest.mark.parametrize("paper_width_mm", [58, 80])
def test_page_reaches_emulator_intact(emulator: PrinterEmulator, paper_width_mm: int) -> None:
    print_test_page(emulator.url, paper_width_mm)
    job = emulator.wait_for_job()
    assert job.lines[0] == "印字テスト"
    assert "半角ｶﾅ: ｱｲｳｴｵ ｶﾌｪﾗﾃ ｶﾞｷﾞｸﾞ ｰ｡｢｣" in job.lines
    assert "円記号 半角: ¥1,990" in job.lines
    assert "円記号 全角: ￥1,990" in job.lines
    assert job.qr_data[0].startswith("CHIIKI-POS PRINT TEST ")
    assert job.ended_by_cut


def test_main_returns_zero_after_printing(emulator: PrinterEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert print_test_main(["--printer", emulator.url, "--paper-width", "58"]) == 0
    assert emulator.wait_for_job().lines[0] == "印字テスト"
    assert emulator.url in capsys.readouterr().out


def test_main_ank_only_sends_images(emulator: PrinterEmulator) -> None:
    assert print_test_main(["--printer", emulator.url, "--ank-only"]) == 0
    job = emulator.wait_for_job()
    assert b"\x1c\x26" not in job.raw
    assert b"\x1d\x76\x30" in job.raw


def test_main_reports_paper_end_in_japanese_then_english(
    emulator: PrinterEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.condition.paper_end = True
    assert print_test_main(["--printer", emulator.url]) == 1
    error = capsys.readouterr().err.strip()
    assert error == "テストページを印刷できません: プリンターの用紙がありません / The printer is out of paper"


def test_main_reports_unreachable_printer(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"network://127.0.0.1:{port}?timeout=2"
    assert print_test_main(["--printer", url]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("テストページを印刷できませんでした / Could not print the test page:")
    assert url in error
    assert len(error.splitlines()) == 1


def test_main_reports_invalid_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert print_test_main(["--printer", "lpt://1"]) == 1
    assert "'lpt'" in capsys.readouterr().err


def test_main_writes_to_file_printer(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    assert print_test_main(["--printer", f"file://{target}"]) == 0
    assert target.read_bytes().startswith(bytes.fromhex("1b40 1b5208 1b7401 1c4301"))


def test_main_rejects_other_paper_width() -> None:
    with pytest.raises(SystemExit) as raised:
        print_test_main(["--printer", "dummy://", "--paper-width", "72"])
    assert raised.value.code == 2


def test_price_column_uses_one_yen_sign() -> None:
    prices = [block.right for block in build_test_page(now=NOW).blocks if isinstance(block, Columns)]

    assert prices == ["￥1,990", "￥480", "￥2,470"]


def test_each_yen_sign_on_labelled_line() -> None:
    texts = [block.text for block in build_test_page(now=NOW).blocks if isinstance(block, Text)]
    yen_lines = [text for text in texts if "1,990" in text]

    assert yen_lines == ["円記号 半角: ¥1,990", "円記号 全角: ￥1,990"]


def test_main_error_printed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    assert print_test_main(["--printer", f"file://{tmp_path}/missing/lp0"]) == 1

    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
