from __future__ import annotations

import json
from pathlib import Path

import pytest
import segno

from server import wallet_cli
from terminal import emv

VECTORS = json.loads(
    (Path(__file__).parents[1] / "data" / "emv-vectors.json").read_text(encoding="utf-8")
)


def _inspect(payload: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = wallet_cli.main(["inspect", payload])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _sample_payload(amount_yen: int = 1990) -> str:
    return emv.build_mpm_payload(
        merchant_name="AIZU COIN SHOP",
        merchant_city="AIZUWAKAMATSU",
        merchant_name_ja="会津コイン商店",
        amount_yen=amount_yen,
        reference_label="pi_demo0001",
        terminal_label="REG-01",
        merchant_category_code="5499",
    )


def test_inspect_prints_nested_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _inspect(_sample_payload(), capsys)
    data = json.loads(out)
    assert code == 0
    assert data["54"] == "1990"
    assert data["62"] == {"05": "pi_demo0001", "07": "REG-01"}
    assert data["64"]["01"] == "会津コイン商店"


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["valid"]], ids=lambda v: v["scheme"])
def test_inspect_accepts_public_valid(
    vector: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _inspect(str(vector["payload"]), capsys)
    assert code == 0
    assert json.loads(out)["63"] == vector["fields"]["crc"]  # type: ignore[index]


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if not v["valid"]], ids=lambda v: v["scheme"]
)
def test_inspect_rejects_public_invalid(
    vector: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _inspect(str(vector["payload"]), capsys)
    assert code != 0
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("invalid EMV payload: ")


def test_inspect_names_bad_crc(capsys: pytest.CaptureFixture[str]) -> None:
    payload = _sample_payload()
    broken = payload[:-4] + ("0000" if payload[-4:] != "0000" else "FFFF")
    code, _, err = _inspect(broken, capsys)
    assert code == 1
    assert "CRC mismatch" in err


def test_pay_without_wallet_file_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wallet_file = tmp_path / "wallet.json"
    code = wallet_cli.main(["--wallet-file", str(wallet_file), "pay", _sample_payload()])
    assert code == 1
    assert "chiiki-wallet create" in capsys.readouterr().err


def test_payload_read_from_image(tmp_path: Path) -> None:
    payload = _sample_payload(4321)
    image_path = tmp_path / "qr.png"
    segno.make(payload, error="m", micro=False).save(str(image_path), scale=6, border=4)
    from drivers.scanner.qrimage import read_valid_qr_file

    assert read_valid_qr_file(image_path, emv.parse_payload) == payload


def test_wallet_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "wallet.json"
    wallet_cli.save_credentials(path, wallet_cli.WalletCredentials("http://x", "w1", "secret"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert wallet_cli.load_credentials(path).token == "secret"


def test_create_keeps_existing_wallet_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wallet.json"
    wallet_cli.save_credentials(path, wallet_cli.WalletCredentials("http://x", "w1", "secret"))

    code = wallet_cli.main(["--wallet-file", str(path), "--server", "http://127.0.0.1:9", "create"])

    assert code == 1
    assert "already holds a wallet" in capsys.readouterr().err
    assert wallet_cli.load_credentials(path).token == "secret"


def test_wallet_file_directory_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = wallet_cli.main(["--wallet-file", str(tmp_path), "balance"])

    assert code == 1
    assert f"cannot read wallet file {tmp_path}" in capsys.readouterr().err


def test_damaged_wallet_file_names_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wallet.json"
    path.write_text('{"server_url": "http://x", "wallet_id": "w1"}', encoding="utf-8")

    code = wallet_cli.main(["--wallet-file", str(path), "balance"])

    assert code == 1
    assert "the key 'token' is missing" in capsys.readouterr().err
