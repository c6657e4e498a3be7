#!/usr/bin/env bash
# Debian packages the test suite needs besides PostgreSQL/PostGIS (scripts/pgcluster.sh):
# chromium for the real-browser tests (Playwright drives it; no browser downloads) and
# fonts-noto-cjk so Chinese renders in screenshots. Installs when root and missing.
set -euo pipefail
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
command -v chromium >/dev/null 2>&1 || installed chromium || missing+=(chromium)
installed fonts-noto-cjk || ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "[system-deps] missing Debian packages: ${missing[*]} — install them: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "[system-deps] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
