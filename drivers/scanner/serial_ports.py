"""Find a serial scanner's device node again after it was unplugged and plugged back in.

Linux names USB CDC devices ``/dev/ttyACM0``, ``/dev/ttyACM1`` and so on in the order they
appear, so a scanner plugged back in may get another name, and its old name may go to another
device. udev also makes a link in ``/dev/serial/by-id/`` named after the device's vendor,
product and serial number, which points at the current node. ``PortLocator`` prefers that link:

- A configured by-id path (or any path inside ``by_id_dir``) is always opened as it is, and the
  kernel follows the link to the current node.
- For a configured plain node such as ``/dev/ttyACM0``, the locator looks for the by-id link that
  points at it when it is first opened, and from then on opens that link while it exists. The
  plain name is tried when the link is missing, unless it now belongs to another device's link.
- A pyserial URL such as ``loop://`` or ``socket://`` is used as it is.

The locator never guesses: without a by-id link it only tries the configured name, because the
first device that appears could be a serial printer.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

BY_ID_DIR = Path("/dev/serial/by-id")


def is_url(port: str) -> bool:
    """Tell whether ``port`` is a pyserial URL (``loop://``, ``socket://``) and not a path."""
    return "://" in port


class PortLocator:
    """The ports to try for one configured scanner, best first; see the module docstring."""

    def __init__(self, configured: str, by_id_dir: Path = BY_ID_DIR) -> None:
        if not configured:
            raise ValueError("the serial scanner's port is empty; set scanner.port")
        self.configured = configured
        self.by_id_dir = by_id_dir
        self.by_id_link: Path | None = None
        if not is_url(configured) and Path(configured).parent == by_id_dir:
            self.by_id_link = Path(configured)

    def candidates(self) -> list[str]:
        """Return the ports to try now, best first."""
        if is_url(self.configured) or self.by_id_link is None:
            return [self.configured]
        link = str(self.by_id_link)
        if link == self.configured or os.path.lexists(link):
            return [link]
        if self._owned_by_other_device(self.configured):
            return []
        return [self.configured]

    def remember(self, opened: str) -> None:
        """Learn the by-id link of the node just opened, to follow it after a replug."""
        if is_url(opened) or self.by_id_link is not None:
            return
        self.by_id_link = self._find_link_to(os.path.realpath(opened))
        if self.by_id_link is not None:
            logger.debug("serial scanner %s is %s", opened, self.by_id_link)

    def describe(self, opened: str) -> str:
        """Name the port for logs: the node, and the by-id link when there is one."""
        if is_url(opened):
            return opened
        node = os.path.realpath(opened)
        link = self.by_id_link
        return node if link is None or str(link) == node else f"{node} ({link})"

    def _links(self) -> list[Path]:
        try:
            return sorted(path for path in self.by_id_dir.iterdir() if path.is_symlink())
        except OSError:
            # The directory exists only while at least one serial device is plugged in.
            return []

    def _find_link_to(self, node: str) -> Path | None:
        return next((link for link in self._links() if os.path.realpath(link) == node), None)

    def _owned_by_other_device(self, port: str) -> bool:
        owner = self._find_link_to(os.path.realpath(port))
        return owner is not None and owner != self.by_id_link
