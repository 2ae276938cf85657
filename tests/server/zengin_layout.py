"""A reader of Zengin 総合振込 files for the tests, written from the published field table.

It shares no code with ``server.zengin``: each record is sliced by the 1-based positions of the
全銀協 layout, and every field is checked for its kind. N fields must be ASCII digits (right-aligned
and zero-filled by construction), C fields must be left-aligned text followed only by spaces,
using ASCII upper case, digits, space, ``( ) . - /`` and half-width katakana 0xB1-0xDF.
"""

from __future__ import annotations

from dataclasses import dataclass

# (field, first byte, last byte, kind), positions as in the 全銀協 総合振込 table.
Layout = list[tuple[str, int, int, str]]

HEADER: Layout = [
    ("data_kind", 1, 1, "N"), ("category", 2, 3, "N"), ("code_division", 4, 4, "N"),
    ("consignor_code", 5, 14, "N"), ("sender_name", 15, 54, "C"),
    ("transfer_date", 55, 58, "N"), ("bank_code", 59, 62, "N"), ("bank_name", 63, 77, "C"),
    ("branch_code", 78, 80, "N"), ("branch_name", 81, 95, "C"), ("account_type", 96, 96, "N"),
    ("account_number", 97, 103, "N"), ("dummy", 104, 120, "C"),
]
DATA: Layout = [
    ("data_kind", 1, 1, "N"), ("bank_code", 2, 5, "N"), ("bank_name", 6, 20, "C"),
    ("branch_code", 21, 23, "N"), ("branch_name", 24, 38, "C"),
    ("clearing_house", 39, 42, "N"), ("account_type", 43, 43, "N"),
    ("account_number", 44, 50, "N"), ("holder_name", 51, 80, "C"), ("amount", 81, 90, "N"),
    ("new_code", 91, 91, "N"), ("customer_code1", 92, 101, "N"),
    ("customer_code2", 102, 111, "N"), ("transfer_kind", 112, 112, "N"),
    ("edi_flag", 113, 113, "C"), ("dummy", 114, 120, "C"),
]
TRAILER: Layout = [
    ("data_kind", 1, 1, "N"), ("count", 2, 7, "N"), ("total", 8, 19, "N"),
    ("dummy", 20, 120, "C"),
]
END: Layout = [("data_kind", 1, 1, "N"), ("dummy", 2, 120, "C")]

TEXT_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ().-/") | frozenset(range(0xB1, 0xE0))
MARK_BYTES = frozenset((0xDE, 0xDF))  # ﾞ ﾟ
KANA_LETTER_BYTES = frozenset(range(0xB1, 0xDE))  # ｱ .. ﾝ


class LayoutError(AssertionError):
    pass


@dataclass
class ParsedFile:
    header: dict[str, str]
    data: list[dict[str, str]]
    trailer: dict[str, str]
    end: dict[str, str]


def _check_layout(layout: Layout) -> None:
    expected_start = 1
    for name, start, end, _kind in layout:
        if start != expected_start or end < start:
            raise LayoutError(f"layout gap or overlap at {name}")
        expected_start = end + 1
    if expected_start != 121:
        raise LayoutError("layout does not cover 120 bytes")


for _layout in (HEADER, DATA, TRAILER, END):
    _check_layout(_layout)


def _read_text(name: str, raw: bytes) -> str:
    text = raw.rstrip(b" ")
    if text[:1] == b" ":
        raise LayoutError(f"{name} {raw!r} is not left-aligned")
    for index, byte in enumerate(text):
        if byte not in TEXT_BYTES:
            raise LayoutError(f"{name} {raw!r} contains byte 0x{byte:02X}")
        if byte in MARK_BYTES and (index == 0 or text[index - 1] not in KANA_LETTER_BYTES):
            raise LayoutError(f"{name} {raw!r} has a voiced mark that follows no kana")
    return text.decode("cp932")


def read_record(record: bytes, layout: Layout) -> dict[str, str]:
    if len(record) != 120:
        raise LayoutError(f"record is {len(record)} bytes")
    fields: dict[str, str] = {}
    for name, start, end, kind in layout:
        raw = record[start - 1:end]
        if kind == "N":
            if not raw.isdigit() or not raw.isascii():
                raise LayoutError(f"{name} {raw!r} is not digits")
            fields[name] = raw.decode("ascii")
        else:
            fields[name] = _read_text(name, raw)
    return fields


def split_records(data: bytes, *, line_ends: bool) -> list[bytes]:
    if not line_ends:
        if b"\r" in data or b"\n" in data or len(data) % 120:
            raise LayoutError("file without line ends has CR, LF or a partial record")
        return [data[start:start + 120] for start in range(0, len(data), 120)]
    if len(data) % 122:
        raise LayoutError(f"file of {len(data)} bytes is not whole 122-byte lines")
    lines = [data[start:start + 122] for start in range(0, len(data), 122)]
    for line in lines:
        if line[120:] != b"\r\n" or b"\r" in line[:120] or b"\n" in line[:120]:
            raise LayoutError(f"line {line!r} does not end in exactly one CR LF")
    return [line[:120] for line in lines]


def read_file(data: bytes, *, line_ends: bool = True) -> ParsedFile:
    records = split_records(data, line_ends=line_ends)
    if len(records) < 4:
        raise LayoutError("a file needs header, data, trailer and end records")
    header = read_record(records[0], HEADER)
    data_records = [read_record(record, DATA) for record in records[1:-2]]
    trailer = read_record(records[-2], TRAILER)
    end = read_record(records[-1], END)
    kinds = [header["data_kind"], *(d["data_kind"] for d in data_records),
             trailer["data_kind"], end["data_kind"]]
    if kinds != ["1", *["2"] * len(data_records), "8", "9"]:
        raise LayoutError(f"record kinds {kinds}")
    for name, text in (("header dummy", header["dummy"]), ("trailer dummy", trailer["dummy"]),
                       ("end dummy", end["dummy"])):
        if text:
            raise LayoutError(f"{name} is not blank: {text!r}")
    return ParsedFile(header, data_records, trailer, end)
