# shellcheck shell=bash
# Set up everything chiiki-pos needs on a Debian-family machine, then return.
# Sourced by run.sh. Safe to run again: each step checks before it acts.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

# Shared libraries and fonts: zbar for reading QR images, the Noto CJK font for Japanese on
# screen and in the printer emulator, libusb for USB printers, and what Qt 6 loads for the
# offscreen and X11 platforms. Qt Multimedia (the camera scanner) needs libpulse.
SYSTEM_PACKAGES=(
    libzbar0 fonts-noto-cjk libusb-1.0-0
    libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0
    libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
    libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
    libpulse0
)

log() { printf 'bootstrap: %s\n' "$*" >&2; }

missing_system_packages() {
    local package
    for package in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
            || printf '%s\n' "$package"
    done
}

install_system_packages() {
    command -v dpkg-query >/dev/null || {
        log "not a Debian-family system: install zbar, libusb, a Japanese font (Noto Sans CJK)"
        log "and the Qt 6 runtime libraries with your package manager"
        return 0
    }
    local missing
    mapfile -t missing < <(missing_system_packages)
    [ "${#missing[@]}" -eq 0 ] && return 0

    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            log "missing system packages: ${missing[*]}"
            log "install them with: sudo apt-get install ${missing[*]}"
            exit 1
        fi
    fi
    log "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_python_packages() {
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating the virtual environment in $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.chiiki-installed"
    local wanted
    wanted="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        log "installing Python packages"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e "${ROOT}[dev]"
        printf '%s' "$wanted" > "$stamp"
    fi
}

build_translations() {
    "$VENV/bin/python" -m ui.i18n >/dev/null
}

bootstrap() {
    install_system_packages
    install_python_packages
    build_translations
}
