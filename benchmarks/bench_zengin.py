"""Zengin transfer file: time to build one file of 10,000 payouts, and to read its result.

Build: ``server.zengin.build_transfer_file`` for ``--payouts`` transfers from one sender, checked
against the zengin-code bank directory (loaded before the timer starts). The transfers go to
the first 100 branches of the 20 banks with the most branches, so each build converts about
2,000 bank and branch names. The holder names mix hiragana, full-width and half-width katakana,
voiced and small kana and latin letters. Every name is distinct because it ends in the payout's
number, so only the per-character cache helps.

Baseline in the same run: encoding the same number of fixed 120-byte str records to cp932 and
joining them with CR LF, which is the least any writer of the format does.

Result: ``server.zengin.parse_result_file`` on the built file with a result code in byte 120 of
every data record.

Run from the repository root: .venv/bin/python benchmarks/bench_zengin.py [--payouts N] [--repeat N]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.zengin import Sender, Transfer, build_transfer_file, parse_result_file  # noqa: E402
from server.zengin_banks import BankDirectory, default_directory  # noqa: E402

TRANSFER_DATE = date(2026, 12, 7)
NAMES = ["やまだ しょうてん", "カ)チイキベーカリー", "ｷﾞﾝｻﾞ ｺｰﾋｰ", "ｓｕｚｕｋｉ ｈａｎａｋｏ",
         "ユ)ガッコウマエ パン", "Cafe Sakura", "たなか　きょうこ", "ﾌﾟﾘﾝ ﾊﾟｰﾗｰ"]


def _branches(directory: BankDirectory) -> list[tuple[str, str]]:
    banks = sorted(directory.banks(), key=lambda bank: -len(directory.branches(bank.code)))[:20]
    return [(bank.code, branch.code) for bank in banks
            for branch in directory.branches(bank.code)[:100]]


def _transfers(count: int, directory: BankDirectory) -> list[Transfer]:
    branches = _branches(directory)
    return [
        Transfer(
            merchant_id=f"M-{index:06d}", bank_code=branches[index % len(branches)][0],
            branch_code=branches[index % len(branches)][1], account_type=1,
            account_number=f"{index % 9_999_999 + 1:07d}",
            holder_name=f"{NAMES[index % len(NAMES)]} {index}",
            amount_yen=1_000 + index, customer_code1=str(index + 1),
        )
        for index in range(count)
    ]


def _baseline(count: int) -> bytes:
    record = "2" + "0" * 49 + "ﾔﾏﾀﾞ ﾀﾛｳ".ljust(30) + "0" * 31 + "7" + " " * 8
    return "\r\n".join([record] * (count + 3)).encode("cp932") + b"\r\n"


def _time(function: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def _with_results(data: bytes, count: int) -> bytes:
    marked = bytearray(data)
    for index in range(1, count + 1):
        marked[index * 122 + 119] = ord("0")
    return bytes(marked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payouts", type=int, default=10_000, help="number of transfers in the file")
    parser.add_argument("--repeat", type=int, default=7, help="number of timed runs of each step")
    args = parser.parse_args()

    load_start = time.perf_counter()
    directory = default_directory()
    load_s = time.perf_counter() - load_start
    sender = Sender(consignor_code="1234567890", name="チイキコイン(カ", bank_code="0001",
                    branch_code="001", account_type=1, account_number="1234567")
    transfers = _transfers(args.payouts, directory)

    built = build_transfer_file(sender, TRANSFER_DATE, transfers, bank_data=directory)
    result_file = _with_results(built, args.payouts)
    build = _time(lambda: build_transfer_file(sender, TRANSFER_DATE, transfers,
                                              bank_data=directory), args.repeat)
    baseline = _time(lambda: _baseline(args.payouts), args.repeat)
    parse = _time(lambda: parse_result_file(result_file), args.repeat)

    print(f"python {platform.python_version()}, {platform.machine()}, zengin-code "
          f"{directory.version}; directory load {load_s * 1000:.0f} ms (first use)")
    print(f"{args.payouts} payouts, {len(built):,} bytes, {args.repeat} runs; median (min) ms")
    for label, times in (("build_transfer_file", build), ("baseline encode", baseline),
                         ("parse_result_file", parse)):
        print(f"{label:20} {statistics.median(times) * 1000:8.1f} ({min(times) * 1000:.1f})")
    for label, times in (("build", build), ("parse", parse)):
        median_ratio = statistics.median(times) / statistics.median(baseline)
        min_ratio = min(times) / min(baseline)
        print(f"{label} / baseline: median {median_ratio:.1f}, min {min_ratio:.1f}")


if __name__ == "__main__":
    main()
