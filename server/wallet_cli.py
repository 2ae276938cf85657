"""chiiki-wallet: the reference wallet client, a command-line stand-in for the smartphone app.

It documents the wallet side of the API: create a wallet, top it up on a demo server, show a
one-time payment code for the shop to scan, and pay a shop's QR given as text or as an image.
``inspect`` decodes any EMV merchant-presented payload without touching the network.

The wallet's id and bearer token are kept in a JSON file (``--wallet-file``, or the
CHIIKI_WALLET_FILE environment variable, default ``~/.config/chiiki-wallet/wallet.json``),
readable only by its owner.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from terminal import emv
from terminal.protocol import (
    API_PREFIX,
    Balance,
    ErrorResponse,
    IntentPay,
    Payment,
    PaymentCode,
    TopUp,
    WalletCreated,
)

logger = logging.getLogger(__name__)

DEFAULT_WALLET_FILE = Path("~/.config/chiiki-wallet/wallet.json")
REQUEST_TIMEOUT_S = 10.0
ModelT = TypeVar("ModelT", bound=BaseModel)


class WalletError(Exception):
    """A wallet operation failed; the message names the failure and what to do next."""


class WalletDeclined(WalletError):
    """The server refused the request; ``code`` is the protocol ErrorCode value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class WalletCredentials:
    server_url: str
    wallet_id: str
    token: str


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class WalletClient:
    """A wallet's HTTP client. ``credentials`` is None until create() has run."""

    def __init__(
        self,
        server_url: str,
        credentials: WalletCredentials | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.credentials = credentials
        self._http = httpx.Client(
            base_url=self.server_url + API_PREFIX, timeout=REQUEST_TIMEOUT_S, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, model: type[ModelT], body: Any = None) -> ModelT:
        headers = {}
        if self.credentials is not None:
            headers["Authorization"] = f"Bearer {self.credentials.token}"
        try:
            response = self._http.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise WalletError(
                f"cannot reach the server at {self.server_url} ({exc}); check the URL and "
                "that the server is running"
            ) from exc
        logger.info("%s %s -> %s", method, path, response.status_code)
        if response.is_error:
            raise _declined(response)
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise WalletError(f"the server sent an unreadable response to {path}: {exc}") from exc

    def create(self) -> WalletCredentials:
        created = self._request("POST", "/wallets", WalletCreated)
        self.credentials = WalletCredentials(self.server_url, created.wallet_id, created.token)
        return self.credentials

    def balance(self) -> Balance:
        return self._request("GET", "/wallet", Balance)

    def topup(self, amount_yen: int, idempotency_key: str | None = None) -> Balance:
        body = TopUp(amount_yen=amount_yen, idempotency_key=idempotency_key or new_idempotency_key())
        return self._request("POST", "/wallet/topup", Balance, body.model_dump())

    def payment_code(self) -> PaymentCode:
        return self._request("POST", "/wallet/payment-codes", PaymentCode)

    def pay_payload(self, payload: str, idempotency_key: str | None = None) -> Payment:
        """Pay the intent a shop's QR payload names, for the amount the payload carries."""
        try:
            request = emv.read_payment_request(payload)
        except emv.EmvError as exc:
            raise WalletError(f"this QR cannot be paid: {exc}") from exc
        body = IntentPay(
            amount_yen=request.amount_yen,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )
        return self._request("POST", f"/intents/{request.intent_id}/pay", Payment, body.model_dump())


def _declined(response: httpx.Response) -> WalletError:
    try:
        error = ErrorResponse.model_validate(response.json()).error
    except (ValueError, ValidationError):
        return WalletError(f"the server returned HTTP {response.status_code} without an error body")
    return WalletDeclined(error.code.value, error.message)


# --- wallet file -------------------------------------------------------------------------


def wallet_file_path(option: str | None) -> Path:
    raw = option or os.environ.get("CHIIKI_WALLET_FILE") or str(DEFAULT_WALLET_FILE)
    return Path(raw).expanduser()


def save_credentials(path: Path, credentials: WalletCredentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(credentials.__dict__, handle)


def load_credentials(path: Path) -> WalletCredentials:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return WalletCredentials(data["server_url"], data["wallet_id"], data["token"])
    except FileNotFoundError as exc:
        raise WalletError(f"no wallet file at {path}; run 'chiiki-wallet create' first") from exc
    except OSError as exc:
        raise WalletError(f"cannot read wallet file {path}: {exc.strerror}") from exc
    except KeyError as exc:
        raise WalletError(
            f"wallet file {path} is damaged: the key {exc} is missing; restore it from a backup"
        ) from exc
    except (ValueError, TypeError) as exc:
        raise WalletError(
            f"wallet file {path} is damaged ({exc}); restore it from a backup"
        ) from exc


# --- commands ----------------------------------------------------------------------------


def _client_from_file(args: argparse.Namespace) -> WalletClient:
    credentials = load_credentials(wallet_file_path(args.wallet_file))
    return WalletClient(args.server or credentials.server_url, credentials)


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_create(args: argparse.Namespace) -> int:
    if not args.server:
        raise WalletError("--server URL is required to create a wallet")
    path = wallet_file_path(args.wallet_file)
    if path.exists():
        # The server keeps only a hash of the token, so overwriting the file would strand the
        # coin of the wallet it holds.
        raise WalletError(
            f"{path} already holds a wallet; choose another --wallet-file for a new one"
        )
    credentials = WalletClient(args.server).create()
    try:
        save_credentials(path, credentials)
    except OSError as exc:
        raise WalletError(
            f"wallet {credentials.wallet_id} was created but {path} could not be written "
            f"({exc.strerror}); its token is lost, so create another with a writable --wallet-file"
        ) from exc
    print(f"wallet {credentials.wallet_id} created; saved to {path}")
    return 0


def cmd_balance(args: argparse.Namespace) -> int:
    _print_json(_client_from_file(args).balance().model_dump(mode="json"))
    return 0


def cmd_topup(args: argparse.Namespace) -> int:
    balance = _client_from_file(args).topup(args.amount_yen)
    print(f"topped up {args.amount_yen} yen; balance {balance.total_yen} yen")
    return 0


def cmd_code(args: argparse.Namespace) -> int:
    code = _client_from_file(args).payment_code()
    if args.qr_file:
        import segno

        segno.make(code.code, error="m", micro=False).save(args.qr_file, scale=8, border=4)
    print(code.code)
    print(f"valid until {code.expires_at}", file=sys.stderr)
    return 0


def _payload_from_args(args: argparse.Namespace) -> str:
    if args.image:
        from drivers.scanner.qrimage import QrImageError, read_valid_qr_file

        try:
            return read_valid_qr_file(Path(args.image), emv.parse_payload)
        except QrImageError as exc:
            raise WalletError(str(exc)) from exc
    if not args.payload:
        raise WalletError("give the QR payload as text or --image FILE")
    return str(args.payload)


def cmd_pay(args: argparse.Namespace) -> int:
    payload = _payload_from_args(args)
    client = _client_from_file(args)
    payment = client.pay_payload(payload, args.idempotency_key)
    print(f"paid {payment.amount_yen} yen; payment {payment.payment_id}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    try:
        objects = emv.parse_payload(args.payload)
    except emv.EmvError as exc:
        print(f"invalid EMV payload: {exc}", file=sys.stderr)
        return 1
    _print_json(objects)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chiiki-wallet", description=__doc__.split("\n")[0])
    parser.add_argument("--wallet-file", help="where the wallet id and token are kept")
    parser.add_argument("--server", help="settlement server URL, e.g. http://127.0.0.1:8000")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("create", help="create a new wallet on --server").set_defaults(func=cmd_create)
    commands.add_parser("balance", help="show the balance by kind").set_defaults(func=cmd_balance)

    topup = commands.add_parser("topup", help="add coin (demo servers only)")
    topup.add_argument("amount_yen", type=_positive_yen, help="amount in whole yen")
    topup.set_defaults(func=cmd_topup)

    code = commands.add_parser("code", help="show a one-time payment code for the shop to scan")
    code.add_argument("--qr-file", help="also write the code as a QR PNG to this path")
    code.set_defaults(func=cmd_code)

    pay = commands.add_parser("pay", help="pay a shop's QR (payload text or --image)")
    pay.add_argument("payload", nargs="?", help="EMV payload text")
    pay.add_argument("--image", help="image file of the QR (PNG, JPEG, ...)")
    pay.add_argument("--idempotency-key", help="reuse a key to retry a payment safely")
    pay.set_defaults(func=cmd_pay)

    inspect = commands.add_parser("inspect", help="print an EMV payload's data objects as JSON")
    inspect.add_argument("payload", help="EMV payload text")
    inspect.set_defaults(func=cmd_inspect)
    return parser


def _positive_yen(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of yen of at least 1")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get("CHIIKI_LOG_LEVEL", "WARNING"))
    try:
        return int(args.func(args))
    except WalletDeclined as exc:
        print(f"declined: {exc}", file=sys.stderr)
        return 2
    except WalletError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
