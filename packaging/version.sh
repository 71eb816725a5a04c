#!/usr/bin/env bash
# Prints the build's version in the forms each package format needs, as
# shell assignments (eval "$(packaging/version.sh)"):
#   VERSION       git describe, as the Makefile injects into internal/version
#   SEMVER        X.Y.Z (+N.gHASH after a tag, or FyneApp.toml's Version plus
#                 the commit count when there is no tag)
#   DEB_VERSION   Debian version: X.Y.Z, X.Y.Z+N.gHASH, with ~dirty for
#                 uncommitted trees (sorts before the clean build)
#   WIN_VERSION   four numbers for Windows resources: X.Y.Z.N
#   MSI_VERSION   three numbers for the MSI ProductVersion: X.Y.Z (the MSI
#                 upgrades an installed copy of the same version too, so every
#                 build replaces the previous one)
#   BUILD         N, the commits since the tag (or in total)
set -euo pipefail
cd "$(dirname "$0")/.."
describe=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
base=$(sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\([0-9.]*\)".*/\1/p' FyneApp.toml | head -1)
base=${base:-0.1.0}
dirty=""
case "$describe" in *-dirty) dirty=1 ;; esac
hash=$(git rev-parse --short=7 HEAD 2>/dev/null || echo 0000000)
if [[ "$describe" =~ ^v?([0-9]+)\.([0-9]+)\.([0-9]+)(-([0-9]+)-g([0-9a-f]+))?(-dirty)?$ ]]; then
  x=${BASH_REMATCH[1]} y=${BASH_REMATCH[2]} z=${BASH_REMATCH[3]}
  n=${BASH_REMATCH[5]:-0}
  tagged=1
else
  IFS=. read -r x y z <<<"$base"
  n=$(git rev-list --count HEAD 2>/dev/null || echo 0)
  tagged=""
fi
semver="$x.$y.$z"
deb="$semver"
if [ "$n" != 0 ] || [ -z "$tagged" ]; then
  deb="$semver+$n.g$hash"
fi
if [ -n "$dirty" ]; then deb="$deb~dirty"; fi
cat <<OUT
VERSION='$describe'
SEMVER='$semver'
DEB_VERSION='$deb'
WIN_VERSION='$x.$y.$z.$(( n > 65535 ? 65535 : n ))'
MSI_VERSION='$semver'
BUILD='$n'
OUT
