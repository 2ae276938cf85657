"""chiiki-wallet's offline commands against a fake certificate endpoint on httpx.MockTransport,
offline code production with no network at all, and one run against the real server."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from PIL import Image
from pyzbar.pyzbar import decode as decode_barcodes

from server import wallet_cli
from server.db import init_db
from server.demo import seed_demo
from server.embedded import EmbeddedServer, start_embedded_server
from server.wallet_cli import OfflineWallet, WalletClient, WalletCredentials, WalletError
from terminal import offline_code
from terminal.protocol import IssuerKeyList, OfflineCertificate, b64decode, b64encode

SERVER_URL = "http://wallet.test"
WALLET_ID = "w_Ab3dEf6hIj9kLm0n"
TOKEN = "secret-token"
ISSUER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
ISSUER_RAW = ISSUER_KEY.public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw
)
ISSUER_KEYS = {offline_code.issuer_key_id(ISSUER_RAW): ISSUER_KEY.public_key()}


@dataclass
class FakeCertificateServer:
    """POST /v1/wallet/offline-certificate as the protocol describes it, with failure hooks."""

    validity: timedelta = timedelta(days=7)
    fail_next_after_processing: bool = False
    decline_with: str | None = None
    requests: list[dict[str, object]] = field(default_factory=list)
    serial: int = 100

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/v1/wallet/offline-certificate"
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(401, "unauthorized", "bad token")
        body = json.loads(request.content)
        self.requests.append(body)
        if self.decline_with is not None:
            return _error(409, self.decline_with, "a certificate is still active")

        self.serial += 1
        valid_until = datetime.now(UTC).replace(microsecond=0) + self.validity
        certificate = offline_code.sign_certificate(
            offline_code.CertificateBody(
                serial=self.serial,
                issuer_key_id=offline_code.issuer_key_id(ISSUER_RAW),
                wallet_id=WALLET_ID,
                wallet_public_key=b64decode(body["public_key"]),
                allowance_yen=body["allowance_yen"],
                valid_until=valid_until,
            ),
            ISSUER_KEY,
        )
        if self.fail_next_after_processing:
            self.fail_next_after_processing = False
            raise httpx.ReadTimeout("response lost", request=request)
        return httpx.Response(
            200,
            json=OfflineCertificate(
                certificate=b64encode(certificate),
                serial=self.serial,
                allowance_yen=body["allowance_yen"],
                valid_until=valid_until.isoformat(),
            ).model_dump(),
        )


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> FakeCertificateServer:
    server = FakeCertificateServer()
    transport = httpx.MockTransport(server.handle)
    monkeypatch.setattr(
        wallet_cli, "WalletClient", functools.partial(WalletClient, transport=transport)
    )
    return server


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def reject_request(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"offline code production sent {request.method} {request.url}")

    transport = httpx.MockTransport(reject_request)
    monkeypatch.setattr(
        wallet_cli, "WalletClient", functools.partial(WalletClient, transport=transport)
    )


@pytest.fixture
def wallet_file(tmp_path: Path) -> Path:
    path = tmp_path / "wallet.json"
    wallet_cli.save_credentials(path, WalletCredentials(SERVER_URL, WALLET_ID, TOKEN))
    return path


def _run(wallet_file: Path, *args: str) -> int:
    return wallet_cli.main(["--wallet-file", str(wallet_file), *args])


def _data(wallet_file: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(wallet_file.read_text(encoding="utf-8"))
    return loaded


def _verify(code: str) -> offline_code.OfflineCode:
    return offline_code.verify_offline_code(
        code, ISSUER_KEYS, now=datetime.now(UTC), max_age=timedelta(hours=24)
    )


def _make_code(wallet_file: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert _run(wallet_file, "offline-code") == 0
    return capsys.readouterr().out.strip()


def _certified(wallet_file: Path, capsys: pytest.CaptureFixture[str], yen: str = "5000") -> None:
    assert _run(wallet_file, "offline-cert", "--allowance", yen) == 0
    capsys.readouterr()


# --- offline-cert ------------------------------------------------------------------------


def test_cert_stored_in_wallet_file(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _run(wallet_file, "offline-cert", "--allowance", "5000")

    data = _data(wallet_file)
    certificate = b64decode(str(data["offline_certificate"]))
    body = offline_code.verify_certificate(certificate, ISSUER_KEYS)
    private_key = Ed25519PrivateKey.from_private_bytes(b64decode(str(data["offline_private_key"])))
    public_raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert result == 0
    assert "offline certificate 101 for 5000 yen" in capsys.readouterr().out
    assert body.wallet_public_key == public_raw
    assert body.allowance_yen == 5000
    assert data["offline_counter"] == 0
    assert "offline_request" not in data
    assert fake_server.requests[0]["public_key"] == b64encode(public_raw)
    assert fake_server.requests[0]["allowance_yen"] == 5000


def test_cert_keeps_file_private(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _certified(wallet_file, capsys)

    assert wallet_file.stat().st_mode & 0o777 == 0o600
    assert wallet_cli.load_credentials(wallet_file) == WalletCredentials(
        SERVER_URL, WALLET_ID, TOKEN
    )


def test_second_cert_keeps_key(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _certified(wallet_file, capsys)
    first = _data(wallet_file)

    _certified(wallet_file, capsys, "3000")

    second = _data(wallet_file)
    assert second["offline_private_key"] == first["offline_private_key"]
    assert second["offline_certificate"] != first["offline_certificate"]
    assert fake_server.requests[0]["public_key"] == fake_server.requests[1]["public_key"]


def test_declined_cert_keeps_key(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_server.decline_with = "certificate_active"

    result = _run(wallet_file, "offline-cert", "--allowance", "5000")

    data = _data(wallet_file)
    error = capsys.readouterr().err.strip()
    assert result == 2
    assert error.startswith("declined: certificate_active")
    assert len(error.splitlines()) == 1
    assert "offline_private_key" in data
    assert "offline_certificate" not in data
    assert "offline_request" not in data


def test_declined_cert_new_key_next(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_server.decline_with = "certificate_active"
    _run(wallet_file, "offline-cert", "--allowance", "5000")
    fake_server.decline_with = None

    _certified(wallet_file, capsys)

    keys = [request["idempotency_key"] for request in fake_server.requests]
    assert keys[0] != keys[1]


def test_lost_response_retry_reuses_key(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_server.fail_next_after_processing = True

    failed = _run(wallet_file, "offline-cert", "--allowance", "5000")
    pending = _data(wallet_file)["offline_request"]
    retried = _run(wallet_file, "offline-cert", "--allowance", "5000")

    keys = [request["idempotency_key"] for request in fake_server.requests]
    assert failed == 1
    assert "cannot reach the server" in capsys.readouterr().err
    assert pending == {"allowance_yen": 5000, "idempotency_key": keys[0]}
    assert retried == 0
    assert keys[0] == keys[1]


def test_changed_allowance_new_key(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_server.fail_next_after_processing = True
    _run(wallet_file, "offline-cert", "--allowance", "5000")

    _certified(wallet_file, capsys, "4000")

    keys = [request["idempotency_key"] for request in fake_server.requests]
    assert keys[0] != keys[1]


def test_cert_for_other_key_rejected() -> None:
    offline = OfflineWallet.generate()
    issued = _issued_for(OfflineWallet.generate())

    with pytest.raises(WalletError, match="names another public key"):
        offline.install_certificate(issued, WALLET_ID)
    assert offline.certificate is None


def test_cert_without_wallet_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = _run(tmp_path / "none.json", "offline-cert", "--allowance", "5000")

    assert result == 1
    assert "run 'chiiki-wallet create' first" in capsys.readouterr().err


def test_cert_rejects_zero_allowance(
    wallet_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        _run(wallet_file, "offline-cert", "--allowance", "0")
    assert "not a whole number of yen" in capsys.readouterr().err


def test_client_sends_bearer_and_key() -> None:
    seen: list[httpx.Request] = []
    server = FakeCertificateServer()

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return server.handle(request)

    credentials = WalletCredentials(SERVER_URL, WALLET_ID, TOKEN)
    client = WalletClient(SERVER_URL, credentials, transport=httpx.MockTransport(record))
    offline = OfflineWallet.generate()

    issued = client.offline_certificate(1200, offline.private_key.public_key(), "offline-key-0001")

    body = json.loads(seen[0].content)
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert body["idempotency_key"] == "offline-key-0001"
    assert b64decode(body["public_key"]) == offline.private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert "=" not in body["public_key"]
    assert issued.allowance_yen == 1200


# --- offline-code ------------------------------------------------------------------------


def test_codes_count_up(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _certified(wallet_file, capsys)

    codes = [_verify(_make_code(wallet_file, capsys)) for _ in range(3)]

    assert [code.counter for code in codes] == [1, 2, 3]
    assert {code.certificate.serial for code in codes} == {101}
    assert {code.certificate.wallet_id for code in codes} == {WALLET_ID}
    assert _data(wallet_file)["offline_counter"] == 3


def test_code_needs_no_network(
    wallet_file: Path,
    fake_server: FakeCertificateServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _certified(wallet_file, capsys)
    monkeypatch.setattr(wallet_cli, "WalletClient", None)

    code = _make_code(wallet_file, capsys)

    assert _verify(code).counter == 1


def test_code_counter_saved_first(
    wallet_file: Path,
    fake_server: FakeCertificateServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _certified(wallet_file, capsys)

    def crash(self: OfflineWallet, counter: int, now: datetime) -> str:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(OfflineWallet, "make_code", crash)
        with pytest.raises(KeyboardInterrupt):
            _run(wallet_file, "offline-code")
    after_crash = _data(wallet_file)["offline_counter"]

    code = _make_code(wallet_file, capsys)

    assert after_crash == 1
    assert _verify(code).counter == 2


def test_code_without_cert_explains(
    wallet_file: Path, no_network: None, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _run(wallet_file, "offline-code")

    error = capsys.readouterr().err.strip()
    assert result == 1
    assert "no offline certificate yet" in error
    assert "chiiki-wallet offline-cert --allowance YEN" in error
    assert len(error.splitlines()) == 1
    assert "offline_counter" not in _data(wallet_file)


def test_code_with_expired_cert_explains(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_server.validity = timedelta(seconds=-60)
    _certified(wallet_file, capsys)

    result = _run(wallet_file, "offline-code")

    error = capsys.readouterr().err.strip()
    assert result == 1
    assert "offline certificate 101 expired at" in error
    assert "to get a new one" in error
    assert len(error.splitlines()) == 1
    assert _data(wallet_file)["offline_counter"] == 0


def test_code_with_damaged_cert_explains(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _certified(wallet_file, capsys)
    data = _data(wallet_file)
    data["offline_certificate"] = b64encode(b"\x00" * 40)
    wallet_file.write_text(json.dumps(data), encoding="utf-8")

    result = _run(wallet_file, "offline-code")

    error = capsys.readouterr().err.strip()
    assert result == 1
    assert "stored offline certificate is damaged" in error
    assert len(error.splitlines()) == 1


def test_code_qr_file_decodes(
    wallet_file: Path,
    fake_server: FakeCertificateServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _certified(wallet_file, capsys)
    image = tmp_path / "offline.png"

    assert _run(wallet_file, "offline-code", "--qr-file", str(image)) == 0
    printed = capsys.readouterr().out.strip()

    decoded = decode_barcodes(Image.open(image))
    assert [symbol.data.decode("ascii") for symbol in decoded] == [printed]
    assert _verify(printed).counter == 1


def test_parallel_codes_unique_counters(
    wallet_file: Path, fake_server: FakeCertificateServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _certified(wallet_file, capsys)
    errors: list[BaseException] = []

    def make_codes() -> None:
        try:
            for _ in range(10):
                assert _run(wallet_file, "offline-code") == 0
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=make_codes) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    counters = sorted(_verify(line).counter for line in capsys.readouterr().out.split())
    assert errors == []
    assert counters == list(range(1, 41))
    assert _data(wallet_file)["offline_counter"] == 40


# --- OfflineWallet in memory ---------------------------------------------------------------


def _issued_for(
    offline: OfflineWallet, validity: timedelta = timedelta(days=1)
) -> OfflineCertificate:
    server = FakeCertificateServer(validity=validity)
    credentials = WalletCredentials(SERVER_URL, WALLET_ID, TOKEN)
    client = WalletClient(SERVER_URL, credentials, transport=httpx.MockTransport(server.handle))
    return client.offline_certificate(2000, offline.private_key.public_key())


def test_memory_wallet_next_code() -> None:
    offline = OfflineWallet.generate()
    offline.install_certificate(_issued_for(offline), WALLET_ID)

    first, second = _verify(offline.next_code()), _verify(offline.next_code())

    assert (first.counter, second.counter) == (1, 2)
    assert first.certificate.allowance_yen == 2000
    assert offline.counter == 2


def test_memory_wallet_expiry_checked() -> None:
    offline = OfflineWallet.generate()
    offline.install_certificate(_issued_for(offline), WALLET_ID)

    with pytest.raises(WalletError, match="expired at"):
        offline.next_code(datetime.now(UTC) + timedelta(days=2))
    assert offline.counter == 0


def test_memory_wallet_other_wallet_rejected() -> None:
    offline = OfflineWallet.generate()

    with pytest.raises(WalletError, match=f"is for wallet {WALLET_ID}, not w_other"):
        offline.install_certificate(_issued_for(offline), "w_other")


# --- against the real server -------------------------------------------------------------


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    db_url = f"sqlite:///{tmp_path / 'settle.db'}"
    seed_demo(init_db(db_url))
    with start_embedded_server(db_url, port=0, demo=True) as server:
        yield server


def _issuer_keys(server_url: str) -> dict[str, Ed25519PublicKey]:
    listed = IssuerKeyList.model_validate(httpx.get(f"{server_url}/v1/issuer-keys").json())
    return {
        key.key_id: Ed25519PublicKey.from_public_bytes(b64decode(key.public_key))
        for key in listed.keys
    }


def test_real_server_cert_and_code(
    embedded_server: EmbeddedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wallet.json"
    assert _run(path, "--server", embedded_server.url, "create") == 0
    assert _run(path, "topup", "5000") == 0

    certified = _run(path, "offline-cert", "--allowance", "3000")
    again = _run(path, "offline-cert", "--allowance", "1000")
    declined = capsys.readouterr().err
    code = _make_code(path, capsys)
    capsys.readouterr()
    assert _run(path, "balance") == 0
    balance = json.loads(capsys.readouterr().out)

    verified = offline_code.verify_offline_code(
        code, _issuer_keys(embedded_server.url), now=datetime.now(UTC),
        max_age=timedelta(hours=24),
    )
    assert certified == 0
    assert again == 2
    assert "certificate_active" in declined
    assert verified.certificate.wallet_id == wallet_cli.load_credentials(path).wallet_id
    assert verified.certificate.allowance_yen == 3000
    assert verified.counter == 1
    assert balance["total_yen"] == 2000
