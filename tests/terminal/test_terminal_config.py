from __future__ import annotations

from pathlib import Path

import pytest

from terminal.config import (
    ConfigError,
    TerminalConfig,
    hash_pin,
    load_config,
    verify_pin,
    with_manager_pin,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_default_file_gives_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIIKI_POS_CONFIG", str(tmp_path / "absent.toml"))
    config = load_config()

    assert config == TerminalConfig()
    assert config.language == "ja"
    assert config.printer.paper_width_mm == 58
    assert config.scanner.max_interkey_ms == 30
    assert config.scanner.suffix == "enter"


def test_missing_named_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="absent.toml does not exist"):
        load_config(tmp_path / "absent.toml")


def test_full_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
server_url = "https://coin.example.jp"
data_dir = "/var/lib/chiiki-pos"
language = "en"

[printer]
url = "usb://04b8:0202"
paper_width_mm = 80

[scanner]
kind = "serial"
prefix = "]Q1"
suffix = "crlf"
max_interkey_ms = 20
min_length = 10
layout = "us_on_jis"
repeat_window_ms = 2000
port = "/dev/ttyACM0"
baudrate = 115200
""",
    )

    config = load_config(path)

    assert config.server_url == "https://coin.example.jp"
    assert config.data_dir == Path("/var/lib/chiiki-pos")
    assert config.language == "en"
    assert config.printer.url == "usb://04b8:0202"
    assert config.printer.paper_width_mm == 80
    assert config.scanner.kind == "serial"
    assert config.scanner.prefix == "]Q1"
    assert config.scanner.suffix == "crlf"
    assert config.scanner.layout == "us_on_jis"
    assert config.scanner.baudrate == 115200
    assert config.source == path


def test_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[printer]\npaper_width_mm = 80\n"))

    assert config.printer.paper_width_mm == 80
    assert config.printer.url == TerminalConfig().printer.url
    assert config.server_url == TerminalConfig().server_url


def test_bad_paper_width_names_key_value_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[printer]\npaper_width_mm = 70\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value) == f"printer.paper_width_mm = 70 in {path}: use 58 or 80"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('language = "fr"', 'language = "fr" in {path}: use "ja" or "en"'),
        (
            '[scanner]\nsuffix = "esc"',
            'scanner.suffix = "esc" in {path}: use "enter" or "tab" or "cr" or "lf" or "crlf"',
        ),
        (
            '[scanner]\nkind = "laser"',
            'scanner.kind = "laser" in {path}: use "wedge" or "serial" or "evdev" or "camera"',
        ),
        (
            "[scanner]\nmax_interkey_ms = 0",
            "scanner.max_interkey_ms = 0 in {path}: use a whole number from 1 to 200",
        ),
        (
            '[scanner]\nmin_length = "8"',
            'scanner.min_length = "8" in {path}: use a whole number from 1 to 128',
        ),
        (
            "[scanner]\nmin_length = true",
            "scanner.min_length = true in {path}: use a whole number from 1 to 128",
        ),
        (
            'server_url = "coin.example.jp"',
            'server_url = "coin.example.jp" in {path}: use an http:// or https:// URL such as '
            '"https://coin.example.jp"',
        ),
    ],
)
def test_bad_values_name_key_and_allowed(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text + "\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value) == expected.format(path=path)


def test_bad_printer_url_gives_examples(tmp_path: Path) -> None:
    path = write(tmp_path, '[printer]\nurl = "192.0.2.10"\n')

    with pytest.raises(ConfigError, match=r'printer.url = "192.0.2.10" in .*network://'):
        load_config(path)


def test_unknown_key_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "[printer]\npaper_width = 58\n")

    with pytest.raises(ConfigError, match="printer.paper_width in .* is not a known setting"):
        load_config(path)


def test_section_not_table_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, 'printer = "usb"\n')

    with pytest.raises(ConfigError, match='printer = "usb" in .*: use a \\[printer\\] table'):
        load_config(path)


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, "server_url = \n")

    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(path)


def test_pin_hash_verifies() -> None:
    pin_hash = hash_pin("2468", iterations=1000)

    assert verify_pin("2468", pin_hash)
    assert not verify_pin("2469", pin_hash)
    assert pin_hash.startswith("pbkdf2_sha256$1000$")


def test_pin_hash_salted() -> None:
    assert hash_pin("2468", iterations=1000) != hash_pin("2468", iterations=1000)


def test_empty_pin_hash_matches_nothing() -> None:
    assert not verify_pin("", "")
    assert not verify_pin("1234", "garbage")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "１２３４"])
def test_bad_pin_rejected(pin: str) -> None:
    with pytest.raises(ConfigError, match="4 to 8 digits"):
        hash_pin(pin)


def test_with_manager_pin_sets_hash() -> None:
    config = with_manager_pin(TerminalConfig(), "13579")

    assert verify_pin("13579", config.manager_pin_hash)


def test_pin_hash_in_file_is_checked(tmp_path: Path) -> None:
    good = hash_pin("1234", iterations=1000)
    config = load_config(write(tmp_path, f'manager_pin_hash = "{good}"\n'))
    assert verify_pin("1234", config.manager_pin_hash)

    with pytest.raises(ConfigError, match="manager_pin_hash"):
        load_config(write(tmp_path, 'manager_pin_hash = "1234"\n'))


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        ("printer", "paper_width_mm", "58.0"),
        ("printer", "paper_width_mm", "true"),
        ("scanner", "baudrate", "9600.0"),
        ("scanner", "max_interkey_ms", "30.0"),
    ],
)
def test_integer_keys_reject_floats_and_bools(
    tmp_path: Path, table: str, key: str, value: str
) -> None:
    path = write(tmp_path, f"[{table}]\n{key} = {value}\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value).startswith(f"{table}.{key} = {value} in {path}: use ")


@pytest.mark.parametrize(
    ("server_url", "named"),
    [
        ("http://:::", "Invalid port"),
        ("http://127.0.0.1:99999", "port 99999"),
        ("http://127.0.0.1:0", "port 0"),
        ("ftp://127.0.0.1", "http://"),
        ("http://", "http://"),
        ("http://coin example.jp", "http://"),
        ("https://coin.example.jp/?x=1", "query"),
    ],
)
def test_bad_server_url_rejected(tmp_path: Path, server_url: str, named: str) -> None:
    path = write(tmp_path, f'server_url = "{server_url}"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert message.startswith(f'server_url = "{server_url}" in {path}: ')
    assert named in message
    assert "https://coin.example.jp" in message


@pytest.mark.parametrize(
    "server_url", ["https://coin.example.jp", "http://127.0.0.1:8000", "http://[::1]:8000/api"]
)
def test_good_server_url_accepted(tmp_path: Path, server_url: str) -> None:
    assert load_config(write(tmp_path, f'server_url = "{server_url}"\n')).server_url == server_url


def test_data_dir_that_is_file_rejected(tmp_path: Path) -> None:
    existing_file = tmp_path / "afile"
    existing_file.write_text("", encoding="utf-8")
    path = write(tmp_path, f'data_dir = "{existing_file}/sub"\n')

    with pytest.raises(ConfigError, match=f"{existing_file} is a file, not a directory"):
        load_config(path)


def test_data_dir_with_nul_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, 'data_dir = "/tmp/x\\u0000y"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert "\0" not in str(caught.value)
    assert 'data_dir = "/tmp/x\\u0000y"' in str(caught.value)
    assert "NUL" in str(caught.value)


def test_missing_data_dir_accepted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, f'data_dir = "{tmp_path}/not/yet"\n'))

    assert config.data_dir == tmp_path / "not" / "yet"


@pytest.mark.parametrize("iterations", ["0", "²", "１０００", "-5", "99999999999999999999"])
def test_pin_hash_with_bad_iterations_rejected(tmp_path: Path, iterations: str) -> None:
    good = hash_pin("1234", iterations=1000)
    bad = good.replace("$1000$", f"${iterations}$")
    path = write(tmp_path, f'manager_pin_hash = "{bad}"\n')

    with pytest.raises(ConfigError, match="iterations from 1 to"):
        load_config(path)


@pytest.mark.parametrize("iterations", ["0", "²", "99999999999999999999"])
def test_verify_pin_never_raises(iterations: str) -> None:
    bad = hash_pin("1234", iterations=1000).replace("$1000$", f"${iterations}$")

    assert verify_pin("1234", bad) is False


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("ipp://TM-T88", "'ipp' is not supported"),
        ("cups://TM T88", "queue name 'TM T88' has a character CUPS does not allow"),
        ("dummy://", "dummy:// prints nothing and is for tests only"),
        ("network://192.0.2.10:99999", "'99999'"),
        ("usb://04b8", "VID:PID"),
    ],
)
def test_bad_printer_url_rejected_at_load(tmp_path: Path, url: str, named: str) -> None:
    path = write(tmp_path, f'[printer]\nurl = "{url}"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert message.startswith(f'printer.url = "{url}" in {path}: ')
    assert named in message
    assert "dummy" not in message.replace(url, "")


def test_module_docs_list_only_supported_printers() -> None:
    import terminal.config

    assert terminal.config.__doc__ is not None
    assert "cups://QUEUE" in terminal.config.__doc__
    assert "ipp://" not in terminal.config.__doc__
