from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from terminal import offline_code
from terminal.config import PrinterConfig, TerminalConfig, hash_pin, load_config
from terminal.emv import build_mpm_payload
from terminal.paycode import new_payment_code
from terminal.support_bundle import (
    SupportBundleError,
    bundle_name,
    export_directories,
    redact,
    write_bundle,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ISSUER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
WALLET_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))


def offline_wallet_code() -> str:
    wallet_public = WALLET_KEY.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    issuer_public = ISSUER_KEY.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    body = offline_code.CertificateBody(
        serial=7,
        issuer_key_id=offline_code.issuer_key_id(issuer_public),
        wallet_id="w_demo",
        wallet_public_key=wallet_public,
        allowance_yen=30_000,
        valid_until=NOW + timedelta(days=7),
    )
    certificate = offline_code.sign_certificate(body, ISSUER_KEY)
    return offline_code.make_offline_code(certificate, WALLET_KEY, 3, NOW)


def emv_payload() -> str:
    return build_mpm_payload(
        merchant_name="TEST SHOP",
        merchant_city="AIZU",
        merchant_name_ja="テスト商店",
        amount_yen=1990,
        reference_label="iAbCdEf0123456789xyz",
        terminal_label="REGI-1",
        merchant_category_code="5411",
    )


def private_key_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode("ascii")
    )


def test_config_pin_hashes_removed() -> None:
    manager_hash = hash_pin("2468", iterations=1000)
    technician_hash = hash_pin("1357", iterations=1000)
    text = (
        'server_url = "https://coin.example.jp"\n'
        f'manager_pin_hash = "{manager_hash}"\n'
        f'technician_pin_hash = "{technician_hash}"   # set by hash-pin\n'
        "[printer]\n"
        'url = "network://192.0.2.10:9100"\n'
    )

    result = redact(text)

    assert manager_hash not in result.text
    assert technician_hash not in result.text
    assert "manager_pin_hash" in result.text
    assert 'url = "network://192.0.2.10:9100"' in result.text
    assert 'server_url = "https://coin.example.jp"' in result.text
    assert result.counts["PIN hash"] == 2
    assert result.counts["secret setting"] == 0


def test_payment_code_masked_to_last_four() -> None:
    code = new_payment_code()
    line = f"2026-03-02 09:30:01 INFO terminal.sale: redeeming code {code} for 1990 yen"

    result = redact(line)

    assert code not in result.text
    assert "*" * 16 + code[-4:] in result.text
    assert "1990 yen" in result.text
    assert result.counts["payment code"] == 1


def test_offline_code_masked() -> None:
    code = offline_wallet_code()
    line = f"DEBUG scan text={code} accepted offline"

    result = redact(line)

    assert code not in result.text
    assert code[4:-4] not in result.text
    assert "CKO1" in result.text
    assert result.text.endswith(code[-4:] + " accepted offline")


def test_emv_payload_masked_whole() -> None:
    payload = emv_payload()
    line = f"INFO terminal.sale: intent payload {payload} shown"

    result = redact(line)

    assert payload not in result.text
    assert "TEST SHOP" not in result.text
    assert "テスト商店" not in result.text
    assert f"[EMV payload {payload[-4:]}] shown" in result.text
    assert result.counts["EMV payload"] == 1


def test_private_key_and_tokens_removed() -> None:
    pem = private_key_pem()
    body = pem.splitlines()[1]
    text = (
        f"{pem}"
        "Authorization: Bearer 4f9c2b7e1d8a6f3c5b0e9d2a7c4f1b8e\n"
        "X-Chiiki-Signature: c2lnbmF0dXJlLWJ5dGVz\n"
        '{"api_key": "sk_live_51HqLyj", "label": "REGI-1"}\n'
        "CHIIKI_OPERATOR_TOKEN=op_9f8e7d6c5b4a\n"
        "activation code K7QM-2XRA-P9DW accepted\n"
    )

    result = redact(text)

    for secret in (body, "4f9c2b7e1d8a6f3c5b0e9d2a7c4f1b8e", "c2lnbmF0dXJlLWJ5dGVz",
                   "sk_live_51HqLyj", "op_9f8e7d6c5b4a", "K7QM-2XRA-P9DW"):
        assert secret not in result.text, secret
    assert '"label": "REGI-1"' in result.text
    assert result.counts["private key"] == 1


def test_ordinary_log_lines_untouched() -> None:
    text = (
        "2026-03-02 09:30:01 INFO terminal.sync: sent 12 entries; attempt 1\n"
        "2026-03-02 09:30:02 INFO drivers.printer.connection: Opened printer usb://04b8:0202\n"
        "2026-03-02 09:30:03 INFO terminal.sale: payment pay_Xk2 approved, code ****************4821\n"
    )

    result = redact(text)

    assert result.text == text
    assert not result.counts


def write_sample(tmp_path: Path) -> tuple[TerminalConfig, Path]:
    data_dir = tmp_path / "data"
    (data_dir / "logs").mkdir(parents=True)
    config_path = tmp_path / "terminal.toml"
    pin_hash = hash_pin("2468", iterations=1000)
    config_path.write_text(
        f'data_dir = "{data_dir}"\nmanager_pin_hash = "{pin_hash}"\n'
        '[printer]\nurl = "network://192.0.2.10:9100"\n',
        encoding="utf-8",
    )
    code = new_payment_code()
    (data_dir / "logs" / "terminal.log").write_text(
        f"INFO terminal.sale: redeeming code {code}\nINFO terminal.sync: sent 3 entries\n",
        encoding="utf-8",
    )
    (data_dir / "terminal_key.pem").write_text(private_key_pem(), encoding="ascii")
    return load_config(config_path), config_path


def test_bundle_contains_redacted_files(tmp_path: Path) -> None:
    config, config_path = write_sample(tmp_path)
    stick = tmp_path / "stick"
    stick.mkdir()

    path = write_bundle(
        stick,
        config,
        "t_abc",
        NOW,
        diagnostics={"terminal_id": "t_abc", "server": {"reachable": True}},
        journal=lambda: "Mar 02 09:30:01 chiiki-pos[812]: Authorization: Bearer abcdef123456\n",
    )

    assert path.name == "chiiki-pos-support-t_abc-20260302-093000.zip"
    with zipfile.ZipFile(path) as bundle:
        names = set(bundle.namelist())
        texts = {name: bundle.read(name).decode("utf-8") for name in names}
    assert names == {
        "manifest.txt",
        "config/terminal.toml",
        "diagnostics.json",
        "logs/terminal.log",
        "logs/journal.txt",
    }
    assert "pbkdf2_sha256" not in texts["config/terminal.toml"]
    assert 'url = "network://192.0.2.10:9100"' in texts["config/terminal.toml"]
    assert "sent 3 entries" in texts["logs/terminal.log"]
    assert "abcdef123456" not in texts["logs/journal.txt"]
    assert "PRIVATE KEY" not in "".join(texts.values())
    assert "config/terminal.toml: PIN hash 1" in texts["manifest.txt"]
    assert "logs/terminal.log: payment code 1" in texts["manifest.txt"]
    assert not list(stick.glob("*.partial"))


def test_bundle_without_config_file_uses_loaded_settings(tmp_path: Path) -> None:
    config = TerminalConfig(
        data_dir=tmp_path / "data",
        manager_pin_hash=hash_pin("2468", iterations=1000),
        printer=PrinterConfig(url="usb://04b8:0202"),
    )

    path = write_bundle(tmp_path, config, "", NOW, journal=lambda: None)

    with zipfile.ZipFile(path) as bundle:
        toml_text = bundle.read("config/terminal.toml").decode("utf-8")
        manifest = bundle.read("manifest.txt").decode("utf-8")
    assert 'url = "usb://04b8:0202"' in toml_text
    assert "pbkdf2_sha256" not in toml_text
    assert "terminal: (not enrolled)" in manifest
    assert path.name.startswith("chiiki-pos-support-unenrolled-")


def test_missing_destination_raises(tmp_path: Path) -> None:
    config = TerminalConfig(data_dir=tmp_path / "data")

    with pytest.raises(SupportBundleError, match="USB stick"):
        write_bundle(tmp_path / "gone", config, "t_abc", NOW, logs=[], journal=lambda: None)


def test_bundle_name_strips_path_characters() -> None:
    assert bundle_name("../t x", NOW) == "chiiki-pos-support-___t_x-20260302-093000.zip"


def test_export_directories_end_with_data_dir(tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "pi" / "STICK").mkdir(parents=True)

    found = export_directories(tmp_path / "data", media_roots=(media,))

    # A plain folder is not a mount point, so only the data directory is offered.
    assert found == [tmp_path / "data" / "support"]
