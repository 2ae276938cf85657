"""The Raspberry Pi kiosk packaging: installer, systemd units, udev rules and rotation.

The installer runs for real into a temporary root (``--root``) and as a dry run. The architecture
it checks comes from ``dpkg --print-architecture``, which the tests replace with a small
script placed first on PATH, so the results do not depend on the machine running them.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
PACKAGING = PROJECT / "packaging"
INSTALLER = PACKAGING / "install-kiosk.sh"
LAUNCHER = PACKAGING / "kiosk" / "chiiki-kiosk"
BOOTSTRAP = PACKAGING / "bootstrap.sh"
STATIC_RULES = PACKAGING / "udev" / "70-chiiki-pos.rules"

DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
ANGLES = (0, 90, 180, 270)


def _write_script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _fake_bin(tmp_path: Path, arch: str = "arm64") -> Path:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    _write_script(bin_dir / "dpkg", f'[ "$1" = --print-architecture ] && echo {arch}\n')
    return bin_dir


def _make_root(tmp_path: Path, os_release: str = DEBIAN_12) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text(os_release)
    (root / "etc" / "locale.gen").write_text("# en_US.UTF-8 UTF-8\n# ja_JP.UTF-8 UTF-8\n")
    return root


def _install(
    tmp_path: Path, args: Sequence[str], arch: str = "arm64", user: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{_fake_bin(tmp_path, arch)}:{os.environ['PATH']}")
    command = ["bash", str(INSTALLER), *args]
    if user is not None:
        command = ["runuser", "-u", user, "--", "env", f"PATH={env['PATH']}", *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _installed(root: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = _install(tmp_path, ["--root", str(root), *extra])
    assert result.returncode == 0, result.stderr
    return result


def _touch_matrix(rules_text: str) -> list[float]:
    match = re.search(r'ENV\{LIBINPUT_CALIBRATION_MATRIX\}="([^"]+)"', rules_text)
    assert match is not None, rules_text
    return [float(value) for value in match.group(1).split()]


# --- the installer into a temporary root -------------------------------------------------


def test_install_into_root_writes_files(tmp_path: Path) -> None:
    root = _make_root(tmp_path)

    _installed(root, tmp_path, "--rotation", "90")

    for name in ("chiiki-pos.service", "chiiki-pos-eglfs.service"):
        installed = root / "etc/systemd/system" / name
        assert installed.read_text() == (PACKAGING / "systemd" / name).read_text()
        assert stat.S_IMODE(installed.stat().st_mode) == 0o644
    rules = root / "etc/udev/rules.d/70-chiiki-pos.rules"
    assert rules.read_text() == STATIC_RULES.read_text()
    launcher = root / "opt/chiiki-pos/bin/chiiki-kiosk"
    assert launcher.read_text() == LAUNCHER.read_text()
    assert stat.S_IMODE(launcher.stat().st_mode) == 0o755
    assert (root / "etc/pam.d/chiiki-pos").read_text() == (PACKAGING / "pam-chiiki-pos").read_text()
    config = root / "etc/chiiki/terminal.toml"
    assert config.read_text() == (PACKAGING / "terminal.toml.example").read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert os.readlink(root / "usr/local/bin/chiiki-pos") == "/opt/chiiki-pos/venv/bin/chiiki-pos"
    assert stat.S_IMODE((root / "var/lib/chiiki-pos").stat().st_mode) == 0o750
    assert "\nja_JP.UTF-8 UTF-8\n" in (root / "etc/locale.gen").read_text()


def test_install_writes_rotation_settings(tmp_path: Path) -> None:
    root = _make_root(tmp_path)

    _installed(root, tmp_path, "--rotation", "270", "--display", "eglfs")

    conf = (root / "etc/chiiki/kiosk.conf").read_text().splitlines()
    assert "CHIIKI_ROTATION=270" in conf
    assert "CHIIKI_DISPLAY=eglfs" in conf
    touch = (root / "etc/udev/rules.d/70-chiiki-pos-touch.rules").read_text()
    assert _touch_matrix(touch) == [0, 1, 0, -1, 0, 1]
    assert 'ENV{ID_INPUT_TOUCHSCREEN}=="1"' in touch


def test_install_lists_system_commands_under_root(tmp_path: Path) -> None:
    root = _make_root(tmp_path)

    output = _installed(root, tmp_path).stdout

    assert "skipped (--root): groupadd --system chiiki-dev" in output
    assert "skipped (--root): usermod --append --groups chiiki-dev,input,video,render,systemd-journal chiiki" in output
    assert f"skipped (--root): /opt/chiiki-pos/venv/bin/python -m pip install --upgrade {PROJECT}" in output
    assert "skipped (--root): /usr/bin/python3 -m venv --clear /opt/chiiki-pos/venv" in output
    assert "skipped (--root): udevadm control --reload" in output
    packages = output.split("apt-get install", 1)[1].split("\n", 1)[0].split()
    assert {"cage", "xwayland", "wlr-randr", "fonts-noto-cjk", "libzbar0", "libusb-1.0-0"} <= set(packages)
    assert {"libwayland-cursor0", "libwayland-egl1", "libpam-systemd"} <= set(packages)


def test_install_again_changes_nothing_and_keeps_config(tmp_path: Path) -> None:
    root = _make_root(tmp_path)
    _installed(root, tmp_path, "--rotation", "180")
    config = root / "etc/chiiki/terminal.toml"
    config.write_text('server_url = "https://coin.example.jp"\n')

    output = _installed(root, tmp_path).stdout

    assert "wrote:" not in output
    assert "unchanged: /etc/systemd/system/chiiki-pos.service" in output
    assert "unchanged: /etc/udev/rules.d/70-chiiki-pos-touch.rules" in output
    assert "kept: /etc/chiiki/terminal.toml" in output
    assert config.read_text() == 'server_url = "https://coin.example.jp"\n'
    assert "CHIIKI_ROTATION=180" in (root / "etc/chiiki/kiosk.conf").read_text().splitlines()
    assert "udevadm" not in output


def test_install_lets_service_group_replace_config(tmp_path: Path) -> None:
    root = _make_root(tmp_path)

    output = _installed(root, tmp_path).stdout

    config_dir = root / "etc/chiiki"
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o770
    assert "skipped (--root): chgrp chiiki /etc/chiiki" in output
    assert "skipped (--root): chgrp chiiki /etc/chiiki/terminal.toml" in output


def test_installed_config_dir_accepts_rename_from_group_member(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A member of the directory's group replaces terminal.toml as write_config does."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser to act as an unprivileged group member")
    # pytest's own temporary folders are closed to other users, so the root goes in /tmp.
    shared = Path(tempfile.mkdtemp(prefix="chiiki-kiosk-"))
    request.addfinalizer(lambda: shutil.rmtree(shared))
    shared.chmod(0o755)
    root = _make_root(shared)
    _installed(root, tmp_path)
    config_dir = root / "etc/chiiki"
    config = config_dir / "terminal.toml"
    # The installer only lists chgrp under --root, and the user chiiki need not exist here, so
    # nobody's group nogroup takes the place of chiiki, with the ownership the installer sets.
    for path in (root, root / "etc"):
        path.chmod(0o755)
    os.chown(config_dir, 0, 65534)
    os.chown(config, 0, 65534)
    replace = (
        f"printf 'language = \"en\"\\n' > {config}.partial && mv -f {config}.partial {config}"
    )

    result = subprocess.run(
        ["runuser", "-u", "nobody", "-g", "nogroup", "--", "sh", "-c", replace],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert config.read_text() == 'language = "en"\n'
    assert not (config_dir / "terminal.toml.partial").exists()


def test_install_enables_the_unit_for_the_display(tmp_path: Path) -> None:
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl is not installed, so the installer cannot enable units under --root")
    root = _make_root(tmp_path)
    wants = root / "etc/systemd/system/graphical.target.wants"

    _installed(root, tmp_path)
    assert (wants / "chiiki-pos.service").is_symlink()
    assert not (wants / "chiiki-pos-eglfs.service").exists()

    _installed(root, tmp_path, "--display", "eglfs")
    assert (wants / "chiiki-pos-eglfs.service").is_symlink()
    assert not (wants / "chiiki-pos.service").exists()


# --- dry run ----------------------------------------------------------------------------


def _dry_run_files(output: str) -> dict[str, str]:
    """Map each path after "would write:" to the content lines printed below it."""
    files: dict[str, str] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        header = re.match(r"would write: (\S+) \(mode \d+\)$", line)
        if header:
            current = []
            files[header.group(1)] = ""
            path = header.group(1)
        elif current is not None and line.startswith("    | "):
            current.append(line[6:])
            files[path] = "\n".join(current) + "\n"
        else:
            current = None
    return files


def test_dry_run_prints_files_and_changes_nothing(tmp_path: Path) -> None:
    root = _make_root(tmp_path)
    before = sorted(str(path) for path in root.rglob("*"))

    output = _installed(root, tmp_path, "--dry-run", "--rotation", "90").stdout

    assert sorted(str(path) for path in root.rglob("*")) == before
    files = _dry_run_files(output)
    unit = (PACKAGING / "systemd/chiiki-pos.service").read_text()
    assert files["/etc/systemd/system/chiiki-pos.service"] == unit
    assert files["/etc/udev/rules.d/70-chiiki-pos.rules"] == STATIC_RULES.read_text()
    assert _touch_matrix(files["/etc/udev/rules.d/70-chiiki-pos-touch.rules"]) == [0, -1, 1, 1, 0, 0]
    assert "CHIIKI_ROTATION=90" in files["/etc/chiiki/kiosk.conf"].splitlines()
    assert "would run: udevadm control --reload" in output
    assert "would run: systemctl enable chiiki-pos.service" in output
    assert "would link: /usr/local/bin/chiiki-pos -> /opt/chiiki-pos/venv/bin/chiiki-pos" in output


# --- refusals ---------------------------------------------------------------------------


def test_install_rejects_non_debian_system(tmp_path: Path) -> None:
    root = _make_root(tmp_path, 'ID=fedora\nVERSION_ID="40"\n')

    result = _install(tmp_path, ["--root", str(root)])

    assert result.returncode == 1
    assert "not a Debian-family system (ID=fedora" in result.stderr
    assert not (root / "etc/systemd").exists()


def test_install_warns_about_old_pyside_on_bookworm_arm64(tmp_path: Path) -> None:
    root = _make_root(tmp_path)

    result = _installed(root, tmp_path)

    assert "PySide6 6.8.0.2 at most" in result.stderr


def test_install_rejects_old_release(tmp_path: Path) -> None:
    root = _make_root(tmp_path, "ID=debian\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\n")

    result = _install(tmp_path, ["--root", str(root)])

    assert result.returncode == 1
    assert "release bullseye is not supported" in result.stderr


def test_install_rejects_32_bit_arm(tmp_path: Path) -> None:
    root = _make_root(tmp_path)

    result = _install(tmp_path, ["--root", str(root)], arch="armhf")

    assert result.returncode == 1
    assert "armhf (32-bit ARM) is not supported" in result.stderr
    assert "Raspberry Pi OS (64-bit)" in result.stderr


def test_install_rejects_invalid_rotation(tmp_path: Path) -> None:
    root = _make_root(tmp_path)

    result = _install(tmp_path, ["--root", str(root), "--rotation", "45"])

    assert result.returncode == 1
    assert "rotation 45 is invalid; use 0, 90, 180 or 270" in result.stderr


def test_install_rejects_non_root_user(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("runuser is not installed, so the test cannot drop root")
        tmp_path.chmod(0o755)
        result = _install(tmp_path, [], user="nobody")
    else:
        result = _install(tmp_path, [])

    assert result.returncode == 1
    assert "run this as root" in result.stderr


# --- systemd units ----------------------------------------------------------------------


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    system_units = Path("/usr/lib/systemd/system")
    if not (system_units / "sysinit.target").exists():
        pytest.skip("this machine has no systemd unit files to verify the units against")
    root = _make_root(tmp_path)
    _installed(root, tmp_path)
    # The verifier resolves dependencies and ExecStart inside the root, so it gets the
    # system's own units beside the installed ones.
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)

    result = subprocess.run(
        [
            analyze,
            "verify",
            f"--root={root}",
            "/etc/systemd/system/chiiki-pos.service",
            "/etc/systemd/system/chiiki-pos-eglfs.service",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    # systemd-analyze reports unknown keys and bad values on stderr but still exits 0.
    assert result.stderr == ""
    assert result.stdout == ""


def test_units_set_kiosk_environment() -> None:
    for name, platform in (("chiiki-pos.service", "wayland"), ("chiiki-pos-eglfs.service", "eglfs")):
        lines = (PACKAGING / "systemd" / name).read_text().splitlines()
        assert "User=chiiki" in lines
        assert f"Environment=QT_QPA_PLATFORM={platform}" in lines
        assert "Environment=LANG=ja_JP.UTF-8" in lines
        assert "Environment=CHIIKI_POS_CONFIG=/etc/chiiki/terminal.toml" in lines
        assert "Restart=always" in lines
        assert "StandardOutput=journal" in lines
        assert "EnvironmentFile=-/etc/chiiki/kiosk.conf" in lines


# --- udev rules -------------------------------------------------------------------------

MATCH_KEYS = {"ACTION", "KERNEL", "SUBSYSTEM", "DRIVER", "ATTR", "ENV", "TAG"}
ASSIGN_KEYS = {"GROUP", "MODE", "OWNER", "ENV", "TAG", "SYMLINK", "RUN"}
RULE_KEY = re.compile(r'\s*([A-Z_]+)(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)')


def _parse_rule(line: str) -> list[tuple[str, str, str]]:
    """Split one rule into (key, operator, value), raising ValueError on anything else."""
    pairs = []
    position = 0
    while position < len(line):
        match = RULE_KEY.match(line, position)
        if match is None:
            raise ValueError(f"cannot parse {line[position:]!r}")
        key, _, operator, value, _ = match.groups()
        pairs.append((key, operator, value))
        position = match.end()
    return pairs


def _check_rules(text: str) -> int:
    rules = 0
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pairs = _parse_rule(line)
        for key, operator, value in pairs:
            if operator in ("==", "!="):
                assert key in MATCH_KEYS, f"{key} cannot be matched in {line}"
            else:
                assert key in ASSIGN_KEYS, f"{key} cannot be assigned in {line}"
            if key == "MODE":
                assert re.fullmatch(r"0[0-7]{3}", value), line
            if key == "GROUP":
                assert value == "chiiki-dev", line
        assert any(op in ("==", "!=") for _, op, _ in pairs), f"rule matches everything: {line}"
        assert any(op not in ("==", "!=") for _, op, _ in pairs), f"rule does nothing: {line}"
        rules += 1
    return rules


def test_udev_rules_parse_into_match_and_assign_keys() -> None:
    assert _check_rules(STATIC_RULES.read_text()) == 12


def test_udev_rule_parser_rejects_bad_syntax() -> None:
    with pytest.raises(ValueError):
        _parse_rule('SUBSYSTEM=="tty" GROUP="chiiki-dev"')
    with pytest.raises(AssertionError):
        _check_rules('SUBSYSTEM=="tty", GROPU="chiiki-dev"')


def test_udev_rules_cover_printers_and_serial() -> None:
    rules = [_parse_rule(line) for line in STATIC_RULES.read_text().splitlines() if line.startswith("SUBSYSTEM")]
    vendors = {value for rule in rules for key, _, value in rule if key == "ATTR"}
    kernels = {value for rule in rules for key, _, value in rule if key == "KERNEL"}

    assert "04b8" in vendors
    assert {"lp[0-9]*", "ttyACM[0-9]*", "ttyUSB[0-9]*"} <= kernels
    assert any(("ENV", "==", "*:0701??:*") in rule for rule in rules)
    assert all(("MODE", "=", "0660") in rule for rule in rules)


def test_udev_rules_pass_udevadm_verify(tmp_path: Path) -> None:
    udevadm = shutil.which("udevadm")
    if udevadm is None:
        pytest.skip("udevadm is not installed")
    probe = subprocess.run([udevadm, "verify", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("this udevadm has no verify command (added in systemd 254)")
    root = _make_root(tmp_path)
    _installed(root, tmp_path, "--rotation", "90")

    result = subprocess.run(
        [udevadm, "verify", "--resolve-names=never", *sorted((root / "etc/udev/rules.d").iterdir())],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# --- rotation ---------------------------------------------------------------------------


def _picture_on_panel(point: tuple[float, float], rotation: int) -> tuple[float, float]:
    """Where a point of the picture lands on a panel mounted ``rotation`` degrees clockwise.

    The compositor turns the picture anticlockwise by the same angle, so that it reads upright.
    Coordinates are fractions of the width and height, origin top left, y downwards. One
    anticlockwise quarter turn moves the top-left corner to the bottom left: (x, y) to (y, 1 - x).
    """
    x, y = point
    for _ in range(rotation // 90):
        x, y = y, 1 - x
    return x, y


def _apply(matrix: list[float], point: tuple[float, float]) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    x, y = point
    return a * x + b * y + c, d * x + e * y + f


@pytest.mark.parametrize("degrees", ANGLES)
def test_touch_matrix_maps_panel_to_turned_picture(tmp_path: Path, degrees: int) -> None:
    root = _make_root(tmp_path)
    _installed(root, tmp_path, "--rotation", str(degrees))
    matrix = _touch_matrix((root / "etc/udev/rules.d/70-chiiki-pos-touch.rules").read_text())
    assert _check_rules((root / "etc/udev/rules.d/70-chiiki-pos-touch.rules").read_text()) == 1

    # A finger on the spot where the picture shows point p must be reported at p.
    for picture_point in ((0, 0), (1, 0), (0, 1), (1, 1), (0.25, 0.1)):
        panel_point = _picture_on_panel(picture_point, degrees)
        assert _apply(matrix, panel_point) == pytest.approx(picture_point)


def test_panel_model_turns_picture_anticlockwise() -> None:
    assert _picture_on_panel((0, 0), 90) == (0, 1)
    assert _picture_on_panel((0, 0), 180) == (1, 1)
    assert _picture_on_panel((0, 0), 270) == (1, 0)


# --- the launcher the units run ---------------------------------------------------------


def _launch(tmp_path: Path, mode: str, rotation: int, cage_version: str = "0.1.4") -> list[str]:
    """Run chiiki-kiosk with recording fakes of cage, wlr-randr and chiiki-pos; return the log."""
    bin_dir = tmp_path / "launch-bin"
    bin_dir.mkdir(exist_ok=True)
    record = tmp_path / "record.log"
    prefix = tmp_path / "prefix"
    (prefix / "venv/bin").mkdir(parents=True, exist_ok=True)
    _write_script(
        bin_dir / "cage",
        f'[ "$1" = -v ] && {{ echo "Cage version {cage_version}"; exit 0; }}\n'
        f'echo "cage $*" >> {record}\n',
    )
    _write_script(
        bin_dir / "wlr-randr",
        f'if [ $# -eq 0 ]; then printf \'HDMI-A-1 "Monitor"\\n  Enabled: yes\\nDSI-1 "Panel"\\n  Enabled: yes\\n\'; '
        f'else echo "wlr-randr $*" >> {record}; fi\n',
    )
    _write_script(
        prefix / "venv/bin/chiiki-pos",
        f'echo "chiiki-pos $* platform=$QT_QPA_PLATFORM eglfs=${{QT_QPA_EGLFS_ROTATION:-}} '
        f'touch=${{QT_QPA_EVDEV_TOUCHSCREEN_PARAMETERS:-}}" >> {record}\n',
    )
    env = dict(
        os.environ,
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        CHIIKI_PREFIX=str(prefix),
        CHIIKI_ROTATION=str(rotation),
        CHIIKI_POS_CONFIG="/etc/chiiki/terminal.toml",
    )
    result = subprocess.run(["bash", str(LAUNCHER), mode], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return record.read_text().splitlines()


def test_launcher_turns_old_cage_with_r_flags(tmp_path: Path) -> None:
    log = _launch(tmp_path, "cage", 270, cage_version="0.1.4")

    app = f"{tmp_path}/prefix/venv/bin/chiiki-pos run --config /etc/chiiki/terminal.toml --fullscreen"
    assert log == [f"cage -d -r -r -r -- {app}"]


def test_launcher_runs_app_step_in_newer_cage(tmp_path: Path) -> None:
    log = _launch(tmp_path, "cage", 90, cage_version="0.2.0")

    assert log == [f"cage -d -- {LAUNCHER} app"]


def test_launcher_app_step_turns_every_output(tmp_path: Path) -> None:
    log = _launch(tmp_path, "app", 90)

    assert log[:2] == ["wlr-randr --output HDMI-A-1 --transform 90", "wlr-randr --output DSI-1 --transform 90"]
    assert log[2].startswith("chiiki-pos run --config /etc/chiiki/terminal.toml --fullscreen platform=")


def test_launcher_eglfs_turns_picture_and_touch(tmp_path: Path) -> None:
    log = _launch(tmp_path, "eglfs", 270)

    assert log == [
        "chiiki-pos run --config /etc/chiiki/terminal.toml --fullscreen platform=eglfs eglfs=-90 touch=rotate=270"
    ]


def test_launcher_rejects_invalid_rotation(tmp_path: Path) -> None:
    env = dict(os.environ, CHIIKI_ROTATION="45")

    result = subprocess.run(["bash", str(LAUNCHER), "cage"], env=env, capture_output=True, text=True)

    assert result.returncode == 2
    assert "CHIIKI_ROTATION=45 is invalid" in result.stderr


# --- shell scripts ----------------------------------------------------------------------


def test_bootstrap_installs_project_with_dev_extra(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    record = tmp_path / "pip.log"
    (venv / "bin").mkdir(parents=True)
    _write_script(venv / "bin" / "python", f'echo "$*" >> {record}\n')
    # run.sh sources the script the same way, then calls its functions.
    script = f"source {BOOTSTRAP}; VENV={venv}; install_python_packages"

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr
    assert record.read_text().splitlines() == [
        "-m pip install -q --upgrade pip",
        f"-m pip install -q -e {PROJECT}[dev]",
    ]


def test_shell_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")

    result = subprocess.run(
        [shellcheck, str(INSTALLER), str(LAUNCHER), str(BOOTSTRAP)],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout
