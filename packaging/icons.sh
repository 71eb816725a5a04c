#!/usr/bin/env bash
# Renders the app icon from assets/icon.svg into the PNG sizes the desktops
# use (assets/icons/icon-<N>.png, N = 16 … 512) and a multi-size Windows
# icon (assets/icon.ico). Needs ImageMagick (scripts/deps.sh packaging).
# The outputs are committed; run this again only after changing the SVG.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v convert >/dev/null || { echo "icons.sh: ImageMagick 'convert' is needed: scripts/deps.sh packaging" >&2; exit 1; }
mkdir -p assets/icons
master=$(mktemp --suffix=.png)
trap 'rm -f "$master"' EXIT
# Render once at 1024 px (density 192 dpi on a 512-unit viewBox), then scale
# down with a sharp filter so the small sizes stay crisp.
convert -background none -density 192 assets/icon.svg -resize 1024x1024 "PNG32:$master"
for n in 16 24 32 48 64 128 256 512; do
  convert "$master" -filter Lanczos -resize "${n}x${n}" -strip "PNG32:assets/icons/icon-$n.png"
done
# Windows: 16, 24, 32, 48, 64 and 256 (stored as PNG inside the .ico).
convert assets/icons/icon-16.png assets/icons/icon-24.png assets/icons/icon-32.png \
  assets/icons/icon-48.png assets/icons/icon-64.png assets/icons/icon-128.png assets/icons/icon-256.png \
  assets/icon.ico
identify assets/icon.ico
