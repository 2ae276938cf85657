"""Turn camera frames into scans: decode, validate, and drop the repeats a camera produces.

A camera captures the same code in every frame for as long as it is held up, so ``FrameReader``
reports a code once and again only after it has been out of sight for ``repeat_window_ms``.
Codes that no reading makes valid are reported as rejected, once per code in the same way, so
a clerk holding up the wrong code sees one message and not one per frame.

The caller supplies the validator (for the terminal: payment code or offline code), so this
module knows nothing of code formats.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from drivers.scanner.decoders import QrDecoder
from drivers.scanner.qrimage import first_valid

logger = logging.getLogger(__name__)

# Same default as the wedge's repeat window: a second sighting of a code within 1.5 s of the
# last one is the same code held in front of the camera, not a new scan.
DEFAULT_REPEAT_WINDOW_MS = 1500


@dataclass(frozen=True)
class FrameOutcome:
    """The codes of one frame not reported recently: valid texts, and failures of invalid codes."""

    scans: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # validation failures, one per code


class FrameReader:
    """Decodes frames with one decoder and remembers recently reported codes."""

    def __init__(
        self,
        decoder: QrDecoder,
        validate: Callable[[str], object],
        repeat_window_ms: int = DEFAULT_REPEAT_WINDOW_MS,
    ) -> None:
        self.decoder = decoder
        self._validate = validate
        self._repeat_window_ms = repeat_window_ms
        self._last_seen_ms: dict[bytes, float] = {}

    def read(self, image: Image.Image, now_ms: float) -> FrameOutcome:
        """Decode ``image`` and return the codes to report.

        A worker thread may call this, as long as one frame is read at a time.
        """
        outcome = FrameOutcome()
        for code in self.decoder.decode(image):
            if self._seen_recently(code.raw, now_ms):
                continue
            text, error = first_valid([code], self._validate)
            if text is not None:
                outcome.scans.append(text)
            else:
                logger.info("camera read an invalid QR code of %d bytes: %s", len(code.raw), error)
                outcome.rejected.append(error)
        return outcome

    def _seen_recently(self, raw: bytes, now_ms: float) -> bool:
        self._forget_older_than(now_ms - self._repeat_window_ms)
        recent = raw in self._last_seen_ms
        self._last_seen_ms[raw] = now_ms
        return recent

    def _forget_older_than(self, cutoff_ms: float) -> None:
        for raw, seen_ms in list(self._last_seen_ms.items()):
            if seen_ms < cutoff_ms:
                del self._last_seen_ms[raw]
