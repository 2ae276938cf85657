"""Barcode and QR scanners: keyboard-wedge burst detection and the repairs scanned text needs."""

from __future__ import annotations

from drivers.scanner.base import (
    KanaInputError,
    Layout,
    ScanError,
    ScanResult,
    ScanSource,
    normalize_scan,
)
from drivers.scanner.wedge import WedgeDetector, WedgeOutput

__all__ = [
    "KanaInputError",
    "Layout",
    "ScanError",
    "ScanResult",
    "ScanSource",
    "WedgeDetector",
    "WedgeOutput",
    "normalize_scan",
]
