from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from drivers.printer import fonts
from drivers.printer.charmap import FALLBACK_CHAR, map_char
from drivers.printer.document import Document, Text
from drivers.printer.encoding import LineStyle, TextEncoder
from drivers.printer.errors import FontMissingError
from drivers.printer.profile import PAPERS, printer_profile
from drivers.printer.render import render

KANJI_HEADER = bytes.fromhex("1b40 1b5208 1b7401 1c4301")
AIZU_COIN_SJIS = bytes.fromhex("89ef 92c3 8352 8343 8393")


def _kanji_encoder(extended_kanji: bool = False) -> TextEncoder:
    return TextEncoder(printer_profile(extended_kanji=extended_kanji), PAPERS[80])


def _line(text: str) -> bytes:
    return _kanji_encoder().encode_line(text, LineStyle())


def test_job_starts_with_japanese_header() -> None:
    job = render(Document().add(Text("会津コイン")))
    assert job.startswith(KANJI_HEADER)


def test_ank_model_header_has_no_kanji_code_system() -> None:
    job = render(Document(), profile=printer_profile(kanji=False))
    assert job == bytes.fromhex("1b40 1b5208 1b7401")


def test_kanji_go_inside_kanji_mode_as_shift_jis() -> None:
    assert _line("会津コイン") == b"\x1c\x26" + AIZU_COIN_SJIS + b"\x1c\x2e\n"


def test_rendered_job_carries_aizu_coin_in_shift_jis() -> None:
    job = render(Document().add(Text("会津コイン")))
    assert b"\x1c\x26" + AIZU_COIN_SJIS + b"\x1c\x2e" in job
    assert bytes.fromhex("bbe1 bdf2 a5b3") not in job


def test_half_width_kana_single_bytes() -> None:
    assert _line("ｶﾌｪﾗﾃ") == bytes.fromhex("b6 cc aa d7 c3") + b"\n"


def test_kana_only_line_has_no_question_mark() -> None:
    encoded = _line("カフェラテ ｶﾌｪﾗﾃ")
    assert b"?" not in encoded
    assert bytes.fromhex("834a 8374 8346 8389 8365") in encoded


def test_mixed_line_switches_kanji_mode_per_run() -> None:
    assert _line("A会B") == b"A\x1c\x26\x89\xef\x1c\x2eB\n"


def test_yen_sign_is_0x5c_outside_kanji_mode() -> None:
    assert _line("¥480") == b"\x5c480\n"


def test_full_width_yen_is_818f_in_kanji_mode() -> None:
    assert _line("￥480") == b"\x1c\x26\x81\x8f\x1c\x2e480\n"


def test_backslash_never_sent_as_0x5c() -> None:
    encoded = _line("C:\\tmp")
    assert b"\x5c" not in encoded
    assert b"\x1c\x26\x81\x5f\x1c\x2e" in encoded


@pytest.mark.parametrize(
    ("source", "printed"),
    [("髙", "高"), ("﨑", "崎"), ("德", "徳"), ("麵", "麺"), ("〜", "～"), ("−", "－"), ("𠮷", "吉"), ("é", "e"), ("ⅲ", "iii")],
)
def test_substitutions_print_common_form(source: str, printed: str) -> None:
    encoder = _kanji_encoder()
    assert encoder.printable(source) == printed
    assert b"?" not in encoder.encode_line(source, LineStyle())


def test_extended_kanji_profile_prints_as_is() -> None:
    encoder = _kanji_encoder(extended_kanji=True)
    assert encoder.printable("髙﨑") == "髙﨑"
    assert encoder.encode_line("髙", LineStyle()) == b"\x1c\x26\xee\xe0\x1c\x2e\n"


def test_unprintable_character_uses_geta_mark() -> None:
    assert _kanji_encoder().printable("😀") == FALLBACK_CHAR
    assert _line("😀") == b"\x1c\x26\x81\xac\x1c\x2e\n"


def test_substitution_logs_warning_naming_character(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="drivers.printer.encoding"):
        _kanji_encoder().printable("髙橋")
    assert "U+9AD9" in caplog.text
    assert "髙" in caplog.text


def test_control_characters_are_dropped() -> None:
    assert _line("A\x1b@B") == b"A@B\n"


def test_circled_digit_maps_in_cp932() -> None:
    assert map_char("①").glyphs[0].data == b"\x87\x40"


def test_ank_model_prints_kanji_line_as_raster_image() -> None:
    encoder = TextEncoder(printer_profile(kanji=False), PAPERS[58])
    encoded = encoder.encode_line("会津コイン", LineStyle())
    assert encoded.startswith(b"\x1d\x76\x30\x00")
    assert int.from_bytes(encoded[4:6], "little") == 384 // 8
    assert int.from_bytes(encoded[6:8], "little") == 24
    assert b"\x1c\x26" not in encoded


def test_ank_model_prints_kana_line_as_text() -> None:
    encoder = TextEncoder(printer_profile(kanji=False), PAPERS[80])
    assert encoder.encode_line("ｶﾌｪﾗﾃ ¥480", LineStyle()) == bytes.fromhex("b6 cc aa d7 c3 20 5c 34 38 30 0a")


def test_missing_font_names_debian_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fonts, "KNOWN_FONT_PATHS", (tmp_path / "missing.ttc",))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    fonts.find_cjk_font.cache_clear()
    fonts.load_cjk_font.cache_clear()
    try:
        with pytest.raises(FontMissingError, match="fonts-noto-cjk"):
            fonts.find_cjk_font()
    finally:
        fonts.find_cjk_font.cache_clear()
        fonts.load_cjk_font.cache_clear()


def test_installed_font_is_noto_sans_cjk_jp() -> None:
    font = fonts.load_cjk_font(24)
    assert font.getname()[0] in fonts.PREFERRED_FAMILIES
