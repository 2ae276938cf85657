"""QR decoders on camera-like frames: how many codes each reads, and the time per frame.

Frames:

- photos: the photographs under ``--photos`` (``NAME.webp`` with the expected content in
  ``NAME.txt``), read as they are.
- generated: payment codes and EMV merchant-presented payloads made with segno (error
  correction M, 4 px per module, quiet zone of 4 modules) on a 640x480 gray frame, then degraded
  with Pillow: Gaussian blur, Gaussian noise, downscaling to fewer pixels per module, colour
  inversion (dark mode) and rotation.

A frame counts as read when one reading of one code found equals the expected text. Each
decoder decodes every frame ``--repeat`` times, and the median time of each frame is kept. The
baseline in the same run is ``pyzbar.pyzbar.decode`` restricted to QR codes, as the image
reader called it before the decoders were added.

Run from the repository root: .venv/bin/python benchmarks/bench_decoders.py [--repeat N]
"""

from __future__ import annotations

import argparse
import functools
import io
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import segno
from PIL import Image, ImageChops, ImageFilter, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.scanner.decoders import QrDecoder, ZbarDecoder, ZxingDecoder  # noqa: E402
from terminal import emv, paycode  # noqa: E402

DEFAULT_PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "qr-photos"
FRAME_SIZE_PX = (640, 480)
MODULE_PX = 4
BACKGROUND_GRAY = 128
BLUR_RADII_PX = (1.0, 1.5, 2.0, 3.0)
NOISE_SIGMAS = (24, 48, 72)
# Pixels per module after downscaling the 4 px/module frame.
SMALL_MODULE_PX = (2.0, 1.5, 1.2)
ROTATIONS_DEG = (15, 45, 90)
NOISE_SEED = 20261204

Decode = Callable[[Image.Image], list[str]]


@dataclass(frozen=True)
class Frame:
    category: str
    name: str
    image: Image.Image
    expected: str


@dataclass
class Tally:
    """Frames read and the median decode time of each frame, for one decoder and category."""

    read: int = 0
    total: int = 0
    times_ms: list[float] = field(default_factory=list)

    def add(self, ok: bool, time_ms: float) -> None:
        self.read += ok
        self.total += 1
        self.times_ms.append(time_ms)


def photo_frames(folder: Path) -> Iterator[Frame]:
    for path in sorted(folder.glob("*.webp")):
        expected = path.with_suffix(".txt").read_bytes().decode("utf-8")
        with Image.open(path) as image:
            yield Frame("photo", path.stem, image.convert("L"), expected)


def fixed_payment_code(rng: random.Random) -> str:
    """Make a valid payment code from ``rng``, so every run draws the same codes."""
    digits = "".join(rng.choice("0123456789") for _ in range(paycode.RANDOM_DIGITS))
    body = paycode.CODE_PREFIX + digits
    # ISO 7064 MOD 97-10 check digits, as terminal.paycode computes them.
    code = body + f"{98 - int(body + '00') % 97:02d}"
    return paycode.validate_payment_code(code)


def payloads() -> list[tuple[str, str]]:
    rng = random.Random(NOISE_SEED)
    codes = [("paycode", fixed_payment_code(rng)) for _ in range(3)]
    emv_payloads = [
        (
            "emv",
            emv.build_mpm_payload(
                merchant_name=name,
                merchant_city="AIZU",
                merchant_name_ja=name_ja,
                amount_yen=amount_yen,
                reference_label=reference,
                terminal_label="T1",
                merchant_category_code="5814",
            ),
        )
        for name, name_ja, amount_yen, reference in (
            ("CAFE YAMADA", "カフェ山田", 500, "pi_3f9a2c71d0b84e6a"),
            ("SAKE SUZUKI", "鈴木酒店", 12800, "pi_81c0e5aa47f2d913"),
        )
    ]
    return codes + emv_payloads


def clean_frame(text: str) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=MODULE_PX, border=4)
    buffer.seek(0)
    code = Image.open(buffer).convert("L")
    frame = Image.new("L", FRAME_SIZE_PX, BACKGROUND_GRAY)
    frame.paste(code, ((FRAME_SIZE_PX[0] - code.width) // 2, (FRAME_SIZE_PX[1] - code.height) // 2))
    return frame


@functools.cache
def noise_field(size: tuple[int, int], sigma: float) -> Image.Image:
    """Gaussian noise around 128 from a fixed seed, so every run degrades frames alike."""
    rng = random.Random(NOISE_SEED)
    values = (round(128 + rng.gauss(0.0, sigma)) for _ in range(size[0] * size[1]))
    return Image.frombytes("L", size, bytes(min(255, max(0, value)) for value in values))


def add_noise(image: Image.Image, sigma: float) -> Image.Image:
    return ImageChops.add(image, noise_field(image.size, sigma), scale=1.0, offset=-128)


def degraded(clean: Image.Image) -> Iterator[tuple[str, str, Image.Image]]:
    """Yield (category, variant, frame) for every degradation of one clean frame."""
    yield "clean", "clean", clean
    for radius in BLUR_RADII_PX:
        yield "blur", f"blur{radius:g}", clean.filter(ImageFilter.GaussianBlur(radius))
    for sigma in NOISE_SIGMAS:
        yield "noise", f"noise{sigma}", add_noise(clean, sigma)
    for module_px in SMALL_MODULE_PX:
        scale = module_px / MODULE_PX
        size = (round(clean.width * scale), round(clean.height * scale))
        yield "small", f"small{module_px:g}", clean.resize(size, Image.Resampling.BILINEAR)
    inverted = ImageOps.invert(clean)
    yield "inverted", "inverted", inverted
    yield "inverted", "inverted+blur2", inverted.filter(ImageFilter.GaussianBlur(2.0))
    yield "inverted", "inverted+noise48", add_noise(inverted, 48)
    for degrees in ROTATIONS_DEG:
        rotated = clean.rotate(degrees, Image.Resampling.BILINEAR, fillcolor=BACKGROUND_GRAY)
        yield "rotated", f"rotated{degrees}", rotated


def generated_frames() -> Iterator[Frame]:
    for kind, text in payloads():
        for category, variant, image in degraded(clean_frame(text)):
            yield Frame(category, f"{kind}-{variant}", image, text)


def baseline_decode(image: Image.Image) -> list[str]:
    from pyzbar.pyzbar import ZBarSymbol, decode

    symbols = decode(image, symbols=[ZBarSymbol.QRCODE])
    return [symbol.data.decode("utf-8", "replace") for symbol in symbols]


def readings_of(decoder: QrDecoder) -> Decode:
    return lambda image: [text for code in decoder.decode(image) for text in code.candidates()]


def decoders() -> dict[str, Decode]:
    return {
        "baseline pyzbar.decode": baseline_decode,
        "ZbarDecoder, no inversion": readings_of(ZbarDecoder(try_invert=False)),
        "ZbarDecoder, inverted retry": readings_of(ZbarDecoder()),
        "ZxingDecoder": readings_of(ZxingDecoder()),
    }


def measure(decode: Decode, frame: Frame, repeat: int) -> tuple[bool, float]:
    times_ms: list[float] = []
    ok = False
    for _ in range(repeat):
        start = time.perf_counter()
        texts = decode(frame.image)
        times_ms.append((time.perf_counter() - start) * 1000.0)
        ok = frame.expected in texts
    return ok, statistics.median(times_ms)


def run(frames: list[Frame], repeat: int) -> dict[str, dict[str, Tally]]:
    """Decode every frame with every decoder, in turn per frame so drift hits all alike."""
    chosen = decoders()
    results: dict[str, dict[str, Tally]] = {label: {} for label in chosen}
    misses: dict[str, list[str]] = {label: [] for label in chosen}
    for frame in frames:
        for label, decode in chosen.items():
            ok, time_ms = measure(decode, frame, repeat)
            results[label].setdefault(frame.category, Tally()).add(ok, time_ms)
            results[label].setdefault("all", Tally()).add(ok, time_ms)
            if not ok:
                misses[label].append(frame.name)
    for label, names in misses.items():
        print(f"# {label} missed: {' '.join(names)}")
    return results


def print_tables(results: dict[str, dict[str, Tally]]) -> None:
    categories = [name for name in next(iter(results.values())) if name != "all"] + ["all"]
    print("| decoder | " + " | ".join(categories) + " |")
    print("| --- | " + " | ".join("---:" for _ in categories) + " |")
    for label, per_category in results.items():
        cells = [f"{per_category[c].read}/{per_category[c].total}" for c in categories]
        print(f"| {label} | " + " | ".join(cells) + " |")

    baseline = next(iter(results.values()))
    baseline_mean_ms = statistics.mean(baseline["all"].times_ms)
    print()
    print(
        "| decoder | photos, median (ms) | generated, median (ms) | all, mean (ms) "
        "| mean / baseline |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, per_category in results.items():
        photo_ms = statistics.median(per_category["photo"].times_ms)
        generated_ms = statistics.median(
            time_ms
            for category, tally in per_category.items()
            if category not in ("photo", "all")
            for time_ms in tally.times_ms
        )
        mean_ms = statistics.mean(per_category["all"].times_ms)
        print(
            f"| {label} | {photo_ms:.2f} | {generated_ms:.2f} | {mean_ms:.2f} "
            f"| {mean_ms / baseline_mean_ms:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="decodes of each frame per decoder")
    parser.add_argument(
        "--photos", type=Path, default=DEFAULT_PHOTOS, help="folder of NAME.webp and NAME.txt"
    )
    args = parser.parse_args()

    frames = list(photo_frames(args.photos)) + list(generated_frames())
    print(
        f"# {platform.machine()}, Python {platform.python_version()}, "
        f"{len(frames)} frames, repeat {args.repeat}"
    )
    print_tables(run(frames, args.repeat))


if __name__ == "__main__":
    main()
