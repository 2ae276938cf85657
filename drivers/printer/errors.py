"""Exceptions raised by the receipt printer driver.

Every exception the package raises on purpose derives from ``PrinterError``, so a caller that
only needs to know "the receipt did not print" catches that one class::

    PrinterError
    ├── PrinterConfigError      a printer URL, paper width or profile name is invalid
    │   └── FontMissingError    the CJK font for image output is not installed
    ├── PrinterConnectionError  opening, writing to or reading from the printer failed
    │   └── PrinterBusyError    another program or driver has the printer open
    └── ReceiptLayoutError      a document block cannot be printed (for example QR data too long)

Messages are English sentences for logs and technicians. The UI maps the class to a Japanese
message for the clerk.
"""

from __future__ import annotations


class PrinterError(Exception):
    """Base class of every error raised by the printer driver."""


class PrinterConfigError(PrinterError, ValueError):
    """A configuration value (printer URL, paper width, profile) is invalid."""


class FontMissingError(PrinterConfigError):
    """The Noto Sans CJK font needed to draw Japanese text as an image is not installed."""


class PrinterConnectionError(PrinterError):
    """The printer could not be opened, written to or read from. The message names the URL."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class PrinterBusyError(PrinterConnectionError):
    """Another process (a second copy of the terminal, CUPS, the usblp driver) has the printer open."""


class ReceiptLayoutError(PrinterError):
    """A document block cannot be turned into printer commands."""
