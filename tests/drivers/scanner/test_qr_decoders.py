from __future__ import annotations

import importlib.abc
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

import pytest
from camera_qr_frames import (
    blurred,
    emv_payload,
    inverted,
    load_photo,
    photo_names,
    qr_frame,
    rotated,
)
from PIL import Image

from drivers.scanner import decoders, qrimage
from drivers.scanner.decoders import (
    DecoderUnavailableError,
    QrDecoder,
    ZbarDecoder,
    ZbarMissingError,
    ZxingDecoder,
    open_decoder,
    text_candidates,
)
from terminal import emv
from terminal.paycode import new_payment_code, validate_payment_code

DECODER_NAMES = ["zbar", "zxing"]
# zbar 0.23.92 finds no code in this photograph (strong perspective), but zxing-cpp does.
ZBAR_UNREADABLE_PHOTOS = {"qrcode-3__03"}


def _readings(decoder: QrDecoder, image: Image.Image) -> list[str]:
    return [text for code in decoder.decode(image) for text in code.candidates()]


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_decoder_reads_payment_code(name: decoders.DecoderName) -> None:
    code = new_payment_code()
    found = decoders.create_decoder(name).decode(qr_frame(code))

    assert [result.text for result in found] == [code]
    assert [result.raw for result in found] == [code.encode("ascii")]
    assert found[0].decoder == name


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_decoder_reads_emv_payload_with_kanji(name: decoders.DecoderName) -> None:
    payload = emv_payload()
    decoder = decoders.create_decoder(name)

    assert qrimage.read_valid_qr(qr_frame(payload), emv.parse_payload, decoder) == payload


@pytest.mark.parametrize("payload", ["カフェ山田", emv_payload("鈴木酒店")])
@pytest.mark.parametrize("name", DECODER_NAMES)
def test_utf8_byte_mode_has_no_mojibake(name: decoders.DecoderName, payload: str) -> None:
    found = decoders.create_decoder(name).decode(qr_frame(payload, encoding="utf-8"))

    assert [result.raw for result in found] == [payload.encode("utf-8")]
    assert found[0].text == payload


def test_zbar_text_mode_garbles_utf8() -> None:
    # Why ZbarDecoder requests binary data: in text mode zbar 0.23 guesses Shift_JIS for
    # this short UTF-8 text and returns UTF-8 of the wrong characters.
    from pyzbar.pyzbar import ZBarSymbol, decode

    payload = "カフェ山田"
    symbols = decode(qr_frame(payload, encoding="utf-8"), symbols=[ZBarSymbol.QRCODE])
    garbled = symbols[0].data.decode("utf-8")

    assert garbled != payload
    assert payload in text_candidates(symbols[0].data)


def test_text_candidates_read_shift_jis_bytes() -> None:
    assert text_candidates("カフェ山田".encode("shift_jis"))[0] == "カフェ山田"
    assert text_candidates("カフェ山田".encode("utf-8"))[0] == "カフェ山田"
    assert text_candidates(b"91234")[0] == "91234"


def test_zbar_needs_inverted_retry_for_dark_mode() -> None:
    code = new_payment_code()
    dark = inverted(qr_frame(code))

    assert ZbarDecoder(try_invert=False).decode(dark) == []
    assert [result.text for result in ZbarDecoder().decode(dark)] == [code]


def test_zxing_reads_dark_mode_code() -> None:
    code = new_payment_code()

    assert [result.text for result in ZxingDecoder().decode(inverted(qr_frame(code)))] == [code]


@pytest.mark.parametrize(
    ("label", "degrade"),
    [
        ("blur 1 px", lambda image: blurred(image, 1.0)),
        ("rotated 45 degrees", lambda image: rotated(image, 45)),
        ("rotated 90 degrees", lambda image: rotated(image, 90)),
        ("dark mode, blur 1 px", lambda image: blurred(inverted(image), 1.0)),
    ],
)
@pytest.mark.parametrize("name", DECODER_NAMES)
def test_decoder_reads_degraded_payment_code(
    name: decoders.DecoderName, label: str, degrade: object
) -> None:
    code = new_payment_code()
    assert callable(degrade)
    frame = degrade(qr_frame(code))

    assert code in _readings(decoders.create_decoder(name), frame), label


def test_zxing_reads_small_emv_payload() -> None:
    # 1.5 px per module: zbar 0.23.92 misses this frame, zxing-cpp reads it.
    payload = emv_payload()
    frame = qr_frame(payload, module_px=4)
    small = frame.resize((frame.width * 3 // 8, frame.height * 3 // 8), Image.Resampling.BILINEAR)

    assert payload in _readings(ZxingDecoder(), small)


@pytest.mark.parametrize("photo", photo_names())
def test_zxing_reads_photo(photo: str) -> None:
    image, expected = load_photo(photo)
    assert expected in _readings(ZxingDecoder(), image)


@pytest.mark.parametrize(
    "photo", [name for name in photo_names() if name not in ZBAR_UNREADABLE_PHOTOS]
)
def test_zbar_reads_photo(photo: str) -> None:
    image, expected = load_photo(photo)
    assert expected in _readings(ZbarDecoder(), image)


def test_photo_set_is_present() -> None:
    assert len(photo_names()) == 26


# --- missing libraries -------------------------------------------------------------------


class _BrokenLibraryFinder(importlib.abc.MetaPathFinder):
    """Fails the import of one module the way ctypes fails on a broken shared library."""

    def __init__(self, module: str) -> None:
        self.module = module

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname == self.module:
            raise OSError("libzbar.so.0: cannot open shared object file: No such file or directory")
        return None


def _hide_module(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # A None entry in sys.modules makes `import name` raise ImportError.
    monkeypatch.setitem(sys.modules, name, None)


def test_zbar_missing_raises_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_module(monkeypatch, "pyzbar.wrapper")

    with pytest.raises(ZbarMissingError, match="libzbar0"):
        ZbarDecoder()


def test_broken_zbar_library_raises_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "pyzbar.wrapper", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_BrokenLibraryFinder("pyzbar.wrapper"), *sys.meta_path])

    with pytest.raises(ZbarMissingError, match="cannot open shared object file"):
        ZbarDecoder()


def test_zxing_takes_over_without_zbar(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _hide_module(monkeypatch, "pyzbar.wrapper")
    code = new_payment_code()

    with caplog.at_level(logging.WARNING, logger="drivers.scanner.decoders"):
        decoder = open_decoder("zbar")

    assert decoder.name == "zxing"
    assert "QR decoder zbar is unavailable, using zxing" in caplog.text
    assert [result.text for result in decoder.decode(qr_frame(code))] == [code]


def test_zbar_takes_over_without_zxing(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_module(monkeypatch, "zxingcpp")

    assert open_decoder("auto").name == "zbar"


def test_no_decoder_lists_both_fixes(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_module(monkeypatch, "pyzbar.wrapper")
    _hide_module(monkeypatch, "zxingcpp")

    with pytest.raises(DecoderUnavailableError) as raised:
        open_decoder("auto")

    assert "libzbar0" in str(raised.value)
    assert "zxing-cpp" in str(raised.value)


def test_image_reader_works_without_zbar(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_module(monkeypatch, "pyzbar.wrapper")
    monkeypatch.setattr(qrimage, "_default_decoder", None)
    code = new_payment_code()

    assert qrimage.read_valid_qr(qr_frame(code), validate_payment_code) == code


def test_auto_prefers_default_decoder() -> None:
    assert open_decoder("auto").name == decoders.DEFAULT_DECODER
