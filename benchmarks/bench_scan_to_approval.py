"""Local time from a wedge scanner's last key to the terminal's 承認, over loopback.

One process runs the embedded settlement server (SQLite file, uvicorn on 127.0.0.1) and the
terminal core. For each round the wallet fetches a fresh payment code, which is not timed.
Then the timer starts and the code's keys and Enter go through the wedge detector with scanner
timing. The sale redeems the scanned code through the signed API client, and the timer stops
when the sale is approved. The sale writes to a terminal store as the Qt terminal does: the
redemption is committed before the request, and the capture after it (SQLite WAL,
synchronous=FULL). The baseline in the same run is an unsigned GET /v1/health round trip on the
same kind of httpx client, which is the floor any request from the terminal pays.

Run from the repository root: python benchmarks/bench_scan_to_approval.py [--rounds N]
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from drivers.scanner.wedge import WedgeDetector
from server.embedded import start_embedded_server
from server.wallet_cli import WalletClient
from terminal.api_client import ApiClient
from terminal.keys import Signer, load_or_create_private_key
from terminal.sale import Sale, SaleState
from terminal.store import Store, open_store

SCANNER_INTERKEY_MS = 2.0  # a typical USB wedge scanner types one key every 1-10 ms
PAYMENT_YEN = 100


def _scan(detector: WedgeDetector, code: str, start_ms: float) -> str:
    timestamp_ms = start_ms
    for char in code:
        detector.feed(char, timestamp_ms)
        timestamp_ms += SCANNER_INTERKEY_MS
    output = detector.feed_enter(timestamp_ms)
    if output.scan is None:
        raise RuntimeError(f"the detector did not report a scan: {output}")
    return output.scan.text


def _scan_round(
    api: ApiClient, wallet: WalletClient, detector: WedgeDetector, store: Store, index: int
) -> float:
    sale = Sale(1_000_000, store=store)
    for key in str(PAYMENT_YEN):
        sale.press(key)
    sale.press("10%")
    sale.start_cpm()
    code = wallet.payment_code().code

    started = time.perf_counter()
    scanned = _scan(detector, code, start_ms=index * 10_000.0)
    sale.submit_code(api, scanned)
    elapsed = time.perf_counter() - started

    if sale.state is not SaleState.APPROVED:
        raise RuntimeError(f"round {index} ended in {sale.state}: {sale.notice}")
    return elapsed


def _health_round(http: httpx.Client) -> float:
    started = time.perf_counter()
    http.get("/v1/health").raise_for_status()
    return time.perf_counter() - started


def _summary(samples_s: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples_s)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="payments to time")
    args = parser.parse_args()
    logging.disable(logging.INFO)

    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        from server.db import init_db
        from server.demo import seed_demo

        seed = seed_demo(init_db(db_url), wallet_balance_yen=PAYMENT_YEN * (args.rounds + 10))
        with start_embedded_server(db_url) as server:
            signer = Signer(load_or_create_private_key(Path(tmp)))
            api = ApiClient(server.url, None, signer)
            api.enrol(seed.activation_code)
            wallet = WalletClient(server.url)
            wallet.create()
            wallet.topup(PAYMENT_YEN * (args.rounds + 10))
            detector = WedgeDetector()
            store = open_store(Path(tmp) / "terminal")

            _scan_round(api, wallet, detector, store, 0)  # warm-up: connections and caches
            scans = [
                _scan_round(api, wallet, detector, store, i) for i in range(1, args.rounds + 1)
            ]
            store.close()
            with httpx.Client(base_url=server.url) as http:
                _health_round(http)
                health = [_health_round(http) for _ in range(args.rounds)]
            api.close()
            wallet.close()

    scan_median, scan_p95, scan_max = _summary(scans)
    base_median, base_p95, base_max = _summary(health)
    print(f"{args.rounds} rounds, Python {platform.python_version()}, {platform.machine()}")
    print()
    print("| path | median ms | p95 ms | max ms |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| scan to 承認 (CPM redeem) | {scan_median:.2f} | {scan_p95:.2f} | {scan_max:.2f} |")
    print(f"| baseline: GET /v1/health | {base_median:.2f} | {base_p95:.2f} | {base_max:.2f} |")
    print(f"\nratio scan / baseline (median): {scan_median / base_median:.1f}")


if __name__ == "__main__":
    main()
