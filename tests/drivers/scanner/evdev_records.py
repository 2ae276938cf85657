"""Build the ``struct input_event`` records the kernel sends for a USB keyboard-mode scanner."""

from __future__ import annotations

from drivers.scanner.evdev_reader import EV_KEY, EV_MSC, EV_SYN, INPUT_EVENT
from drivers.scanner.keymaps import KEY_LEFTSHIFT, KEYMAPS, Keymap

MSC_SCAN = 4
SYN_REPORT = 0


def record(time_ms: float, event_type: int, code: int, value: int) -> bytes:
    microseconds_total = round(time_ms * 1000)
    seconds, microseconds = divmod(microseconds_total, 1_000_000)
    return INPUT_EVENT.pack(seconds, microseconds, event_type, code, value)


def key_codes(keymap: Keymap) -> dict[str, tuple[int, bool]]:
    """Map each character to the key and Shift state that type it; main keys before the keypad."""
    codes: dict[str, tuple[int, bool]] = {}
    for code, (base, shifted) in sorted(KEYMAPS[keymap].items()):
        if base:
            codes.setdefault(base, (code, False))
        if shifted:
            codes.setdefault(shifted, (code, True))
    return codes


def press(time_ms: float, code: int, hid_usage: int = 0x04) -> bytes:
    return (
        record(time_ms, EV_MSC, MSC_SCAN, hid_usage)
        + record(time_ms, EV_KEY, code, 1)
        + record(time_ms, EV_SYN, SYN_REPORT, 0)
    )


def release(time_ms: float, code: int) -> bytes:
    return record(time_ms, EV_KEY, code, 0) + record(time_ms, EV_SYN, SYN_REPORT, 0)


def typed(text: str, keymap: Keymap, start_ms: float = 5_000.0, gap_ms: float = 4.0) -> bytes:
    """Return the records of ``text`` typed one key every ``gap_ms``, with Shift where needed."""
    codes = key_codes(keymap)
    data = b""
    now = start_ms
    for char in text:
        code, shift = codes[char]
        if shift:
            data += press(now, KEY_LEFTSHIFT)
        data += press(now, code) + release(now + 1, code)
        if shift:
            data += release(now + 1, KEY_LEFTSHIFT)
        now += gap_ms
    return data
