# shellcheck shell=bash
# What the tests need besides Python packages, shared by scripts/test and .ci/run (sourced).
#
#   install_system_packages   Debian packages the suite uses, installed only when missing:
#                             Chromium's headless shell (browser tests) and Chromium itself
#                             (pages looked at by people), poppler (PDF pages read back), the
#                             Pango/HarfBuzz libraries and fonts WeasyPrint draws with, and
#                             the PostgreSQL and Redis servers the CI run starts when none
#                             answers. Needs root or password-less sudo when one is missing.
#   pick_python               the first python3.11-3.13 on PATH.

APT_PACKAGES=(postgresql redis-server poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core chromium chromium-headless-shell chromium-driver)

pick_python() {
    local c
    for c in python3.11 python3.12 python3.13 python3; do
        command -v "$c" >/dev/null 2>&1 || continue
        "$c" -c 'import sys; assert (3, 11) <= sys.version_info[:2] < (3, 14)' 2>/dev/null || continue
        printf '%s\n' "$c"
        return 0
    done
    return 1
}

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "need root (or sudo) to run: $*" >&2
        return 1
    fi
}

retry() { # retry CMD...: three tries, for the network
    local n
    for n in 1 2 3; do
        "$@" && return 0
        [ "$n" = 3 ] || { echo "failed (try $n of 3), retrying in 10 s: $*" >&2; sleep 10; }
    done
    return 1
}

install_system_packages() {
    local need=() p py
    for p in "${APT_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    # Debian's own python3 makes venvs only with python3-venv.
    if py=$(pick_python); then
        "$py" -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
    else
        need+=(python3 python3-venv)
    fi
    if [ "${#need[@]}" -eq 0 ]; then
        echo "system packages: all present"
        return 0
    fi
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    retry as_root apt-get -qq -o DPkg::Lock::Timeout=300 update
    retry as_root apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${need[@]}" \
        >/tmp/ecrf-apt.log 2>&1 || { tail -n 50 /tmp/ecrf-apt.log >&2; return 1; }
    echo "installed: ${need[*]}"
}
