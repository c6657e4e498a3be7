#!/usr/bin/env bash
# Debian packages the test suite needs besides PostgreSQL/PostGIS (scripts/pgcluster.sh):
# chromium for the real-browser tests (Playwright drives it; no browser downloads) and
# fonts-noto-cjk so Chinese renders in screenshots. Installs when root and missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "[system-deps] missing Debian packages: ${missing[*]} — install them: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "[system-deps] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig >/dev/null
