from __future__ import annotations

import io
from pathlib import Path

import pytest
import segno
from PIL import Image, ImageOps

from drivers.scanner import decoders, qrimage
from terminal import emv


def _qr_image(text: str) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    buffer.seek(0)
    return Image.open(buffer)


def _payload() -> str:
    return emv.build_mpm_payload(
        merchant_name="CAFE YAMADA",
        merchant_city="AIZU",
        merchant_name_ja="カフェ山田",
        amount_yen=500,
        reference_label="pi_abc",
        terminal_label="T1",
        merchant_category_code="5814",
    )


def test_reads_utf8_payload() -> None:
    payload = _payload()
    assert qrimage.read_valid_qr(_qr_image(payload), emv.parse_payload) == payload


def test_reads_inverted_dark_mode_code() -> None:
    payload = _payload()
    inverted = ImageOps.invert(_qr_image(payload).convert("L"))
    assert qrimage.read_valid_qr(inverted, emv.parse_payload) == payload


def test_undoes_shift_jis_guess() -> None:
    text = "カフェ山田"
    mojibake = text.encode("utf-8").decode("shift_jis", errors="strict")
    candidates = decoders.text_candidates(mojibake.encode("utf-8"))
    assert text in candidates


def test_invalid_code_reports_reason() -> None:
    with pytest.raises(qrimage.QrImageError, match="not valid"):
        qrimage.read_valid_qr(_qr_image("hello"), emv.parse_payload)


def test_blank_image_says_no_code() -> None:
    blank = Image.new("L", (200, 200), 255)
    with pytest.raises(qrimage.QrImageError, match="no QR code"):
        qrimage.read_valid_qr(blank, emv.parse_payload)


def test_missing_file_named(tmp_path: Path) -> None:
    missing = tmp_path / "none.png"
    with pytest.raises(qrimage.QrImageError, match="does not exist"):
        qrimage.read_valid_qr_file(missing, emv.parse_payload)
