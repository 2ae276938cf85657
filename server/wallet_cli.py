"""chiiki-wallet: the reference wallet client, a command-line stand-in for the smartphone app.

It documents the wallet side of the API: create a wallet, top it up on a demo server, show a
one-time payment code for the shop to scan, and pay a shop's QR given as text or as an image.
``inspect`` decodes any EMV merchant-presented payload without touching the network.
``offline-cert`` reserves an offline allowance and stores the server's certificate for it, and
``offline-code`` then makes signed codes that a terminal accepts without a connection.
``rally-code`` shows the participant code that stamp rally booths scan.
``coupons`` lists the wallet's store coupons, and ``coupons --coupon ID`` shows one coupon's
code for the shop to scan. ``code --coupon ID`` and ``offline-code --coupon ID`` show the
payment code and that coupon in one QR code (``server.wallet_paired``).
The wallet stores the coupons it fetches (``server.wallet_stored_coupons``), so
``offline-code --coupon ID`` falls back to the stored copy when the server cannot be reached.
``premium-sales``, ``premium-apply``, ``premium-status``, ``premium-cancel`` and ``premium-buy``
take part in premium point sales: apply (also for a household member), see the lottery
result, and buy the sets won.

The wallet's id and bearer token are kept in a JSON file (``--wallet-file``, or the
CHIIKI_WALLET_FILE environment variable, default ``~/.config/chiiki-wallet/wallet.json``),
readable only by its owner. The same file stores the wallet's offline key, its certificate, the
last code counter used and the last copy of each coupon. A lock file beside it (the wallet
file's name plus ``.lock``) stops two processes from taking the same counter.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ValidationError

from server.value_remaining import WalletPreferences
from terminal import emv, offline_code
from terminal.protocol import (
    API_PREFIX,
    MAX_PREMIUM_SETS,
    Balance,
    ErrorResponse,
    IntentPay,
    OfflineCertificate,
    OfflineCertificateRequest,
    ParticipantCode,
    ParticipantCodeList,
    Payment,
    PaymentCode,
    PremiumApplication,
    PremiumApplicationList,
    PremiumApply,
    PremiumPurchase,
    PremiumSale,
    PremiumSaleList,
    TopUp,
    WalletCreated,
    WalletCoupon,
    WalletCouponList,
    WalletValue,
    b64decode as protocol_b64decode,
    b64encode,
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


class ServerUnreachable(WalletError):
    """The request got no response because the connection failed or timed out.

    Only this error, never an HTTP response, lets a command fall back to what the wallet file
    stores.
    """

    def __init__(self, server_url: str, detail: str) -> None:
        super().__init__(
            f"cannot reach the server at {server_url} ({detail}); check the URL and that the"
            " server is running"
        )
        self.server_url = server_url
        self.detail = detail


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
        except (httpx.TimeoutException, httpx.NetworkError) as exc:
            raise ServerUnreachable(self.server_url, str(exc)) from exc
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

    def preferences(self) -> WalletPreferences:
        return self._request("GET", "/wallet/preferences", WalletPreferences)

    def set_receipt_balance(self, enabled: bool) -> WalletPreferences:
        body = WalletPreferences(show_balance_on_receipt=enabled)
        return self._request("PUT", "/wallet/preferences", WalletPreferences, body.model_dump())

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

    def offline_certificate(
        self,
        allowance_yen: int,
        public_key: Ed25519PublicKey,
        idempotency_key: str | None = None,
    ) -> OfflineCertificate:
        """Reserve ``allowance_yen`` for offline payments and get a certificate for the key."""
        body = OfflineCertificateRequest(
            allowance_yen=allowance_yen,
            public_key=b64encode(_raw_public_key(public_key)),
            idempotency_key=idempotency_key or new_idempotency_key(),
        )
        return self._request(
            "POST", "/wallet/offline-certificate", OfflineCertificate, body.model_dump()
        )

    def value(self) -> WalletValue:
        """Return the spendable value by kind and expiry."""
        return self._request("GET", "/wallet/value", WalletValue)

    def premium_sales(self) -> PremiumSaleList:
        return self._request("GET", "/premium/sales", PremiumSaleList)

    def premium_apply(self, sale_id: str, sets: int, for_wallet_id: str | None = None,
                      idempotency_key: str | None = None) -> PremiumApplication:
        body = PremiumApply(sets=sets, for_wallet_id=for_wallet_id,
                            idempotency_key=idempotency_key or new_idempotency_key())
        return self._request("POST", f"/premium/sales/{quote(sale_id, safe='')}/applications",
                             PremiumApplication, body.model_dump())

    def premium_applications(self) -> PremiumApplicationList:
        return self._request("GET", "/premium/applications", PremiumApplicationList)

    def premium_cancel(self, application_id: str) -> PremiumApplication:
        path = f"/premium/applications/{quote(application_id, safe='')}/cancel"
        return self._request("POST", path, PremiumApplication)

    def premium_application(self, application_id: str) -> PremiumApplication:
        path = f"/premium/applications/{quote(application_id, safe='')}"
        return self._request("GET", path, PremiumApplication)

    def premium_buy(self, application_id: str) -> PremiumPurchase:
        """Buy the sets an application won; repeating it after a lost response moves nothing."""
        path = f"/premium/applications/{quote(application_id, safe='')}/purchase"
        return self._request("POST", path, PremiumPurchase)

    def rallies(self) -> list[ParticipantCode]:
        """Return the wallet's participant code and progress for each rally not yet ended."""
        return self._request("GET", "/wallet/rallies", ParticipantCodeList).rallies

    def coupons(self) -> list[WalletCoupon]:
        """Return the wallet's coupons, newest first, with their codes and status."""
        return self._request("GET", "/wallet/coupons", WalletCouponList).coupons


# --- offline codes -----------------------------------------------------------------------


class OfflineWallet:
    """A wallet's offline signing key, its current certificate and the last counter used.

    ``next_code`` serves callers that keep this state in memory. A caller that stores it must
    save the value ``take_counter`` returns before showing the code ``make_code`` makes, so a
    crash can skip a counter but never reuse one.
    """

    def __init__(
        self,
        private_key: Ed25519PrivateKey,
        certificate: bytes | None = None,
        counter: int = 0,
    ) -> None:
        self.private_key = private_key
        self.certificate = certificate
        self.counter = counter

    @classmethod
    def generate(cls) -> OfflineWallet:
        return cls(Ed25519PrivateKey.generate())

    @property
    def certificate_body(self) -> offline_code.CertificateBody | None:
        if self.certificate is None:
            return None
        try:
            body, _, _ = offline_code.read_certificate(self.certificate)
        except offline_code.OfflineCodeError as exc:
            raise WalletError(
                f"the stored offline certificate is damaged ({exc}); run "
                "'chiiki-wallet offline-cert --allowance YEN' while online to get a new one"
            ) from exc
        return body

    def install_certificate(self, issued: OfflineCertificate, wallet_id: str) -> None:
        """Store a certificate from the server after checking that it names this key."""
        try:
            raw = protocol_b64decode(issued.certificate)
            body, _, _ = offline_code.read_certificate(raw)
        except ValueError as exc:
            raise WalletError(f"the server sent an unreadable offline certificate: {exc}") from exc
        if body.wallet_public_key != _raw_public_key(self.private_key.public_key()):
            raise WalletError(
                f"offline certificate {body.serial} names another public key; request a new one"
            )
        if body.wallet_id != wallet_id:
            raise WalletError(
                f"offline certificate {body.serial} is for wallet {body.wallet_id}, "
                f"not {wallet_id}; request a new one"
            )
        self.certificate = raw

    def take_counter(self, now: datetime) -> int:
        """Advance the counter for one code after checking that the certificate can sign it."""
        body = self.certificate_body
        if body is None:
            raise WalletError(
                "this wallet has no offline certificate yet; run "
                "'chiiki-wallet offline-cert --allowance YEN' while online"
            )
        if now > body.valid_until:
            raise WalletError(
                f"offline certificate {body.serial} expired at {body.valid_until.isoformat()}; "
                "run 'chiiki-wallet offline-cert --allowance YEN' while online to get a new one"
            )
        if self.counter >= offline_code.MAX_U32:
            raise WalletError(
                "this wallet has used every offline code counter; create a new wallet"
            )
        self.counter += 1
        return self.counter

    def make_code(self, counter: int, now: datetime) -> str:
        """Make the offline code for a counter that take_counter returned."""
        if self.certificate is None:
            raise WalletError("this wallet has no offline certificate yet")
        return offline_code.make_offline_code(self.certificate, self.private_key, counter, now)

    def next_code(self, now: datetime | None = None) -> str:
        """Advance the counter and make the offline code for it, for state kept in memory."""
        moment = now if now is not None else datetime.now(UTC)
        return self.make_code(self.take_counter(moment), moment)


def _raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


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
    return _credentials_from(_read_wallet_data(path), path)


def _read_wallet_data(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise WalletError(f"no wallet file at {path}; run 'chiiki-wallet create' first") from exc
    except OSError as exc:
        raise WalletError(f"cannot read wallet file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise _damaged(path, str(exc)) from exc
    if not isinstance(data, dict):
        raise _damaged(path, "it does not contain a JSON object")
    return data


def _credentials_from(data: dict[str, Any], path: Path) -> WalletCredentials:
    try:
        return WalletCredentials(data["server_url"], data["wallet_id"], data["token"])
    except KeyError as exc:
        raise WalletError(
            f"wallet file {path} is damaged: the key {exc} is missing; restore it from a backup"
        ) from exc


def _damaged(path: Path, reason: str) -> WalletError:
    return WalletError(f"wallet file {path} is damaged ({reason}); restore it from a backup")


def _write_wallet_data(path: Path, data: dict[str, Any]) -> None:
    """Replace the wallet file atomically and durably, keeping it readable only by its owner."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _fsync_directory(path.parent)
    except OSError as exc:
        raise WalletError(f"cannot write wallet file {path}: {exc.strerror}") from exc


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk too.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def _locked_wallet_data(path: Path) -> Iterator[dict[str, Any]]:
    """Read the wallet file while holding an exclusive lock, so that two processes making
    offline codes at once cannot both take the same counter."""
    _read_wallet_data(path)  # reports a missing or unreadable wallet before the lock file
    lock_path = path.with_name(path.name + ".lock")
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise WalletError(f"cannot lock wallet file {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield _read_wallet_data(path)
    finally:
        os.close(descriptor)


def _offline_wallet_from(data: dict[str, Any], path: Path) -> OfflineWallet | None:
    if "offline_private_key" not in data:
        return None
    try:
        private_key = Ed25519PrivateKey.from_private_bytes(
            protocol_b64decode(data["offline_private_key"])
        )
        certificate_text = data.get("offline_certificate")
        certificate = None if certificate_text is None else protocol_b64decode(certificate_text)
        counter = int(data.get("offline_counter", 0))
    except (ValueError, TypeError) as exc:
        raise _damaged(path, f"its offline key or certificate is invalid: {exc}") from exc
    return OfflineWallet(private_key, certificate, counter)


def _store_offline_wallet(data: dict[str, Any], offline: OfflineWallet) -> None:
    raw_key = offline.private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    data["offline_private_key"] = b64encode(raw_key)
    data["offline_counter"] = offline.counter
    if offline.certificate is not None:
        data["offline_certificate"] = b64encode(offline.certificate)


# --- commands ----------------------------------------------------------------------------


def _client_from_file(args: argparse.Namespace) -> WalletClient:
    credentials = load_credentials(wallet_file_path(args.wallet_file))
    return WalletClient(args.server or credentials.server_url, credentials)


def _fetch_coupons(client: WalletClient, args: argparse.Namespace) -> list[WalletCoupon]:
    """Fetch the wallet's coupons and store them in the wallet file for offline use.

    A wallet file that cannot be written costs only the stored copies, so it is reported on
    standard error and the command goes on with the coupons it fetched.
    """
    from server import wallet_stored_coupons

    coupons = client.coupons()
    path = wallet_file_path(args.wallet_file)
    try:
        with _locked_wallet_data(path) as data:
            wallet_stored_coupons.store_coupons(data, coupons, datetime.now(UTC))
            _write_wallet_data(path, data)
    except WalletError as exc:
        print(f"warning: the coupons were not stored for offline use: {exc}", file=sys.stderr)
    return coupons


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
    client = _client_from_file(args)
    shown = client.balance().model_dump(mode="json")
    # Each kind split by expiry, in the order payments spend them.
    shown["lots"] = [lot.model_dump(mode="json") for lot in client.value().lots]
    _print_json(shown)
    return 0


def cmd_topup(args: argparse.Namespace) -> int:
    balance = _client_from_file(args).topup(args.amount_yen)
    print(f"topped up {args.amount_yen} yen; balance {balance.total_yen} yen")
    return 0


def cmd_receipt_balance(args: argparse.Namespace) -> int:
    client = _client_from_file(args)
    if args.setting == "show":
        preferences = client.preferences()
    else:
        preferences = client.set_receipt_balance(args.setting == "on")
    if preferences.show_balance_on_receipt:
        print("receipt balance on: shop receipts show what this wallet holds after each payment")
    else:
        print("receipt balance off: shop receipts do not show this wallet's balance")
    return 0


def cmd_code(args: argparse.Namespace) -> int:
    client = _client_from_file(args)
    if args.coupon is not None:
        return _show_paired_code(client, args)
    code = client.payment_code()
    if args.qr_file:
        import segno

        segno.make(code.code, error="m", micro=False).save(args.qr_file, scale=8, border=4)
    print(code.code)
    print(f"valid until {code.expires_at}", file=sys.stderr)
    return 0


def _show_paired_code(client: WalletClient, args: argparse.Namespace) -> int:
    from server import wallet_paired

    # The coupon is checked first, so a coupon that cannot be used costs no payment code.
    coupon = wallet_paired.usable_coupon(_fetch_coupons(client, args), args.coupon)
    code = client.payment_code()
    text = wallet_paired.paired_code(code.code, coupon)
    if args.qr_file:
        wallet_paired.save_paired_qr(text, args.qr_file)
    print(text)
    print(f"valid until {code.expires_at}, {wallet_paired.describe(coupon)}", file=sys.stderr)
    return 0


def cmd_rally_code(args: argparse.Namespace) -> int:
    rallies = _client_from_file(args).rallies()
    if args.rally:
        rallies = [rally for rally in rallies if rally.rally_id == args.rally]
    if not rallies:
        wanted = f"rally {args.rally}" if args.rally else "any rally"
        raise WalletError(f"no open or upcoming {wanted} found; check the rally id with the"
                          " event staff")
    if len(rallies) > 1:
        names = ", ".join(f"{rally.rally_id} ({rally.rally_name})" for rally in rallies)
        raise WalletError(f"several rallies are open: {names}; choose one with --rally ID")
    rally = rallies[0]
    if args.qr_file:
        import segno

        segno.make(rally.code, error="m", micro=False).save(args.qr_file, scale=8, border=4)
    print(rally.code)
    print(f"{rally.rally_name}: {rally.stamp_count} of {rally.goal_stamps} stamps,"
          f" {rally.starts_on} to {rally.ends_on}", file=sys.stderr)
    return 0


def cmd_coupons(args: argparse.Namespace) -> int:
    coupons = _fetch_coupons(_client_from_file(args), args)
    if args.coupon is None:
        for coupon in coupons:
            shops = ", ".join(coupon.shops) or "all shops of the campaign"
            print(f"{coupon.coupon_id}\t{coupon.status}\t{coupon.title}\t{coupon.discount}"
                  f"\tfrom {coupon.minimum_spend_yen} yen\tuntil {coupon.valid_until}\t{shops}")
        return 0
    chosen = next((coupon for coupon in coupons if coupon.coupon_id == args.coupon), None)
    if chosen is None:
        raise WalletError(f"coupon {args.coupon} is not among this wallet's coupons; list them"
                          " with chiiki-wallet coupons")
    if args.qr_file:
        import segno

        segno.make(chosen.code, error="m", micro=False).save(args.qr_file, scale=8, border=4)
    print(chosen.code)
    print(f"{chosen.title}: {chosen.discount}, {chosen.status}, valid until"
          f" {chosen.valid_until}", file=sys.stderr)
    return 0


def cmd_premium_sales(args: argparse.Namespace) -> int:
    sales = _client_from_file(args).premium_sales().sales
    if not sales:
        print("no premium sales")
    for sale in sales:
        eligible = _premium_eligibility(sale)
        print(f"{sale.sale_id}\t{sale.phase}\t{sale.name}\t{sale.price_yen} yen buys"
              f" {sale.local_yen} local + {sale.all_yen} all-shops points\tapply"
              f" {sale.apply_from} to {sale.apply_until}\tbuy {sale.purchase_from} to"
              f" {sale.purchase_until}\tpoints expire {sale.usage_until}\t{eligible}")
    return 0


def _premium_eligibility(sale: PremiumSale) -> str:
    if sale.phase == "upcoming":
        return "you may apply from " + sale.apply_from if sale.eligible else "residents only"
    if sale.phase != "applications":
        return "applications closed"
    return "you may apply" if sale.eligible else "residents only"


def cmd_premium_apply(args: argparse.Namespace) -> int:
    if not 1 <= args.sets <= MAX_PREMIUM_SETS:
        raise WalletError(f"--sets {args.sets} is invalid; give a number of sets from 1 to"
                          f" {MAX_PREMIUM_SETS}")
    application = _client_from_file(args).premium_apply(
        args.sale, args.sets, args.for_wallet, args.idempotency_key)
    print(f"application {application.application_id}: {application.sets_requested} sets of"
          f" sale {application.sale_id} for wallet {application.wallet_id}")
    return 0


def cmd_premium_status(args: argparse.Namespace) -> int:
    applications = _client_from_file(args).premium_applications().applications
    if args.sale:
        applications = [item for item in applications if item.sale_id == args.sale]
    if not applications:
        print("no premium applications")
    for item in applications:
        line = (f"{item.application_id}\t{item.sale_id}\tfor {item.wallet_id}\t{item.status}"
                f"\t{item.sets_won} of {item.sets_requested} sets")
        if item.status == "won":
            line += (f"\tpay {item.pay_yen} yen from {item.purchase_from} until"
                     f" {item.purchase_until}")
        print(line)
    return 0


def cmd_premium_cancel(args: argparse.Namespace) -> int:
    application = _client_from_file(args).premium_cancel(args.application)
    print(f"application {application.application_id} is {application.status}")
    return 0


def cmd_premium_buy(args: argparse.Namespace) -> int:
    client = _client_from_file(args)
    # The purchase answer is the same for a first and a repeated request, so the status
    # before it tells whether this run paid. NOTE: two runs at the same moment both read
    # "won" and both print "paid", although the server moves the money only once.
    earlier = client.premium_application(args.application)
    bought = client.premium_buy(args.application)
    if earlier.status == "purchased":
        print(f"application {args.application} was already paid at {earlier.purchased_at}:"
              f" {bought.paid_yen} yen for {bought.application.sets_won} sets; nothing was"
              " charged now")
        return 0
    print(f"paid {bought.paid_yen} yen for {bought.application.sets_won} sets; wallet"
          f" {bought.application.wallet_id} received {bought.local_yen} local and"
          f" {bought.all_yen} all-shops points, usable until {bought.expires_at}")
    return 0


def cmd_offline_cert(args: argparse.Namespace) -> int:
    path = wallet_file_path(args.wallet_file)
    with _locked_wallet_data(path) as data:
        credentials = _credentials_from(data, path)
        offline = _offline_wallet_from(data, path) or OfflineWallet.generate()
        idempotency_key = _pending_request_key(data, args.allowance_yen)
        # The key and the request are saved before the request is sent: the key is never
        # replaced, and a retry after a lost response reuses the idempotency key.
        _store_offline_wallet(data, offline)
        _write_wallet_data(path, data)

        client = WalletClient(args.server or credentials.server_url, credentials)
        try:
            issued = client.offline_certificate(
                args.allowance_yen, offline.private_key.public_key(), idempotency_key
            )
        except WalletDeclined:
            del data["offline_request"]
            _write_wallet_data(path, data)
            raise
        offline.install_certificate(issued, credentials.wallet_id)
        del data["offline_request"]
        _store_offline_wallet(data, offline)
        _write_wallet_data(path, data)

    print(
        f"offline certificate {issued.serial} for {issued.allowance_yen} yen, valid until "
        f"{issued.valid_until}; saved to {path}"
    )
    return 0


def _pending_request_key(data: dict[str, Any], allowance_yen: int) -> str:
    pending = data.get("offline_request")
    if isinstance(pending, dict) and pending.get("allowance_yen") == allowance_yen:
        return str(pending["idempotency_key"])
    key = new_idempotency_key()
    data["offline_request"] = {"allowance_yen": allowance_yen, "idempotency_key": key}
    return key


def cmd_offline_code(args: argparse.Namespace) -> int:
    path = wallet_file_path(args.wallet_file)
    coupon = None if args.coupon is None else _coupon_for_offline_code(args, path)
    now = datetime.now(UTC)
    with _locked_wallet_data(path) as data:
        offline = _offline_wallet_from(data, path) or OfflineWallet.generate()
        counter = offline.take_counter(now)
        # Saved before the code exists: a crash after this point skips a counter, and no
        # counter is ever used for two codes.
        data["offline_counter"] = counter
        _write_wallet_data(path, data)

    code = offline.make_code(counter, now)
    body = offline.certificate_body
    assert body is not None  # take_counter has checked that a certificate is stored
    summary = (
        f"offline code {counter} of certificate {body.serial}; the certificate is valid until "
        f"{body.valid_until.isoformat()}"
    )
    if coupon is not None:
        from server import wallet_paired

        code = wallet_paired.paired_code(code, coupon)
        summary = f"{summary}; {wallet_paired.describe(coupon)}"
        if args.qr_file:
            wallet_paired.save_paired_qr(code, args.qr_file)
    elif args.qr_file:
        import segno

        segno.make(code, error="m", micro=False).save(args.qr_file, scale=6, border=4)
    print(code)
    print(summary, file=sys.stderr)
    return 0


def _coupon_for_offline_code(args: argparse.Namespace, path: Path) -> WalletCoupon:
    """Return the coupon for ``offline-code --coupon``: as the server lists it now, or as the
    wallet file stores it when the server cannot be reached.

    Any response from the server is final, so a coupon that the server lists as used or
    expired, or does not list, is rejected even when the stored copy lists it as usable.
    """
    from server import wallet_paired

    try:
        coupons = _fetch_coupons(_client_from_file(args), args)
    except ServerUnreachable as unreachable:
        return _stored_coupon_for_offline_code(args.coupon, path, unreachable)
    return wallet_paired.usable_coupon(coupons, args.coupon)


def _stored_coupon_for_offline_code(
    coupon_id: str, path: Path, unreachable: ServerUnreachable
) -> WalletCoupon:
    from server import wallet_stored_coupons

    try:
        stored = wallet_stored_coupons.usable_stored_coupon(
            _read_wallet_data(path), coupon_id, datetime.now(UTC), path)
    except WalletError as exc:
        raise WalletError(f"cannot reach the server at {unreachable.server_url}"
                          f" ({unreachable.detail}), and {exc}") from unreachable

    coupon = stored.coupon
    print(f"cannot reach the server at {unreachable.server_url}, so coupon {coupon_id} is used"
          f" as stored at {stored.seen_at.isoformat()} (last listed as {coupon.status}, valid"
          f" until {coupon.valid_until}); the shop's terminal checks it again", file=sys.stderr)
    return coupon


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

    receipt_balance = commands.add_parser(
        "receipt-balance",
        help="print what the wallet holds after a payment on shop receipts (on/off), or show"
             " the current setting",
    )
    receipt_balance.add_argument("setting", choices=["on", "off", "show"])
    receipt_balance.set_defaults(func=cmd_receipt_balance)

    code = commands.add_parser("code", help="show a one-time payment code for the shop to scan")
    code.add_argument("--qr-file", help="also write the code as a QR PNG to this path")
    code.add_argument("--coupon", type=_coupon_id,
                      help="coupon id to show with the code in one QR (see coupons)")
    code.set_defaults(func=cmd_code)

    pay = commands.add_parser("pay", help="pay a shop's QR (payload text or --image)")
    pay.add_argument("payload", nargs="?", help="EMV payload text")
    pay.add_argument("--image", help="image file of the QR (PNG, JPEG, ...)")
    pay.add_argument("--idempotency-key", help="reuse a key to retry a payment safely")
    pay.set_defaults(func=cmd_pay)

    rally = commands.add_parser(
        "rally-code", help="show the participant code that stamp rally booths scan"
    )
    rally.add_argument("--rally", help="rally id, needed when several rallies are open")
    rally.add_argument("--qr-file", help="also write the code as a QR PNG to this path")
    rally.set_defaults(func=cmd_rally_code)

    coupons = commands.add_parser(
        "coupons", help="list the wallet's coupons, or show one coupon's code with --coupon;"
                        " either way the wallet stores them for offline-code --coupon"
    )
    coupons.add_argument("--coupon", type=_coupon_id,
                         help="coupon id whose code to show for the shop to scan")
    coupons.add_argument("--qr-file", help="with --coupon, also write the code as a QR PNG")
    coupons.set_defaults(func=cmd_coupons)

    _add_premium_commands(commands)

    offline_cert = commands.add_parser(
        "offline-cert", help="reserve coin for offline payments and get a certificate for it"
    )
    offline_cert.add_argument(
        "--allowance", dest="allowance_yen", type=_positive_yen, required=True,
        help="amount in whole yen to reserve for offline payments",
    )
    offline_cert.set_defaults(func=cmd_offline_cert)

    offline = commands.add_parser(
        "offline-code", help="show a signed code that a terminal accepts without a connection"
    )
    offline.add_argument("--qr-file", help="also write the code as a QR PNG to this path")
    offline.add_argument(
        "--coupon", type=_coupon_id,
        help="coupon id to show with the code in one QR; when the server cannot be reached,"
             " the copy the wallet stored when it last fetched its coupons is used"
    )
    offline.set_defaults(func=cmd_offline_code)

    inspect = commands.add_parser("inspect", help="print an EMV payload's data objects as JSON")
    inspect.add_argument("payload", help="EMV payload text")
    inspect.set_defaults(func=cmd_inspect)
    return parser


def _add_premium_commands(commands: Any) -> None:
    commands.add_parser("premium-sales", help="list premium point sales").set_defaults(
        func=cmd_premium_sales)
    apply = commands.add_parser("premium-apply", help="apply for sets of a premium sale")
    apply.add_argument("sale", help="sale id, as premium-sales lists it")
    apply.add_argument("--sets", type=int, required=True, help="number of sets")
    apply.add_argument("--for", dest="for_wallet", default=None,
                       help="wallet id of a household member to apply for (proxy)")
    apply.add_argument("--idempotency-key", help="reuse a key to retry an application safely")
    apply.set_defaults(func=cmd_premium_apply)
    status = commands.add_parser("premium-status", help="show your applications and results")
    status.add_argument("--sale", default=None, help="only this sale")
    status.set_defaults(func=cmd_premium_status)
    for name, text, func in (
            ("premium-cancel", "cancel an application", cmd_premium_cancel),
            ("premium-buy", "pay for the sets an application won", cmd_premium_buy)):
        command = commands.add_parser(name, help=text)
        command.add_argument("application", help="application id, as premium-status lists it")
        command.set_defaults(func=func)


def _positive_yen(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of yen of at least 1")
    return int(text)


def _coupon_id(text: str) -> str:
    coupon_id = text.strip()
    if not coupon_id:
        raise argparse.ArgumentTypeError(
            "the coupon id is empty; copy it from the first column of chiiki-wallet coupons")
    return coupon_id


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
