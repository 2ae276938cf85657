"""Receipt print jobs with the printer's native QR command against a QR sent as an image.

Each case renders one payment receipt (``terminal.receipt.payment_receipt``: header, items, tax
per rate, the transaction id as a QR code, cut) with ``drivers.printer.render.render``:

- native: a kanji profile with native QR (TM-T20II), so the QR goes as GS ( k, a few dozen bytes;
- image: the same profile with native QR turned off, so the QR goes as a GS v 0 raster image;
- no QR: the same receipt without its QR block, the baseline in the same run.

Each receipt is also measured with a longer QR payload (an EMV merchant-presented payload of
about 150 bytes) to show how the image grows with the symbol version. Sizes are exact byte
counts. Render times are the median of ``--repeat`` renders. The transfer time is computed, not
measured: bytes x 10 bits / baud for a serial printer at 9600 and 115200 baud (one start and one
stop bit per byte).

Run from the repository root: .venv/bin/python benchmarks/bench_receipt_size.py [--repeat N]
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.printer.document import Document, QrCode  # noqa: E402
from drivers.printer.profile import PrinterProfile, printer_profile  # noqa: E402
from drivers.printer.render import render  # noqa: E402
from terminal import emv, protocol  # noqa: E402
from terminal.receipt import payment_receipt  # noqa: E402

SERIAL_BAUDS = (9600, 115200)
TERMINAL = protocol.TerminalInfo(
    terminal_id="term-0001",
    label="レジ1",
    max_amount_yen=100_000,
    merchant=protocol.MerchantInfo(
        merchant_id="m-1",
        name="さくら商店",
        name_ascii="SAKURA SHOTEN",
        city_ascii="KAMAKURA",
        address="神奈川県鎌倉市小町1-2-3",
        phone="0467-00-0000",
        invoice_registration_number="T7000012050002",
    ),
)
PAYMENT = protocol.Payment(
    payment_id="b7f3c2a94e1d4f0c8a6b2d9e5c1f7a30",
    merchant_id="m-1",
    terminal_id="term-0001",
    amount_yen=3_280,
    refunded_yen=0,
    method="cpm",
    created_at="2026-12-04T03:15:00+00:00",
    tax_lines=[
        protocol.TaxLine(rate_percent=10, amount_yen=2_200),
        protocol.TaxLine(rate_percent=8, amount_yen=1_080),
    ],
)


def receipt(qr_data: str | None) -> Document:
    """Build the payment receipt with its QR payload replaced by ``qr_data``, or removed for None."""
    document = payment_receipt(PAYMENT, TERMINAL)
    blocks = []
    for block in document.blocks:
        if isinstance(block, QrCode):
            if qr_data is None:
                continue
            block = QrCode(qr_data)
        blocks.append(block)
    return Document(blocks)


def emv_payload() -> str:
    return emv.build_mpm_payload(
        amount_yen=PAYMENT.amount_yen,
        merchant_name="SAKURA SHOTEN",
        merchant_city="KAMAKURA",
        reference_label=PAYMENT.payment_id[:25],
        terminal_label="term-0001",
        merchant_name_ja="さくら商店",
        merchant_category_code="5411",
        merchant_id="m-1",
    )


def median_ms(action: Callable[[], bytes], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def measure(document: Document, profile: PrinterProfile, width_mm: int, repeat: int) -> tuple[int, float]:
    job = render(document, paper_width_mm=width_mm, profile=profile)
    elapsed = median_ms(lambda: render(document, paper_width_mm=width_mm, profile=profile), repeat)
    return len(job), elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="renders per case; the median is kept")
    args = parser.parse_args()

    native = printer_profile("TM-T20II", kanji=True)
    image = dataclasses.replace(native, qr_code=False)
    payloads = {"transaction id": PAYMENT.payment_id, "EMV payload": emv_payload()}
    print(f"Python {platform.python_version()}, {platform.machine()}, repeat {args.repeat}")
    print("| paper | QR data | QR as | job (bytes) | / no QR | render, median (ms) | 9600 baud (s) | 115200 baud (s) |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")

    for width_mm in (58, 80):
        baseline_bytes, baseline_ms = measure(receipt(None), native, width_mm, args.repeat)
        print(_row(width_mm, "none", "(no QR)", baseline_bytes, baseline_bytes, baseline_ms))
        for label, data in payloads.items():
            for kind, profile in (("native GS ( k", native), ("image GS v 0", image)):
                size, elapsed = measure(receipt(data), profile, width_mm, args.repeat)
                print(_row(width_mm, f"{label} ({len(data)} B)", kind, size, baseline_bytes, elapsed))
    return 0


def _row(width_mm: int, data: str, kind: str, size: int, baseline: int, elapsed_ms: float) -> str:
    transfer = " | ".join(f"{size * 10 / baud:.2f}" for baud in SERIAL_BAUDS)
    return f"| {width_mm} mm | {data} | {kind} | {size:,} | {size / baseline:.2f} | {elapsed_ms:.2f} | {transfer} |"


if __name__ == "__main__":
    sys.exit(main())
