"""The command-line tools against a real server on loopback: the technician enrols a terminal,
the reference wallet pays a QR given as text or as an image, and a test page prints."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno

from drivers.printer.emulator import PrinterEmulator
from server.db import init_db
from server.demo import DemoSeed, seed_demo
from server.embedded import EmbeddedServer, start_embedded_server
from server.wallet_cli import main as wallet_main
from terminal.api_client import ApiClient
from terminal.cli import main as pos_main
from terminal.config import load_config
from terminal.enrolment import load_enrolment
from terminal.protocol import TaxLine


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo the root logger set-up that chiiki-pos's entry point does, for the tests after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def settle(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, DemoSeed]]:
    db_url = f"sqlite:///{tmp_path / 'settle.db'}"
    seed = seed_demo(init_db(db_url))
    with start_embedded_server(db_url, port=0, demo=True) as server:
        yield server, seed


def _write_config(tmp_path: Path, server_url: str) -> Path:
    config_path = tmp_path / "terminal.toml"
    data_dir = tmp_path / "terminal-data"
    config_path.write_text(
        f'server_url = "{server_url}"\ndata_dir = "{data_dir}"\n', encoding="utf-8"
    )
    return config_path


def _wallet(tmp_path: Path, *args: str) -> int:
    return wallet_main(["--wallet-file", str(tmp_path / "wallet.json"), *args])


def _enrolled_client(tmp_path: Path, server: EmbeddedServer, seed: DemoSeed) -> ApiClient:
    config_path = _write_config(tmp_path, server.url)
    assert pos_main(["enrol", "--config", str(config_path), "--activation-code", seed.activation_code]) == 0
    signer, terminal_id = load_enrolment(load_config(config_path))
    return ApiClient(server.url, terminal_id, signer)


def _balance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> int:
    capsys.readouterr()
    assert _wallet(tmp_path, "balance") == 0
    return int(json.loads(capsys.readouterr().out)["total_yen"])


def test_enrol_command_stores_identity(
    tmp_path: Path, settle: tuple[EmbeddedServer, DemoSeed], capsys: pytest.CaptureFixture[str]
) -> None:
    server, seed = settle
    api = _enrolled_client(tmp_path, server, seed)

    info = api.terminal_info()
    assert "enrolled terminal" in capsys.readouterr().out
    assert info.merchant.merchant_id == seed.merchant_id
    api.close()


def test_enrol_twice_rejected(
    tmp_path: Path, settle: tuple[EmbeddedServer, DemoSeed], capsys: pytest.CaptureFixture[str]
) -> None:
    server, seed = settle
    _enrolled_client(tmp_path, server, seed).close()
    config_path = tmp_path / "terminal.toml"

    again = pos_main(["enrol", "--config", str(config_path), "--activation-code", "XXXX-XXXX"])

    assert again == 1
    assert "already enrolled" in capsys.readouterr().err


def test_enrol_with_bad_code_fails(
    tmp_path: Path, settle: tuple[EmbeddedServer, DemoSeed], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = settle
    config_path = _write_config(tmp_path, server.url)

    result = pos_main(["enrol", "--config", str(config_path), "--activation-code", "NOPE-NOPE"])

    assert result == 1
    assert "activation_invalid" in capsys.readouterr().err


def test_wallet_pays_text_payload(
    tmp_path: Path, settle: tuple[EmbeddedServer, DemoSeed], capsys: pytest.CaptureFixture[str]
) -> None:
    server, seed = settle
    api = _enrolled_client(tmp_path, server, seed)
    assert _wallet(tmp_path, "--server", server.url, "create") == 0
    assert _wallet(tmp_path, "topup", "5000") == 0
    intent = api.create_intent(1990, [TaxLine(rate_percent=10, amount_yen=1990)], uuid.uuid4().hex)

    assert _wallet(tmp_path, "pay", intent.payload) == 0
    approved = api.wait_intent(intent.intent_id, 5)
    assert approved.status == "approved"
    assert _balance(tmp_path, capsys) == 5000 - 1990
    api.close()


def test_wallet_pays_image_once(
    tmp_path: Path, settle: tuple[EmbeddedServer, DemoSeed], capsys: pytest.CaptureFixture[str]
) -> None:
    server, seed = settle
    api = _enrolled_client(tmp_path, server, seed)
    _wallet(tmp_path, "--server", server.url, "create")
    _wallet(tmp_path, "topup", "3000")
    intent = api.create_intent(700, [TaxLine(rate_percent=8, amount_yen=700)], uuid.uuid4().hex)
    image = tmp_path / "shop-qr.png"
    segno.make(intent.payload, error="m", micro=False).save(str(image), scale=5, border=4)

    first = _wallet(tmp_path, "pay", "--image", str(image))
    second = _wallet(tmp_path, "pay", "--image", str(image))

    assert first == 0
    assert second == 2
    assert "intent_already_paid" in capsys.readouterr().err
    assert _balance(tmp_path, capsys) == 3000 - 700
    api.close()


def test_wallet_code_redeemed_once(
    tmp_path: Path, settle: tuple[EmbeddedServer, DemoSeed], capsys: pytest.CaptureFixture[str]
) -> None:
    server, seed = settle
    api = _enrolled_client(tmp_path, server, seed)
    _wallet(tmp_path, "--server", server.url, "create")
    _wallet(tmp_path, "topup", "1000")
    capsys.readouterr()
    assert _wallet(tmp_path, "code", "--qr-file", str(tmp_path / "code.png")) == 0
    code = capsys.readouterr().out.strip()

    payment = api.redeem_cpm(code, 400, [TaxLine(rate_percent=10, amount_yen=400)], uuid.uuid4().hex)

    assert payment.amount_yen == 400
    assert (tmp_path / "code.png").stat().st_size > 0
    assert _balance(tmp_path, capsys) == 600
    api.close()


def test_wallet_topup_rejects_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _wallet(tmp_path, "topup", "0")
    assert "not a whole number of yen" in capsys.readouterr().err


def test_print_test_reaches_emulator() -> None:
    with PrinterEmulator("127.0.0.1", 0, paper_width_mm=58) as printer:
        result = pos_main(["print-test", "--printer", printer.url, "--paper-width", "58"])
        job = printer.wait_for_job(timeout_s=5.0)

    text = job.to_text()
    assert result == 0
    assert job.raw.startswith(b"\x1b@")
    assert "¥" in text or "￥" in text
    assert job.qr_data
    assert job.ended_by_cut


def test_print_test_to_file(tmp_path: Path) -> None:
    target = tmp_path / "lp0"

    result = pos_main(["print-test", "--printer", f"file://{target}"])

    data = target.read_bytes()
    assert result == 0
    assert data.startswith(b"\x1b@")
    assert b"\x1c\x43\x01" in data
    assert b"\x1d\x56" in data


def test_print_test_bad_url_explains(capsys: pytest.CaptureFixture[str]) -> None:
    result = pos_main(["print-test", "--printer", "lpt1"])

    assert result != 0
    assert "lpt1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config_text", "named"),
    [
        ('server_url = "http://:::"', 'server_url = "http://:::"'),
        ('server_url = "http://127.0.0.1:99999"', "port 99999"),
        ('manager_pin_hash = "pbkdf2_sha256$²$AAAA$AAAA"', "iterations from 1 to"),
        ('data_dir = "{afile}"', "is a file, not a directory"),
        ('data_dir = "/tmp/x\\u0000y"', "NUL"),
    ],
)
def test_enrol_bad_config_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config_text: str, named: str
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("", encoding="utf-8")
    config_path = tmp_path / "terminal.toml"
    config_path.write_text(config_text.format(afile=afile) + "\n", encoding="utf-8")

    result = pos_main(["enrol", "--config", str(config_path), "--activation-code", "X"])

    error = capsys.readouterr().err.strip()
    assert result == 1
    assert named in error
    assert len(error.splitlines()) == 1
    assert "Traceback" not in error


@pytest.mark.parametrize("code", ["", "A" * 65])
def test_enrol_bad_code_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], code: str
) -> None:
    config_path = _write_config(tmp_path, "http://127.0.0.1:9")

    result = pos_main(["enrol", "--config", str(config_path), "--activation-code", code])

    error = capsys.readouterr().err.strip()
    assert result == 1
    assert error.startswith("error: activation code ")
    assert len(error.splitlines()) == 1
