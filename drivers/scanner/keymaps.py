"""Linux key codes to characters, for a scanner set to the US or the Japanese (JIS) layout.

A USB scanner in keyboard mode sends key positions, and the characters depend on the layout the
scanner was set to, not on the host's. The evdev reader sees the key codes before any host
layout or input method, so it translates them with the scanner's own layout and needs no
repair afterwards. Codes are from linux/input-event-codes.h. The JIS columns follow the JIS
106/109-key layout as xkeyboard-config's ``jp`` symbols define it.

Keys that type nothing (modifiers, the JIS input method keys) are absent from the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Keymap = Literal["us", "jis"]

KEY_1, KEY_0 = 2, 11
KEY_MINUS, KEY_EQUAL, KEY_TAB = 12, 13, 15
KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_ENTER, KEY_LEFTCTRL = 26, 27, 28, 29
KEY_SEMICOLON, KEY_APOSTROPHE, KEY_GRAVE, KEY_LEFTSHIFT, KEY_BACKSLASH = 39, 40, 41, 42, 43
KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_RIGHTSHIFT, KEY_KPASTERISK = 51, 52, 53, 54, 55
KEY_LEFTALT, KEY_SPACE, KEY_CAPSLOCK = 56, 57, 58
KEY_KPMINUS, KEY_KPPLUS, KEY_KPDOT = 74, 78, 83
KEY_RO, KEY_KPENTER, KEY_RIGHTCTRL, KEY_KPSLASH, KEY_RIGHTALT, KEY_YEN = 89, 96, 97, 98, 100, 124

# The three rows of letters, each a run of consecutive codes starting at Q, A and Z.
_LETTER_ROWS = ((16, "qwertyuiop"), (30, "asdfghjkl"), (44, "zxcvbnm"))
# The keypad's digits are not in order: 7 8 9 at 71-73, 4 5 6 at 75-77, 1 2 3 at 79-81, 0 at 82.
_KEYPAD_DIGITS = {
    71: "7", 72: "8", 73: "9", 75: "4", 76: "5", 77: "6", 79: "1", 80: "2", 81: "3", 82: "0",
}  # fmt: skip

SHIFT_KEYS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
CTRL_KEYS = frozenset({KEY_LEFTCTRL, KEY_RIGHTCTRL})
ALT_KEYS = frozenset({KEY_LEFTALT, KEY_RIGHTALT})
# Scanners in "control character" mode send a suffix as Ctrl and a letter: Ctrl+I is Tab,
# Ctrl+J line feed, Ctrl+M carriage return. Other control characters are never part of a code.
CTRL_LETTERS = {"i": "\t", "j": "\n", "m": "\r"}

# The characters a key types without and with Shift. An empty string types nothing.
KeyChars = tuple[str, str]

_COMMON: dict[int, KeyChars] = {
    KEY_TAB: ("\t", "\t"),
    KEY_ENTER: ("\r", "\r"),
    KEY_KPENTER: ("\r", "\r"),
    KEY_SPACE: (" ", " "),
    KEY_COMMA: (",", "<"),
    KEY_DOT: (".", ">"),
    KEY_SLASH: ("/", "?"),
    KEY_KPASTERISK: ("*", "*"),
    KEY_KPMINUS: ("-", "-"),
    KEY_KPPLUS: ("+", "+"),
    KEY_KPDOT: (".", "."),
    KEY_KPSLASH: ("/", "/"),
    **{code: (digit, digit) for code, digit in _KEYPAD_DIGITS.items()},
    **{
        start + offset: (letter, letter.upper())
        for start, letters in _LETTER_ROWS
        for offset, letter in enumerate(letters)
    },
}


def _digit_row(shifted: str) -> dict[int, KeyChars]:
    digits = "1234567890"
    return {KEY_1 + index: (digits[index], shifted[index].strip()) for index in range(10)}


US_KEYS: dict[int, KeyChars] = {
    **_COMMON,
    **_digit_row("!@#$%^&*()"),
    KEY_MINUS: ("-", "_"),
    KEY_EQUAL: ("=", "+"),
    KEY_LEFTBRACE: ("[", "{"),
    KEY_RIGHTBRACE: ("]", "}"),
    KEY_SEMICOLON: (";", ":"),
    KEY_APOSTROPHE: ("'", '"'),
    KEY_GRAVE: ("`", "~"),
    KEY_BACKSLASH: ("\\", "|"),
}

# On JIS, Shift+0 types nothing (the space in the row below), the key left of 1 switches the
# input method instead of typing, and the ¥ key types the backslash code 0x5C, which Japanese
# fonts draw as ¥.
JIS_KEYS: dict[int, KeyChars] = {
    **_COMMON,
    **_digit_row("!\"#$%&'() "),
    KEY_MINUS: ("-", "="),
    KEY_EQUAL: ("^", "~"),
    KEY_LEFTBRACE: ("@", "`"),
    KEY_RIGHTBRACE: ("[", "{"),
    KEY_SEMICOLON: (";", "+"),
    KEY_APOSTROPHE: (":", "*"),
    KEY_BACKSLASH: ("]", "}"),
    KEY_RO: ("\\", "_"),
    KEY_YEN: ("\\", "|"),
}

KEYMAPS: dict[Keymap, dict[int, KeyChars]] = {"us": US_KEYS, "jis": JIS_KEYS}


@dataclass
class KeyTranslator:
    """Turns key presses and releases into characters, tracking Shift, Ctrl, Alt and Caps Lock.

    Caps Lock starts off and toggles with the scanner's own Caps Lock presses, because a
    grabbed device's state is not shared with the host's keyboard.
    """

    keys: dict[int, KeyChars]
    shift_down: int = 0
    ctrl_down: int = 0
    alt_down: int = 0
    caps_lock: bool = False

    @classmethod
    def for_keymap(cls, keymap: Keymap) -> KeyTranslator:
        return cls(KEYMAPS[keymap])

    def reset(self) -> None:
        """Forget held modifiers, for a device that was just opened again."""
        self.shift_down = self.ctrl_down = self.alt_down = 0
        self.caps_lock = False

    def key(self, code: int, pressed: bool) -> str:
        """Take one key press or release, and return what a press types ("" for a release)."""
        if self._track_modifier(code, pressed) or not pressed:
            return ""
        if code == KEY_CAPSLOCK:
            self.caps_lock = not self.caps_lock
            return ""
        base, shifted = self.keys.get(code, ("", ""))
        if self.ctrl_down:
            return CTRL_LETTERS.get(base, "")
        if self.alt_down:
            return ""
        shift = self.shift_down > 0
        if base.isalpha() and self.caps_lock:
            shift = not shift
        return shifted if shift else base

    def _track_modifier(self, code: int, pressed: bool) -> bool:
        step = 1 if pressed else -1
        if code in SHIFT_KEYS:
            self.shift_down = max(0, self.shift_down + step)
        elif code in CTRL_KEYS:
            self.ctrl_down = max(0, self.ctrl_down + step)
        elif code in ALT_KEYS:
            self.alt_down = max(0, self.alt_down + step)
        else:
            return False
        return True
