# Shared by scripts/run and scripts/test: a project virtualenv with the package installed.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

ensure_venv() {
    local extras="${1:-}"
    if [ ! -x "$PY" ]; then
        echo "==> creating $VENV"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.installed${extras:+-$extras}"
    # Reinstall only when the package metadata changed since the last install.
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        echo "==> installing the project${extras:+ with [$extras]}"
        "$PY" -m pip install --quiet --upgrade pip
        "$PY" -m pip install --quiet -e "$ROOT${extras:+[$extras]}"
        touch "$stamp"
    fi
}

apt_install() {
    # Installs Debian packages when missing (root only; others get a clear message).
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: missing Debian packages: $*; install them with: sudo apt-get install $*" >&2
        return 1
    fi
    echo "==> apt-get install $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    fi
}
