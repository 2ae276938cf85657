"""A headless counter: takes a list of payments through the real terminal core, as a subprocess.

The fault tests start this program, kill it with SIGKILL at chosen moments and start it again on
the same data directory. It uses the enrolled key and terminal id in ``--data-dir``, the store
there, a ``SyncWorker`` draining in the background, ``OfflineAcceptor`` for offline codes and
``ApiClient`` for online codes, exactly as the Qt terminal wires them, without Qt.

``--items`` is a JSON file: a list of payments, each ``{"amount_yen": N, "offline_code": "CKO1...",
"online": bool}``, plus ``--wallet``, a JSON file ``{"server_url": ..., "token": ...}`` of the
customer's wallet, used to fetch a 20-digit code for each online payment. The wallet talks to
the server directly, as the customer's phone has its own network. An online payment is tried
online unless the sync worker has found the server unreachable. Then the clerk scans the online
code, the terminal shows the "show the offline code" notice, and the clerk scans the offline code.

Every approval prints one line ``APPROVED <capture_id> <amount_yen>`` and flushes stdout, which
is the moment the clerk sees 承認. An approval the terminal found after the sale had ended (the
clerk reads it on the status strip) prints ``RECOVERED <capture_id> <amount_yen>``. Other
lines: ``DECLINED <item> <reason>``, ``REJECTED <item> <message key>``, ``UNKNOWN <item>`` (an
online redeem whose outcome is still unknown after the resends; the sale is cancelled, the sync
worker finds the outcome, and the item is looked at again), ``SKIPPED <item>`` (done by an
earlier run), and ``DRAINED`` when every capture is acknowledged.

Restarts: the driver knows an item's earlier attempts as the clerk would, from what the terminal
shows. Idempotency keys are derived from ``--seed`` and the item index, so the driver can look up
the terminal's redemptions of an item. An item whose offline code the store has taken, or whose
online redemption was approved, is not taken again. While a redemption of the item is still open
(the terminal stopped before it learned the outcome), the driver waits for the sync worker to
resolve it, as the clerk waits for the status strip.

Crash points for the tests: ``--kill-after-commit N`` sends SIGKILL to this process right after
the N-th capture of this run is committed and before its APPROVED line,
``--kill-during-sync N`` right after the N-th sync response of this run arrived and before the
terminal applied it, and ``--kill-after-redeem N`` right after the N-th CPM redeem response
arrived and before the sale recorded it.

Exit status: 0 when every payment was handled and the outbox is empty, 3 when the outbox did
not drain within ``--max-run-s``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import os
import random
import signal
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from terminal import messages
from terminal.api_client import ApiClient
from terminal.clock import ServerClock
from terminal.config import OfflineConfig
from terminal.enrolment import terminal_id_path
from terminal.keys import Signer, key_path, load_private_key
from terminal.offline import OfflineAcceptor
from terminal.sale import Key, Sale, SaleState
from terminal.store import Redemption, open_store
from terminal.sync import Backoff, SyncEngine, SyncWorker

logger = logging.getLogger("terminal_driver")

EXIT_NOT_DRAINED = 3
MAX_AMOUNT_YEN = 100_000
# Resends of an online redeem whose outcome is unknown, and the pause between them.
RESEND_ATTEMPTS = 8
RESEND_PAUSE_S = 0.2
# How often the drain wait checks the outbox, and the redemption wait the store.
DRAIN_POLL_S = 0.05
# Attempts of one item are numbered; no item takes more than this many in a test.
MAX_ATTEMPTS = 100
# What the clerk scans when the customer first shows an online code while the terminal is
# offline. The terminal never sends it, so it needs no valid check digit.
OFFLINE_PLACEHOLDER_CODE = "91" + "0" * 18


@dataclass(frozen=True)
class Item:
    index: int
    amount_yen: int
    offline_code: str
    online: bool


class KillTransport(httpx.BaseTransport):
    """An HTTP transport that kills the process once the N-th response to ``path`` has arrived."""

    def __init__(self, path: str, kill_at: int) -> None:
        self._inner = httpx.HTTPTransport()
        self._path = path
        self._kill_at = kill_at
        self._responses = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if request.url.path == self._path:
            response.read()
            self._responses += 1
            if self._responses == self._kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return response

    def close(self) -> None:
        self._inner.close()


class Counter:
    """The terminal core of one driver run."""

    def __init__(self, args: argparse.Namespace) -> None:
        data_dir: Path = args.data_dir
        self.seed: int = args.seed
        self.clock = ServerClock()
        signer = Signer(load_private_key(key_path(data_dir)), clock=self.clock.now)
        terminal_id = terminal_id_path(data_dir).read_text(encoding="utf-8").strip()

        self.store = open_store(data_dir)
        self.sale_api = ApiClient(
            args.server_url, terminal_id, signer, timeout_s=args.timeout_s,
            transport=_kill_transport("/v1/payments/cpm", args.kill_after_redeem),
        )
        sync_api = ApiClient(
            args.server_url, terminal_id, signer, timeout_s=args.timeout_s,
            transport=_kill_transport("/v1/sync", args.kill_during_sync),
        )
        backoff = Backoff(base_s=args.backoff_base_s, cap_s=args.backoff_cap_s)
        engine = SyncEngine(
            self.store, sync_api, self.clock, random=random.Random(self.seed).random, backoff=backoff
        )
        self.worker = SyncWorker(engine, probe_interval_s=args.probe_interval_s)
        self.acceptor = OfflineAcceptor(
            self.store, OfflineConfig(), self.clock, lambda: uuid.uuid4().hex,
            terminal_id=terminal_id,
        )
        if args.kill_after_commit:
            self.store.add_capture_listener(_kill_after(args.kill_after_commit))
        self.wallet = json.loads(Path(args.wallet).read_text(encoding="utf-8"))
        self.wallet_http = httpx.Client(base_url=self.wallet["server_url"], timeout=2.0)

    def close(self) -> None:
        self.worker.stop()
        self.sale_api.close()
        self.wallet_http.close()
        self.store.close()

    # --- one payment -------------------------------------------------------------------

    def take(self, item: Item, deadline: float) -> bool:
        """Take one payment; return False when its outcome is still unknown."""
        if self._taken_offline(item):
            emit(f"SKIPPED {item.index}")
            return True
        earlier = self._redemptions(item)
        if any(redemption.state == "open" for redemption in earlier):
            if not self._wait_resolved(item, deadline):
                return False
            earlier = self._redemptions(item)
        approved = [redemption for redemption in earlier if redemption.state == "approved"]
        if approved:
            self._report_earlier(item, approved[0])
            return True
        if item.online and not self.worker.offline:
            online_code = self._fetch_online_code()
            if online_code is not None:
                return self._pay_online(item, online_code, attempt=len(earlier))
        self._pay_offline(item, attempt=len(earlier))
        return True

    def _taken_offline(self, item: Item) -> bool:
        return any(capture.offline_code == item.offline_code for capture in self.store.captures())

    def _redemptions(self, item: Item) -> list[Redemption]:
        """Return the terminal's redemptions of this item's attempts, in attempt order."""
        found = []
        for attempt in range(MAX_ATTEMPTS):
            redemption = self.store.redemption(item_key(self.seed, item.index, attempt))
            if redemption is None:
                break
            found.append(redemption)
        return found

    def _wait_resolved(self, item: Item, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if not any(redemption.state == "open" for redemption in self._redemptions(item)):
                return True
            self.worker.wake()
            time.sleep(DRAIN_POLL_S)
        return False

    def _report_earlier(self, item: Item, redemption: Redemption) -> None:
        capture = self.store.capture(redemption.key)
        assert capture is not None, "an approved redemption has its capture"
        if redemption.recovered and not redemption.acknowledged:
            emit(f"RECOVERED {capture.capture_id} {capture.amount_yen}")
            self.store.acknowledge_recovery(redemption.key)
        else:
            emit(f"SKIPPED {item.index}")

    def _pay_offline(self, item: Item, attempt: int) -> None:
        sale = self._new_sale(item, attempt, is_offline=lambda: True)
        if item.online:
            # The customer showed a 20-digit code first; offline, the terminal requests the other.
            notice = sale.submit_code(self.sale_api, OFFLINE_PLACEHOLDER_CODE)
            if notice != messages.SHOW_OFFLINE_CODE:
                emit(f"REJECTED {item.index} {notice}")
                return
        notice = sale.submit_code(self.sale_api, item.offline_code)
        if sale.state is SaleState.APPROVED:
            self._approved(sale)
        elif notice == messages.OFFLINE_CODE_USED:
            emit(f"SKIPPED {item.index}")
        else:
            emit(f"REJECTED {item.index} {notice}")

    def _pay_online(self, item: Item, online_code: str, attempt: int) -> bool:
        sale = self._new_sale(item, attempt)
        sale.submit_code(self.sale_api, online_code)
        return self._finish_online(item, sale)

    def _finish_online(self, item: Item, sale: Sale) -> bool:
        for _ in range(RESEND_ATTEMPTS):
            if not sale.outcome_unknown:
                break
            time.sleep(RESEND_PAUSE_S)
            sale.resend_code(self.sale_api)
        if sale.state is SaleState.APPROVED:
            self._approved(sale)
            return True
        if sale.outcome_unknown:
            emit(f"UNKNOWN {item.index}")
            sale.cancel()
            sale.reset()
            return False
        emit(f"DECLINED {item.index} {sale.decline_code}")
        return True

    def _new_sale(
        self, item: Item, attempt: int, is_offline: Callable[[], bool] | None = None
    ) -> Sale:
        keys = (item_key(self.seed, item.index, n) for n in itertools.count(attempt))
        sale = Sale(
            MAX_AMOUNT_YEN,
            new_key=lambda: next(keys),
            store=self.store,
            offline=self.acceptor,
            is_offline=is_offline or (lambda: self.worker.offline),
            now=self.clock.now,
        )
        for digit in str(item.amount_yen):
            sale.press(digit)
        sale.press(Key.RATE_10)
        sale.start_cpm()
        return sale

    def _approved(self, sale: Sale) -> None:
        assert sale.capture is not None and sale.payment is not None
        emit(f"APPROVED {sale.capture.capture_id} {sale.payment.amount_yen}")

    def _fetch_online_code(self) -> str | None:
        """Ask the customer's wallet for a payment code; None when the server is down."""
        headers = {"Authorization": f"Bearer {self.wallet['token']}"}
        try:
            response = self.wallet_http.post("/v1/wallet/payment-codes", headers=headers)
        except httpx.HTTPError as exc:
            logger.info("wallet could not fetch an online code: %s", exc)
            return None
        if response.status_code != 200:
            return None
        code: str = response.json()["code"]
        return code

    # --- draining ----------------------------------------------------------------------

    def wait_drained(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if self.store.waiting().count == 0:
                return True
            self.worker.wake()
            time.sleep(DRAIN_POLL_S)
        return self.store.waiting().count == 0


def item_key(seed: int, index: int, n: int) -> str:
    """Return the key of attempt ``n`` at item ``index``, the same in every run."""
    return hashlib.sha256(f"{seed}:{index}:{n}".encode()).hexdigest()[:32]


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _kill_transport(path: str, kill_at: int) -> httpx.BaseTransport | None:
    return KillTransport(path, kill_at) if kill_at else None


def _kill_after(count: int) -> Callable[[], None]:
    commits = iter(range(1, count + 1))

    def listener() -> None:
        if next(commits, count + 1) == count:
            os.kill(os.getpid(), signal.SIGKILL)

    return listener


def read_items(path: Path) -> list[Item]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        Item(index, entry["amount_yen"], entry["offline_code"], bool(entry.get("online")))
        for index, entry in enumerate(raw)
    ]


def run(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.max_run_s
    items = read_items(args.items)
    counter = Counter(args)
    counter.worker.start()
    try:
        unresolved = _take_all(counter, items, deadline, args.pause_s)
        while unresolved and time.monotonic() < deadline:
            unresolved = [item for item in unresolved if not counter.take(item, deadline)]
        if not counter.wait_drained(deadline) or unresolved:
            return EXIT_NOT_DRAINED
        emit("DRAINED")
        return 0
    finally:
        counter.close()


def _take_all(
    counter: Counter, items: Sequence[Item], deadline: float, pause_s: float
) -> list[Item]:
    unresolved = []
    for item in items:
        if not counter.take(item, deadline):
            unresolved.append(item)
        time.sleep(pause_s)
    return unresolved


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="enrolled terminal directory")
    parser.add_argument("--server-url", required=True, help="server base URL, without /v1")
    parser.add_argument("--items", type=Path, required=True, help="JSON list of payments")
    parser.add_argument("--wallet", type=Path, required=True, help="wallet credentials JSON")
    parser.add_argument("--seed", type=int, default=0, help="seed of keys and backoff jitter")
    parser.add_argument("--pause-s", type=float, default=0.05, help="pause between payments")
    parser.add_argument("--max-run-s", type=float, default=30.0, help="give up after this long")
    parser.add_argument("--timeout-s", type=float, default=2.0, help="HTTP timeout per request")
    parser.add_argument("--backoff-base-s", type=float, default=0.05)
    parser.add_argument("--backoff-cap-s", type=float, default=0.4)
    parser.add_argument("--probe-interval-s", type=float, default=0.2)
    parser.add_argument("--kill-after-commit", type=int, default=0, metavar="N")
    parser.add_argument("--kill-during-sync", type=int, default=0, metavar="N")
    parser.add_argument("--kill-after-redeem", type=int, default=0, metavar="N")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
    )
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
