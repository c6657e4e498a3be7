#!/usr/bin/env bash
# Refresh the front-end files the map needs, from the npm registry, into dashboard/static/vendor.
# They are committed: the map must draw on an intranet with no CDN (README "Offline").
# Usage: scripts/vendor_assets.sh   (needs npm; run only to upgrade a vendored package)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/dashboard/static/vendor"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

vendor() {  # package version files...
    local pkg="$1" version="$2"; shift 2
    (cd "$TMP" && npm pack --silent "$pkg@$version" >/dev/null && mkdir -p "$pkg" && tar xzf ./*"$version".tgz -C "$pkg" && rm ./*.tgz)
    local out="$DEST/$pkg-$version"
    rm -rf "$out"; mkdir -p "$out"
    for f in "$@"; do cp -r "$TMP/$pkg/package/$f" "$out/"; done
    cp "$TMP/$pkg/package/LICENSE" "$out/LICENSE"
    echo "vendored $pkg@$version into ${out#"$ROOT"/}"
}

vendor leaflet 1.9.4 dist/leaflet.js dist/leaflet.css dist/images
