"""QR frames for decoder and camera tests: segno-made codes and the photographs in tests/data."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from PIL import Image, ImageFilter, ImageOps

from terminal import emv

PHOTOS_DIR = Path(__file__).resolve().parents[2] / "data" / "qr-photos"
FRAME_SIZE_PX = (640, 480)
BACKGROUND_GRAY = 128


def qr_frame(text: str, module_px: int = 4, encoding: str | None = None) -> Image.Image:
    """Draw ``text`` as a QR code (error correction M) in the middle of a 640x480 gray frame."""
    buffer = io.BytesIO()
    code = segno.make(text, error="m", micro=False, encoding=encoding)
    code.save(buffer, kind="png", scale=module_px, border=4)
    buffer.seek(0)
    qr = Image.open(buffer).convert("L")
    frame = Image.new("L", FRAME_SIZE_PX, BACKGROUND_GRAY)
    frame.paste(qr, ((frame.width - qr.width) // 2, (frame.height - qr.height) // 2))
    return frame


def inverted(image: Image.Image) -> Image.Image:
    """Light-on-dark, as a wallet app in dark mode shows its code."""
    return ImageOps.invert(image.convert("L"))


def blurred(image: Image.Image, radius_px: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius_px))


def rotated(image: Image.Image, degrees: float) -> Image.Image:
    return image.rotate(degrees, Image.Resampling.BILINEAR, fillcolor=BACKGROUND_GRAY)


def emv_payload(merchant_name_ja: str = "カフェ山田") -> str:
    return emv.build_mpm_payload(
        merchant_name="CAFE YAMADA",
        merchant_city="AIZU",
        merchant_name_ja=merchant_name_ja,
        amount_yen=500,
        reference_label="pi_3f9a2c71d0b84e6a",
        terminal_label="T1",
        merchant_category_code="5814",
    )


def photo_names() -> list[str]:
    return sorted(path.stem for path in PHOTOS_DIR.glob("*.webp"))


def load_photo(name: str) -> tuple[Image.Image, str]:
    """Return the photograph ``name`` and the exact text its code contains."""
    expected = (PHOTOS_DIR / f"{name}.txt").read_bytes().decode("utf-8")
    with Image.open(PHOTOS_DIR / f"{name}.webp") as image:
        return image.convert("L"), expected
