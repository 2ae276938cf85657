#!/usr/bin/env bash
# Install the chiiki-pos terminal as a full-screen kiosk on Raspberry Pi OS (64-bit) or Debian.
#
#   sudo packaging/install-kiosk.sh [--rotation 0|90|180|270] [--display cage|eglfs]
#                                   [--root DIR] [--dry-run]
#
# Run it from the project folder. It installs the system packages, creates the service user
# chiiki and the group chiiki-dev, installs the terminal into a virtual environment under
# /opt/chiiki-pos, writes the systemd unit, the udev rules and /etc/chiiki/kiosk.conf, reloads
# udev and enables the service. /etc/chiiki is made writable by the group chiiki so the
# terminal's technician screens can save settings. Safe to run again: files that are already
# right are left alone, /etc/chiiki/terminal.toml is never overwritten, and leaving an option out
# keeps the value of the previous run.
#
#   --rotation DEG  how far the screen is turned clockwise from its normal position, as mounted.
#                   Picture and touch are turned back by the same angle (default: the previous
#                   run's, else 0)
#   --display MODE  cage (Wayland kiosk compositor, the default) or eglfs (Qt without compositor)
#   --root DIR      write the files under DIR instead of /; commands that change the running
#                   system (apt-get, useradd, pip, udevadm) are listed, not run
#   --dry-run       print every file with its contents and every command, change nothing

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE="$(cd "$HERE/.." && pwd)"

PREFIX=/opt/chiiki-pos
SERVICE_USER=chiiki
DEVICE_GROUP=chiiki-dev
# The group input is for evdev scanners and, under eglfs, the touch screen. video and render are
# for the display under eglfs. systemd-journal lets the support bundle include the service's log.
EXTRA_GROUPS=(input video render systemd-journal)
DATA_DIR=/var/lib/chiiki-pos
SYSTEM_PYTHON=/usr/bin/python3
CONFIG_DIR=/etc/chiiki
CONFIG_DIR_MODE=770
KIOSK_CONF=/etc/chiiki/kiosk.conf
UNITS=(chiiki-pos.service chiiki-pos-eglfs.service)

# The releases whose PySide6 wheels and cage packages this was checked against: Debian 12
# (bookworm) and 13 (trixie), on which Raspberry Pi OS 64-bit is built.
SUPPORTED_CODENAMES=(bookworm trixie)
# PySide6 publishes Linux wheels for x86_64 and aarch64 only, so 32-bit ARM (armhf) is rejected.
SUPPORTED_ARCHITECTURES=(arm64 amd64)

# cage and wlr-randr: the kiosk compositor and its output rotation. cage 0.1.4 (Debian 12) exits
# with "Cannot create XWayland server" when Xwayland is missing, and its package does not depend
# on it. The libraries are what the PySide6 wheel's Wayland and eglfs platform plugins load from
# the system, plus zbar (QR images), libusb (USB printers) and the Noto CJK font for Japanese.
KIOSK_PACKAGES=(
    cage xwayland wlr-randr dbus libpam-systemd locales python3 python3-venv
    fonts-noto-cjk libzbar0 libusb-1.0-0
    libegl1 libgl1 libgles2 libgbm1 libdrm2 libwayland-client0 libwayland-cursor0
    libwayland-egl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0
)

ROOT=/
DRY_RUN=0
ROTATION=""
DISPLAY_MODE=""
UDEV_CHANGED=0
UNITS_CHANGED=0

log() { printf 'install-kiosk: %s\n' "$*" >&2; }
fail() {
    log "$*"
    exit 1
}

# Print the usage lines of the header above and exit with the given status (2 by default).
usage() {
    sed -n '4,5p;15,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --rotation) [ $# -ge 2 ] || usage; ROTATION="$2"; shift 2 ;;
            --display) [ $# -ge 2 ] || usage; DISPLAY_MODE="$2"; shift 2 ;;
            --root) [ $# -ge 2 ] || usage; ROOT="$2"; shift 2 ;;
            --dry-run) DRY_RUN=1; shift ;;
            -h | --help) usage 0 ;;
            *) log "unknown option $1"; usage ;;
        esac
    done
    [ -d "$ROOT" ] || fail "--root $ROOT is not a directory; create it first"
    ROOT="$(cd "$ROOT" && pwd)"
}

# The path of a system file inside the target root.
target() {
    if [ "$ROOT" = / ]; then
        printf '%s\n' "$1"
    else
        printf '%s%s\n' "$ROOT" "$1"
    fi
}

# Print the value of KEY in the target's /etc/os-release.
os_release_value() {
    local file
    file="$(target /etc/os-release)"
    [ -r "$file" ] || return 0
    sed -n "s/^$1=//p" "$file" | tr -d '"' | head -n1
}

contains() {
    local wanted="$1" item
    shift
    for item in "$@"; do
        [ "$item" = "$wanted" ] && return 0
    done
    return 1
}

check_system() {
    if [ "$ROOT" = / ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" -ne 0 ]; then
        fail "run this as root: sudo $0 $*"
    fi

    local id id_like codename
    id="$(os_release_value ID)"
    id_like="$(os_release_value ID_LIKE)"
    codename="$(os_release_value VERSION_CODENAME)"
    case " $id $id_like " in
        *" debian "* | *" raspbian "*) ;;
        *) fail "this is not a Debian-family system (ID=${id:-unknown} in $(target /etc/os-release)); install Raspberry Pi OS (64-bit) or Debian 12 or 13" ;;
    esac
    contains "$codename" "${SUPPORTED_CODENAMES[@]}" \
        || fail "release ${codename:-unknown} is not supported; use Raspberry Pi OS or Debian ${SUPPORTED_CODENAMES[*]}"

    local arch
    arch="$(dpkg --print-architecture 2>/dev/null || true)"
    case "$arch" in
        armhf | armel) fail "architecture $arch (32-bit ARM) is not supported because PySide6 has no wheels for it; install Raspberry Pi OS (64-bit)" ;;
    esac
    contains "$arch" "${SUPPORTED_ARCHITECTURES[@]}" \
        || fail "architecture ${arch:-unknown} is not supported; use ${SUPPORTED_ARCHITECTURES[*]}"

    # From 6.8.1 on, PySide6's aarch64 wheels need glibc 2.39, and Debian 12 has 2.36.
    if [ "$codename" = bookworm ] && [ "$arch" = arm64 ]; then
        log "Debian 12 on arm64: pip can install PySide6 6.8.0.2 at most, older than the 6.11 the tests run on; Raspberry Pi OS based on Debian 13 (trixie) gets the current PySide6"
    fi
}

# Keep the previous run's setting for every option left out.
read_previous_settings() {
    local conf
    conf="$(target "$KIOSK_CONF")"
    if [ -z "$ROTATION" ]; then
        ROTATION="$( { sed -n 's/^CHIIKI_ROTATION=//p' "$conf" 2>/dev/null || true; } | head -n1)"
        ROTATION="${ROTATION:-0}"
    fi
    if [ -z "$DISPLAY_MODE" ]; then
        DISPLAY_MODE="$( { sed -n 's/^CHIIKI_DISPLAY=//p' "$conf" 2>/dev/null || true; } | head -n1)"
        DISPLAY_MODE="${DISPLAY_MODE:-cage}"
    fi
    case "$ROTATION" in
        0 | 90 | 180 | 270) ;;
        *) fail "rotation $ROTATION is invalid; use 0, 90, 180 or 270 (degrees the screen is turned clockwise)" ;;
    esac
    case "$DISPLAY_MODE" in
        cage | eglfs) ;;
        *) fail "display $DISPLAY_MODE is invalid; use cage or eglfs" ;;
    esac
}

# Run a command on the running system, or list it under --dry-run and --root.
run() {
    if [ "$DRY_RUN" = 1 ]; then
        printf 'would run: %s\n' "$*"
    elif [ "$ROOT" != / ]; then
        printf 'skipped (--root): %s\n' "$*"
    else
        log "running: $*"
        "$@"
    fi
}

# Write standard input to PATH (inside the target root) with MODE, unless it is already there.
# Returns 0 when the file changed (or would change), 1 when it was already right.
put_file() {
    local path="$1" mode="$2" dest content
    dest="$(target "$path")"
    content="$(cat; printf x)"
    content="${content%x}"

    if [ -f "$dest" ] && [ "$(cat "$dest"; printf x)" = "${content}x" ] \
        && [ "$(stat -c %a "$dest")" = "$mode" ]; then
        printf 'unchanged: %s\n' "$path"
        return 1
    fi
    if [ "$DRY_RUN" = 1 ]; then
        printf 'would write: %s (mode %s)\n' "$path" "$mode"
        printf '%s' "$content" | sed 's/^/    | /'
        return 0
    fi
    mkdir -p "$(dirname "$dest")"
    printf '%s' "$content" > "$dest.new"
    chmod "$mode" "$dest.new"
    mv -f "$dest.new" "$dest"
    printf 'wrote: %s\n' "$path"
}

install_packages() {
    local missing=() package
    for package in "${KIOSK_PACKAGES[@]}"; do
        if [ "$ROOT" != / ] || ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$package")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# Uncomment (or add) ja_JP.UTF-8 in /etc/locale.gen and generate it, for the LANG the units set.
enable_japanese_locale() {
    local file content
    file="$(target /etc/locale.gen)"
    content="$(cat "$file" 2>/dev/null || true)"
    if ! grep -q '^ja_JP.UTF-8 UTF-8' <<<"$content"; then
        if grep -q '^# *ja_JP.UTF-8 UTF-8' <<<"$content"; then
            # sed, because the line may start with "#" and any number of spaces.
            # shellcheck disable=SC2001
            content="$(sed 's/^# *ja_JP.UTF-8 UTF-8/ja_JP.UTF-8 UTF-8/' <<<"$content")"
        else
            content="${content:+$content
}ja_JP.UTF-8 UTF-8"
        fi
        printf '%s\n' "$content" | put_file /etc/locale.gen 644 || true
    fi
    if [ "$ROOT" != / ] || ! locale -a 2>/dev/null | grep -qi '^ja_JP.utf8$'; then
        run locale-gen
    fi
}

create_user_and_groups() {
    if [ "$ROOT" != / ] || ! getent group "$DEVICE_GROUP" >/dev/null; then
        run groupadd --system "$DEVICE_GROUP"
    fi
    if [ "$ROOT" != / ] || ! getent passwd "$SERVICE_USER" >/dev/null; then
        run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
            --shell /usr/sbin/nologin --comment "chiiki-pos terminal" "$SERVICE_USER"
    fi
    local groups=("$DEVICE_GROUP") group
    for group in "${EXTRA_GROUPS[@]}"; do
        if [ "$ROOT" != / ] || getent group "$group" >/dev/null; then
            groups+=("$group")
        fi
    done
    run usermod --append --groups "$(IFS=,; printf '%s' "${groups[*]}")" "$SERVICE_USER"
}

# The virtual environment is built on Debian's Python, never on one found first on PATH (such as
# pyenv's under /root), because the user chiiki must be able to run it.
install_python() {
    if [ "$ROOT" != / ] || ! grep -qx "home = $(dirname "$SYSTEM_PYTHON")" "$PREFIX/venv/pyvenv.cfg" 2>/dev/null; then
        run "$SYSTEM_PYTHON" -m venv --clear "$PREFIX/venv"
    fi
    run "$PREFIX/venv/bin/python" -m pip install --upgrade pip
    run "$PREFIX/venv/bin/python" -m pip install --upgrade "$SOURCE"
}

# libinput calibration matrix for a screen mounted DEG degrees clockwise, whose picture the
# compositor turns DEG degrees anticlockwise on the panel. It maps a touch at (x, y), in fractions
# of the panel's width and height, to the same fractions of the picture:
# x' = a*x + b*y + c, y' = d*x + e*y + f.
touch_matrix() {
    case "$1" in
        0) printf '1 0 0 0 1 0' ;;
        90) printf '0 -1 1 1 0 0' ;;
        180) printf -- '-1 0 1 0 -1 1' ;;
        270) printf '0 1 0 -1 0 1' ;;
    esac
}

kiosk_conf() {
    cat <<EOF
# chiiki-pos kiosk settings, written by install-kiosk.sh and read by the chiiki-pos units.
# Change them with the installer, for example sudo packaging/install-kiosk.sh --rotation 90,
# not by hand: the touch screen's rule in /etc/udev/rules.d/70-chiiki-pos-touch.rules is
# written from the same rotation.
# CHIIKI_ROTATION: how far the screen is turned clockwise from its normal position, as mounted
# (0, 90, 180 or 270). The picture and the touch screen are turned back by the same angle.
# CHIIKI_DISPLAY: cage (Wayland kiosk compositor) or eglfs (no compositor).
CHIIKI_ROTATION=$ROTATION
CHIIKI_DISPLAY=$DISPLAY_MODE
EOF
}

touch_rules() {
    cat <<EOF
# Touch screen rotation for chiiki-pos, written by install-kiosk.sh for CHIIKI_ROTATION=$ROTATION
# (the screen mounted $ROTATION degrees clockwise). libinput, which cage uses, reads the matrix
# when the device is added, so reboot after a change.
SUBSYSTEM=="input", KERNEL=="event*", ENV{ID_INPUT_TOUCHSCREEN}=="1", ENV{LIBINPUT_CALIBRATION_MATRIX}="$(touch_matrix "$ROTATION")"
EOF
}

install_files() {
    put_file "$PREFIX/bin/chiiki-kiosk" 755 < "$HERE/kiosk/chiiki-kiosk" || true
    put_file /etc/pam.d/chiiki-pos 644 < "$HERE/pam-chiiki-pos" || true
    kiosk_conf | put_file "$KIOSK_CONF" 644 || true

    local unit
    for unit in "${UNITS[@]}"; do
        if put_file "/etc/systemd/system/$unit" 644 < "$HERE/systemd/$unit"; then
            UNITS_CHANGED=1
        fi
    done
    if put_file /etc/udev/rules.d/70-chiiki-pos.rules 644 < "$HERE/udev/70-chiiki-pos.rules"; then
        UDEV_CHANGED=1
    fi
    if touch_rules | put_file /etc/udev/rules.d/70-chiiki-pos-touch.rules 644; then
        UDEV_CHANGED=1
    fi

    local guide
    for guide in technician-guide.ja.md technician-guide.en.md; do
        put_file "$PREFIX/docs/$guide" 644 < "$SOURCE/docs/$guide" || true
    done
    install_terminal_config
    link_command
}

# The terminal's own settings: written once from the example, never overwritten.
install_terminal_config() {
    if [ -e "$(target /etc/chiiki/terminal.toml)" ]; then
        printf 'kept: /etc/chiiki/terminal.toml\n'
    else
        put_file /etc/chiiki/terminal.toml 640 < "$HERE/terminal.toml.example" || true
        run chgrp "$SERVICE_USER" /etc/chiiki/terminal.toml
    fi
    open_config_dir
}

# The technician screens save terminal.toml by writing terminal.toml.partial beside it and
# renaming that over the old file (write_config in terminal/config.py), so a power cut leaves one
# whole file. A rename needs write permission on the directory, not on the file, so /etc/chiiki
# belongs to the group chiiki with mode 0770. The file keeps the path the chiiki-pos command
# reads by default, and other users still cannot read the PIN hashes in it. The service user can
# then also replace kiosk.conf, which sets only its own service's environment, and this
# installer accepts only the rotations and displays listed above when it reads that file back.
open_config_dir() {
    local dir
    dir="$(target "$CONFIG_DIR")"
    if [ "$DRY_RUN" = 1 ]; then
        printf 'would set: %s (group %s, mode %s)\n' "$CONFIG_DIR" "$SERVICE_USER" "$CONFIG_DIR_MODE"
        return 0
    fi
    mkdir -p "$dir"
    if [ "$(stat -c %a "$dir")" != "$CONFIG_DIR_MODE" ]; then
        chmod "$CONFIG_DIR_MODE" "$dir"
        printf 'set: %s (mode %s)\n' "$CONFIG_DIR" "$CONFIG_DIR_MODE"
    fi
    run chgrp "$SERVICE_USER" "$CONFIG_DIR"
}

# /usr/local/bin/chiiki-pos, so technicians can type chiiki-pos print-test and chiiki-pos enrol.
link_command() {
    local link wanted="$PREFIX/venv/bin/chiiki-pos"
    link="$(target /usr/local/bin/chiiki-pos)"
    if [ "$(readlink "$link" 2>/dev/null || true)" = "$wanted" ]; then
        printf 'unchanged: /usr/local/bin/chiiki-pos\n'
    elif [ "$DRY_RUN" = 1 ]; then
        printf 'would link: /usr/local/bin/chiiki-pos -> %s\n' "$wanted"
    else
        mkdir -p "$(dirname "$link")"
        ln -sfn "$wanted" "$link"
        printf 'linked: /usr/local/bin/chiiki-pos -> %s\n' "$wanted"
    fi
}

create_data_dir() {
    # systemd's StateDirectory= creates it too; enrolment runs before the first start.
    if [ "$DRY_RUN" = 1 ]; then
        printf 'would create: %s (owner %s, mode 750)\n' "$DATA_DIR" "$SERVICE_USER"
        return 0
    fi
    mkdir -p "$(target "$DATA_DIR")"
    chmod 750 "$(target "$DATA_DIR")"
    run chown "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"
}

reload_udev() {
    [ "$UDEV_CHANGED" = 1 ] || return 0
    if ! run udevadm control --reload; then
        log "udev is not running (a container or chroot?), so the rules take effect at the next boot"
        return 0
    fi
    run udevadm trigger --action=change --subsystem-match=usb --subsystem-match=usbmisc \
        --subsystem-match=tty --subsystem-match=input
}

enable_service() {
    local wanted=chiiki-pos.service other=chiiki-pos-eglfs.service
    if [ "$DISPLAY_MODE" = eglfs ]; then
        wanted=chiiki-pos-eglfs.service
        other=chiiki-pos.service
    fi

    # systemctl --root edits the unit links of an installed tree without a running systemd.
    if [ "$ROOT" != / ] && [ "$DRY_RUN" = 0 ] && command -v systemctl >/dev/null; then
        systemctl --root="$ROOT" disable "$other" 2>/dev/null || true
        systemctl --root="$ROOT" enable "$wanted"
        systemctl --root="$ROOT" set-default graphical.target \
            || log "graphical.target is not installed under $ROOT; the default target is unchanged"
        return 0
    fi
    if [ "$UNITS_CHANGED" = 1 ] && ! run systemctl daemon-reload; then
        log "systemd is not running (a container or chroot?); the units are enabled for the next boot"
    fi
    run systemctl disable "$other"
    run systemctl enable "$wanted"
    run systemctl set-default graphical.target
    if [ "$ROOT" = / ] && [ "$DRY_RUN" = 0 ]; then
        if systemctl is-active --quiet "$wanted" || systemctl is-active --quiet "$other"; then
            run systemctl restart "$wanted"
        else
            log "installed; reboot to start the terminal (sudo reboot)"
        fi
    fi
}

main() {
    parse_args "$@"
    check_system "$@"
    read_previous_settings
    local mode=""
    [ "$DRY_RUN" = 1 ] && mode=" (dry run)"
    log "installing into $ROOT with rotation $ROTATION and display $DISPLAY_MODE$mode"

    install_packages
    enable_japanese_locale
    create_user_and_groups
    install_python
    install_files
    create_data_dir
    reload_udev
    enable_service
}

main "$@"
