"""Zengin total-transfer files (総合振込) that pay merchants out to their bank accounts in yen.

``build_transfer_file`` writes one file for one sender account and one transfer date:

    header (1)  種別コード 21, コード区分 0 (JIS), the sender's account and the date as MMDD
    data (2)    one per transfer: recipient bank, branch, account, name, amount, customer codes,
                振込指定区分 7 (電信, telegraphic)
    trailer (8) number of data records and their total in yen
    end (9)

Every record is 120 bytes, followed by CR LF unless ``line_ends=False``. N fields are ASCII digits,
right-aligned and zero-filled. C fields are left-aligned and space-filled, in JIS X 0201 as
single-byte cp932: ASCII and half-width katakana 0xA1-0xDF. Field positions are in the
``_header_record``, ``_data_record`` and ``_trailer_record`` builders.

Every field is checked before a byte is written. The first invalid one raises ``ZenginError``
(or a subclass) whose message names the merchant, or ``sender``, and the field, so a bad file is
never produced and no number is ever cut to fit.

Names are converted by ``server.kana``: hiragana and full-width kana become half-width kana, a
voiced kana takes two characters, small kana are enlarged and the long vowel mark becomes ``-``.
The comma and other symbols are rejected. Limits after conversion:

- 受取人名 (holder name, 30): longer names are truncated to 30 characters, never between a kana
  and its ``ﾞ``/``ﾟ``, as banks' own transfer screens ask customers to enter the first 30
  characters of a long name. NOTE: the receiving bank compares the name with the account's
  registered name, and some banks return a transfer with a cut name as a name mismatch; that
  payout then comes back as a failed result.
- 振込依頼人名 (sender name, 40): a longer name raises ``ZenginNameError``, because it is set
  once by the operator and appears on every merchant's statement.
- Bank and branch names (15) are truncated. They are informational: banks route by the codes.

Recipient and sender bank and branch codes must exist in the zengin-code data
(``server.zengin_banks``). Names not given are taken from there.

``parse_result_file`` reads the bank's answer. No single public standard exists for 総合振込
results: the 口座振替 (direct debit) result layout puts its 振替結果コード at byte 112, which in
a 総合振込 data record is 振込指定区分. So this module defines a conservative format:

- The same 120-byte records as the transfer file, where one byte of the data record holds the
  result code, byte 120 (the last dummy byte) unless ``result_position`` names another byte in
  112-120. ``0`` means paid; any other digit or letter means failed with that code. A blank
  result byte raises ``ZenginError`` rather than counting as failed, because a transfer file
  uploaded by mistake would otherwise mark every payout failed. The trailer's count and total
  must match the data records.
- A CSV with one ``customer_code1,result`` row per transfer, for marking results by hand from
  the bank's statement, with an optional ``customer_code1,result`` heading row.

Results are matched by 顧客コード1, so ``build_transfer_file`` rejects a repeated non-empty
customer code, and ``parse_result_file`` rejects any repeated one.

Errors, drawn once:

    ZenginError (ValueError)     an invalid field, total or result file
    +-- ZenginNameError          a name that cannot be written in Zengin characters
    +-- ZenginBankError          a bank or branch code not in the bank directory
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from server import kana
from server.errors import shorten
from server.zengin_banks import BankDirectory, default_directory

__all__ = [
    "BankDirectory", "Sender", "Transfer", "TransferResult", "ZenginBankError", "ZenginError",
    "ZenginNameError", "build_transfer_file", "parse_result_file", "to_zengin_kana",
]

logger = logging.getLogger(__name__)

RECORD_BYTES = 120
LINE_END = "\r\n"
ENCODING = "cp932"
CATEGORY_TOTAL_TRANSFER = "21"  # 種別コード 総合振込
CODE_DIVISION_JIS = "0"  # コード区分
TRANSFER_TELEGRAPHIC = "7"  # 振込指定区分 電信
CLEARING_HOUSE_UNUSED = "0000"  # 手形交換所番号

MAX_AMOUNT_YEN = 9_999_999_999  # 振込金額 N(10)
MAX_TOTAL_YEN = 999_999_999_999  # 合計金額 N(12)
MAX_TRANSFERS = 999_999  # 合計件数 N(6)
SENDER_NAME_CHARS = 40
HOLDER_NAME_CHARS = 30
BANK_NAME_CHARS = 15
SENDER_ACCOUNT_TYPES = {1: "普通", 2: "当座", 9: "other"}
RECIPIENT_ACCOUNT_TYPES = {1: "普通", 2: "当座", 4: "貯蓄", 9: "other"}
NEW_CODES = {0: "other", 1: "first transfer", 2: "changed"}

RESULT_PAID = "0"
DEFAULT_RESULT_POSITION = 120
RESULT_POSITIONS = range(112, RECORD_BYTES + 1)
CSV_HEADING = ["customer_code1", "result"]
_DIGIT_BYTES = re.compile(rb"[0-9]+")
_RESULT_CODE_BYTE = re.compile(rb"[0-9A-Z]")

# Japanese names of the fields, shown beside the attribute names in messages.
FIELD_NAMES = {
    "consignor_code": "振込依頼人コード",
    "name": "振込依頼人名",
    "bank_code": "銀行番号",
    "branch_code": "支店番号",
    "bank_name": "銀行名",
    "branch_name": "支店名",
    "account_type": "預金種目",
    "account_number": "口座番号",
    "holder_name": "受取人名",
    "amount_yen": "振込金額",
    "customer_code1": "顧客コード1",
    "customer_code2": "顧客コード2",
    "new_code": "新規コード",
    "transfer_date": "振込指定日",
}

_HOLDER_HINT = "register the account holder's name in kana (口座名義カナ) and build the file again"
_NAME_HINT = "give the name in kana, latin letters or digits and build the file again"


class ZenginError(ValueError):
    """A transfer file cannot be written, or a result file cannot be read, as given."""

    def __init__(self, message: str, *, field: str, merchant_id: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.merchant_id = merchant_id


class ZenginNameError(ZenginError):
    """A name contains a character with no Zengin form, is empty, or is too long."""


class ZenginBankError(ZenginError):
    """A bank or branch code is not in the bank directory."""


@dataclass(frozen=True)
class Sender:
    """The operator's account that sends the transfers (the header record)."""

    consignor_code: str  # 振込依頼人コード, up to 10 digits, assigned by the bank
    name: str  # 振込依頼人名, converted to Zengin characters
    bank_code: str  # 4 digits
    branch_code: str  # 3 digits
    account_type: int  # 1 普通, 2 当座, 9 other
    account_number: str  # up to 7 digits
    bank_name: str = ""  # from the bank directory when empty
    branch_name: str = ""


@dataclass(frozen=True)
class Transfer:
    """One payout to one merchant's account (a data record)."""

    merchant_id: str  # only for error messages
    bank_code: str
    branch_code: str
    account_type: int  # 1 普通, 2 当座, 4 貯蓄, 9 other
    account_number: str
    holder_name: str  # 受取人名, converted to Zengin characters
    amount_yen: int
    customer_code1: str = ""  # up to 10 digits; results are matched by it
    customer_code2: str = ""
    new_code: int = 0  # 0 other, 1 first transfer, 2 changed account


@dataclass(frozen=True)
class TransferResult:
    """The bank's result for one transfer.

    ``customer_code1`` is always 10 digits, zero-filled as in the file. The account fields are
    None for results read from CSV.
    """

    customer_code1: str
    result_code: str
    record_number: int
    amount_yen: int | None = None
    bank_code: str | None = None
    branch_code: str | None = None
    account_number: str | None = None
    holder_name: str | None = None

    @property
    def paid(self) -> bool:
        return self.result_code == RESULT_PAID


@dataclass(frozen=True)
class _Subject:
    """Whose field is being checked, for messages: a merchant or the sender."""

    label: str
    merchant_id: str | None = None

    @classmethod
    def merchant(cls, merchant_id: str) -> _Subject:
        return cls(f"merchant {shorten(str(merchant_id))!r}", merchant_id)

    def name(self, field: str) -> str:
        japanese = FIELD_NAMES.get(field)
        return f"{self.label}: {field} ({japanese})" if japanese else f"{self.label}: {field}"

    def error(self, field: str, problem: str) -> ZenginError:
        return ZenginError(f"{self.name(field)} {problem}", field=field,
                           merchant_id=self.merchant_id)


_SENDER_SUBJECT = _Subject("sender")


# --- names ---------------------------------------------------------------------------------


def to_zengin_kana(text: str, *, max_length: int, field: str, truncate: bool = False,
                   hint: str | None = None) -> str:
    """Convert a name to Zengin characters (see ``server.kana``) of at most ``max_length``.

    ``field`` names the value in messages; ``hint`` replaces the message's advice, which by
    default speaks of building a transfer file. A name longer than ``max_length`` after conversion
    raises ``ZenginNameError``, or with ``truncate=True`` is cut, never between a kana and its
    voiced mark. An empty name, or one with a character that has no Zengin form, raises
    ``ZenginNameError``.
    """
    return _convert_name(_Subject(field), "", text, max_length, truncate, hint)


def _convert_name(subject: _Subject, field: str, text: str, max_length: int,
                  truncate: bool, hint: str | None = None) -> str:
    label = subject.name(field) if field else subject.label
    error_field = field or subject.label
    if hint is None:
        hint = _HOLDER_HINT if error_field == "holder_name" else _NAME_HINT

    def failure(problem: str) -> ZenginNameError:
        return ZenginNameError(f"{label} {problem}", field=error_field,
                               merchant_id=subject.merchant_id)

    if not isinstance(text, str):
        raise failure(f"must be text, not {type(text).__name__}")
    try:
        converted = kana.to_zengin_characters(text)
    except kana.UnconvertibleCharacter as exc:
        raise failure(f"{shorten(text)!r} contains {exc.character!r} (U+{ord(exc.character):04X})"
                      f" at position {exc.position}, which a bank transfer file cannot carry;"
                      f" {hint}") from exc

    if not converted:
        raise failure(f"is empty; {hint}")
    if len(converted) <= max_length:
        return converted
    if not truncate:
        raise failure(f"{converted!r} is {len(converted)} characters in Zengin form, more than"
                      f" {max_length}; register a shorter kana name (for example ｶ) for 株式会社)")
    cut = kana.truncate(converted, max_length)
    if not cut:
        raise failure(f"{converted!r} leaves nothing when cut to {max_length} characters")
    logger.debug("%s truncated from %d to %d characters", label, len(converted), len(cut))
    return cut


# --- field checks --------------------------------------------------------------------------


def _digits(subject: _Subject, field: str, value: object, width: int, *, exact: bool = False,
            optional: bool = False) -> str:
    """Check a code of ASCII digits and return it zero-filled to ``width``."""
    if optional and value == "":
        return "0" * width
    if not isinstance(value, str) or _digits_pattern(width, exact).fullmatch(value) is None:
        count = f"exactly {width}" if exact else f"1 to {width}"
        raise subject.error(field, f"{_echo(value)} is invalid; give {count} digits 0-9")
    return value.zfill(width)


@lru_cache(maxsize=None)
def _digits_pattern(width: int, exact: bool) -> re.Pattern[str]:
    return re.compile(f"[0-9]{{{width}}}" if exact else f"[0-9]{{1,{width}}}", re.ASCII)


def _choice(subject: _Subject, field: str, value: object, choices: dict[int, str]) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value not in choices:
        allowed = ", ".join(f"{code} ({meaning})" for code, meaning in choices.items())
        raise subject.error(field, f"{_echo(value)} is invalid; use one of {allowed}")
    return str(value)


def _account_number(subject: _Subject, value: object) -> str:
    number = _digits(subject, "account_number", value, 7)
    if number == "0000000":
        raise subject.error("account_number", f"{_echo(value)} is invalid; it is all zeros")
    return number


def _amount(subject: _Subject, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise subject.error("amount_yen", f"{_echo(value)} is invalid; give whole yen as int")
    if not 1 <= value <= MAX_AMOUNT_YEN:
        raise subject.error("amount_yen", f"{value:,} is out of range; a transfer must be 1 to"
                                          f" {MAX_AMOUNT_YEN:,} yen")
    return value


def _echo(value: object) -> str:
    return repr(shorten(value)) if isinstance(value, str) else repr(value)


def _field(text: str, width: int) -> str:
    """Left-align converted text in a C field of ``width`` characters."""
    return text.ljust(width, " ")


# --- banks ---------------------------------------------------------------------------------


def _bank_names(subject: _Subject, directory: BankDirectory, bank_code: str,
                branch_code: str) -> tuple[str, str]:
    """Check both codes against the directory and return its kana names for them."""
    bank = directory.bank(bank_code)
    source = f"the bank directory (zengin-code {directory.version or 'custom'})"
    if bank is None:
        raise ZenginBankError(
            f"{subject.name('bank_code')} {bank_code!r} is not in {source}; check the bank"
            " code, or update the zengin-code package if the bank is new",
            field="bank_code", merchant_id=subject.merchant_id,
        )
    branch = directory.branch(bank_code, branch_code)
    if branch is None:
        raise ZenginBankError(
            f"{subject.name('branch_code')} {branch_code!r} of bank {bank_code} ({bank.name}) is"
            f" not in {source}; check the branch code, or update the zengin-code package if the"
            " branch is new", field="branch_code", merchant_id=subject.merchant_id,
        )
    return bank.kana, branch.kana


def _name_field(subject: _Subject, field: str, text: str, width: int, truncate: bool) -> str:
    return _field(_convert_name(subject, field, text, width, truncate), width)


# --- records -------------------------------------------------------------------------------


def _header_record(sender: Sender, transfer_date: date, directory: BankDirectory) -> str:
    subject = _SENDER_SUBJECT
    consignor = _digits(subject, "consignor_code", sender.consignor_code, 10)
    name = _name_field(subject, "name", sender.name, SENDER_NAME_CHARS, truncate=False)
    if not isinstance(transfer_date, date):
        raise subject.error("transfer_date", f"{_echo(transfer_date)} is invalid; give a date")
    bank_code = _digits(subject, "bank_code", sender.bank_code, 4, exact=True)
    branch_code = _digits(subject, "branch_code", sender.branch_code, 3, exact=True)
    account_type = _choice(subject, "account_type", sender.account_type, SENDER_ACCOUNT_TYPES)
    account = _account_number(subject, sender.account_number)

    bank_kana, branch_kana = _bank_names(subject, directory, bank_code, branch_code)
    bank_name = _name_field(subject, "bank_name", sender.bank_name or bank_kana,
                            BANK_NAME_CHARS, truncate=True)
    branch_name = _name_field(subject, "branch_name", sender.branch_name or branch_kana,
                              BANK_NAME_CHARS, truncate=True)

    return (
        "1" + CATEGORY_TOTAL_TRANSFER + CODE_DIVISION_JIS  # 1-4
        + consignor + name + transfer_date.strftime("%m%d")  # 5-14, 15-54, 55-58
        + bank_code + bank_name + branch_code + branch_name  # 59-62, 63-77, 78-80, 81-95
        + account_type + account + " " * 17  # 96, 97-103, 104-120
    )


def _data_record(transfer: Transfer, directory: BankDirectory,
                 names: dict[tuple[str, str], tuple[str, str]]) -> str:
    """Build one data record; ``names`` caches the converted bank and branch names by code."""
    subject = _Subject.merchant(transfer.merchant_id)
    bank_code = _digits(subject, "bank_code", transfer.bank_code, 4, exact=True)
    branch_code = _digits(subject, "branch_code", transfer.branch_code, 3, exact=True)
    account_type = _choice(subject, "account_type", transfer.account_type,
                           RECIPIENT_ACCOUNT_TYPES)
    account = _account_number(subject, transfer.account_number)
    holder = _name_field(subject, "holder_name", transfer.holder_name, HOLDER_NAME_CHARS,
                         truncate=True)
    amount = str(_amount(subject, transfer.amount_yen)).zfill(10)
    new_code = _choice(subject, "new_code", transfer.new_code, NEW_CODES)
    code1 = _digits(subject, "customer_code1", transfer.customer_code1, 10, optional=True)
    code2 = _digits(subject, "customer_code2", transfer.customer_code2, 10, optional=True)

    key = (bank_code, branch_code)
    if key not in names:
        bank_kana, branch_kana = _bank_names(subject, directory, bank_code, branch_code)
        names[key] = (_name_field(subject, "bank_name", bank_kana, BANK_NAME_CHARS, True),
                      _name_field(subject, "branch_name", branch_kana, BANK_NAME_CHARS, True))
    bank_name, branch_name = names[key]

    return (
        "2" + bank_code + bank_name + branch_code + branch_name  # 1, 2-5, 6-20, 21-23, 24-38
        + CLEARING_HOUSE_UNUSED + account_type + account + holder  # 39-42, 43, 44-50, 51-80
        + amount + new_code + code1 + code2  # 81-90, 91, 92-101, 102-111
        + TRANSFER_TELEGRAPHIC + " " + " " * 7  # 112, 113 (識別表示, no EDI), 114-120
    )


def _trailer_record(count: int, total_yen: int) -> str:
    return "8" + str(count).zfill(6) + str(total_yen).zfill(12) + " " * 101


def _end_record() -> str:
    return "9" + " " * 119


def build_transfer_file(sender: Sender, transfer_date: date, transfers: Sequence[Transfer],
                        *, line_ends: bool = True,
                        bank_data: BankDirectory | None = None) -> bytes:
    """Build the 総合振込 file paying ``transfers`` from ``sender``'s account on ``transfer_date``.

    ``bank_data`` defaults to the zengin-code directory. Raises ``ZenginError`` (or a subclass)
    for the first invalid field, an empty list, more than 999,999 transfers, a total above
    999,999,999,999 yen, or a repeated non-empty ``customer_code1``.
    """
    directory = bank_data if bank_data is not None else default_directory()
    if not transfers:
        raise ZenginError("transfers is empty; a transfer file needs at least one transfer",
                          field="transfers")
    if len(transfers) > MAX_TRANSFERS:
        raise ZenginError(f"{len(transfers):,} transfers do not fit the trailer's 6-digit count;"
                          f" split them into files of at most {MAX_TRANSFERS:,}",
                          field="transfers")

    records = [_header_record(sender, transfer_date, directory)]
    names: dict[tuple[str, str], tuple[str, str]] = {}
    owners: dict[str, str] = {}
    total_yen = 0
    for transfer in transfers:
        records.append(_data_record(transfer, directory, names))
        _claim_customer_code(transfer, owners)
        total_yen += transfer.amount_yen
    if total_yen > MAX_TOTAL_YEN:
        raise ZenginError(f"the {len(transfers):,} transfers total {total_yen:,} yen, more than"
                          f" the trailer's 12 digits hold ({MAX_TOTAL_YEN:,}); split them into"
                          " several files", field="transfers")
    records.append(_trailer_record(len(transfers), total_yen))
    records.append(_end_record())

    data = _encode(records, LINE_END if line_ends else "")
    logger.info("built transfer file for %s: %d transfers, %d yen",
                transfer_date.isoformat(), len(transfers), total_yen)
    return data


def _claim_customer_code(transfer: Transfer, owners: dict[str, str]) -> None:
    if transfer.customer_code1 == "":
        return
    code = transfer.customer_code1.zfill(10)
    if code in owners:
        subject = _Subject.merchant(transfer.merchant_id)
        raise subject.error("customer_code1", f"{transfer.customer_code1!r} is also used by the"
                            f" transfer to merchant {shorten(owners[code])!r}; each transfer"
                            " needs its own code so that bank results can be matched")
    owners[code] = transfer.merchant_id


def _encode(records: list[str], line_end: str) -> bytes:
    for record in records:
        if len(record) != RECORD_BYTES:
            raise RuntimeError(f"record of kind {record[:1]!r} is {len(record)} characters,"
                               f" not {RECORD_BYTES}; the record builder is wrong")
    data = (line_end.join(records) + line_end).encode(ENCODING)
    if len(data) != len(records) * (RECORD_BYTES + len(line_end)):
        raise RuntimeError("a record contains a character that is not one byte in cp932")
    return data


# --- result files --------------------------------------------------------------------------


def parse_result_file(data: bytes, *,
                      result_position: int = DEFAULT_RESULT_POSITION) -> list[TransferResult]:
    """Read a bank's result file: 120-byte records or ``customer_code1,result`` CSV.

    See the module docstring for both formats. ``result_position`` is the 1-based byte of the
    data record that contains the result code. Raises ``ZenginError`` for anything unexpected: a
    record of another length or kind, a blank result, a trailer that does not match, a repeated
    customer code, or a CSV row that is not two values.
    """
    if result_position not in RESULT_POSITIONS:
        raise ValueError(f"result_position {result_position} is outside the data record's"
                         f" dummy area, bytes {RESULT_POSITIONS[0]}-{RESULT_POSITIONS[-1]}")
    if not data.strip():
        raise _result_error("the file is empty")
    if _looks_like_csv(data):
        return _parse_result_csv(data)
    return _parse_result_records(data, result_position)


def _looks_like_csv(data: bytes) -> bool:
    first_line = data.split(b"\n", 1)[0].rstrip(b"\r")
    return len(first_line) < RECORD_BYTES and b"," in first_line


def _result_error(problem: str) -> ZenginError:
    return ZenginError(f"result file: {problem}", field="result_file")


def _split_records(data: bytes) -> list[bytes]:
    """Split 120-byte records, with or without CR LF (or LF) line ends."""
    if data.endswith(b"\x1a"):  # an MS-DOS end-of-file mark some bank systems append
        data = data[:-1]
    if b"\n" in data:
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        records = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    else:
        records = [data[start:start + RECORD_BYTES] for start in range(0, len(data), RECORD_BYTES)]
    for number, record in enumerate(records, start=1):
        if len(record) != RECORD_BYTES:
            raise _result_error(f"record {number} is {len(record)} bytes, not {RECORD_BYTES};"
                                " the file is damaged or not a Zengin file")
    return records


def _check_record_kinds(records: list[bytes]) -> None:
    """Require one header, data records, one trailer and one end record, in that order."""
    kinds = b"".join(record[:1] for record in records)
    if re.fullmatch(rb"12+89", kinds) is None:
        raise _result_error(f"record kinds (データ区分) are {shorten(kinds.decode('latin-1'))!r};"
                            " expected 1, then 2 for each transfer, then 8 and 9")
    category = records[0][1:3]
    if category != CATEGORY_TOTAL_TRANSFER.encode():
        raise _result_error(f"種別コード is {category!r}, not 21; this is not a 総合振込 file")


def _number(record: bytes, number: int, start: int, end: int, field: str) -> str:
    """Return bytes ``start``-``end`` (1-based, inclusive) of a record, which must be digits."""
    value = record[start - 1:end]
    if _DIGIT_BYTES.fullmatch(value) is None:
        raise _result_error(f"record {number}: {field} {value!r} is not digits")
    return value.decode("ascii")


def _result_code(record: bytes, number: int, position: int) -> str:
    code = record[position - 1:position]
    if code == b" ":
        raise _result_error(
            f"record {number} has no result code at byte {position}; this is a transfer file,"
            " not the bank's result, or the bank puts the code at another byte (give it with"
            " chiiki-settle payout-result --result-position N, 112 to 120)"
        )
    if _RESULT_CODE_BYTE.fullmatch(code) is None:
        raise _result_error(f"record {number}: result code {code!r} at byte {position} is not"
                            " a digit or an upper-case letter")
    return code.decode("ascii")


def _data_result(record: bytes, number: int, position: int) -> TransferResult:
    return TransferResult(
        customer_code1=_number(record, number, 92, 101, "customer_code1"),
        result_code=_result_code(record, number, position),
        record_number=number,
        amount_yen=int(_number(record, number, 81, 90, "amount_yen")),
        bank_code=_number(record, number, 2, 5, "bank_code"),
        branch_code=_number(record, number, 21, 23, "branch_code"),
        account_number=_number(record, number, 44, 50, "account_number"),
        holder_name=record[50:80].decode(ENCODING, errors="replace").rstrip(" "),
    )


def _parse_result_records(data: bytes, position: int) -> list[TransferResult]:
    records = _split_records(data)
    _check_record_kinds(records)
    results = [_data_result(record, number, position)
               for number, record in enumerate(records[1:-2], start=2)]

    trailer_number = len(records) - 1
    count = int(_number(records[-2], trailer_number, 2, 7, "合計件数"))
    total_yen = int(_number(records[-2], trailer_number, 8, 19, "合計金額"))
    found_yen = sum(result.amount_yen or 0 for result in results)
    if (count, total_yen) != (len(results), found_yen):
        raise _result_error(f"the trailer gives {count} transfers of {total_yen:,} yen, but the"
                            f" file holds {len(results)} of {found_yen:,} yen; it is incomplete"
                            " or damaged, so ask the bank for it again")
    _check_unique_results(results)
    return results


def _parse_result_csv(data: bytes) -> list[TransferResult]:
    text = data.removeprefix(b"\xef\xbb\xbf")
    try:
        lines = text.decode("ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise _result_error(f"the CSV has a non-ASCII byte at offset {exc.start}; write only"
                            " customer_code1,result rows") from exc

    results: list[TransferResult] = []
    for number, line in enumerate(lines, start=1):
        cells = [cell.strip() for cell in line.split(",")]
        if cells == [""] or (not results and [cell.lower() for cell in cells] == CSV_HEADING):
            continue
        if len(cells) != 2 or re.fullmatch(r"[0-9]{1,10}", cells[0], re.ASCII) is None \
                or re.fullmatch(r"[0-9A-Za-z]{1,4}", cells[1], re.ASCII) is None:
            raise _result_error(f"CSV line {number} {shorten(line)!r} is invalid; write"
                                " customer_code1,result with 1-10 digits and a result code"
                                " (0 for paid)")
        results.append(TransferResult(customer_code1=cells[0].zfill(10),
                                      result_code=cells[1].upper(), record_number=number))
    if not results:
        raise _result_error("the CSV has no customer_code1,result rows")
    _check_unique_results(results)
    return results


def _check_unique_results(results: list[TransferResult]) -> None:
    seen: dict[str, int] = {}
    for result in results:
        first = seen.setdefault(result.customer_code1, result.record_number)
        if first != result.record_number:
            raise _result_error(f"customer_code1 {result.customer_code1} appears in record"
                                f" {first} and record {result.record_number}, so the results"
                                " cannot be matched to payouts")
