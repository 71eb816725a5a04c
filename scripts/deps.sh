#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Triage Desk needs to build and run, but
# only those that are missing. On other systems it prints what to install.
#
#   scripts/deps.sh build      GUI build (cgo, OpenGL, X11 headers)
#   scripts/deps.sh test       build + headless test tools (Xvfb, keyring, poppler)
#   scripts/deps.sh packaging  build + installers: mingw-w64 (Windows cross-build),
#                              wixl and msitools (MSI), osslsigncode (signing)
#   scripts/deps.sh wine       packaging + Wine and a virtual screen, for
#                              make windows-check (packaging/windows/check-wine.sh)
set -euo pipefail

build_pkgs=(gcc pkg-config libgl1-mesa-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev)
test_pkgs=(xvfb xauth x11-apps imagemagick libgl1-mesa-dri gnome-keyring dbus-user-session dbus-x11 poppler-utils xdotool)
packaging_pkgs=(gcc-mingw-w64-x86-64 wixl msitools osslsigncode openssl imagemagick xz-utils dpkg-dev desktop-file-utils appstream)
# 64-bit Wine only: Triage Desk has no 32-bit parts, so no i386 architecture.
wine_pkgs=(wine wine64 xvfb xauth xdotool imagemagick libgl1-mesa-dri python3)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
  want+=("${test_pkgs[@]}")
fi
if [ "${1:-build}" = packaging ] || [ "${1:-build}" = wine ]; then
  want+=("${packaging_pkgs[@]}")
fi
if [ "${1:-build}" = wine ]; then
  want+=("${wine_pkgs[@]}")
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  cat <<MSG
This is not a Debian/Ubuntu system, so packages cannot be checked automatically.
Triage Desk needs a C compiler and the OpenGL/X11 development files:
  Fedora:  sudo dnf install gcc pkgconf-pkg-config mesa-libGL-devel libXcursor-devel libXrandr-devel libXinerama-devel libXi-devel libXxf86vm-devel
  macOS:   xcode-select --install
  Windows: install MSYS2 and 'pacman -S mingw-w64-x86_64-gcc' (see README.md)
MSG
  exit 0
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "Cannot install as a normal user without sudo. Ask an administrator to run:" >&2
  echo "  apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
