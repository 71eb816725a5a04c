#!/usr/bin/env bash
# Builds Triage Desk's Linux packages in dist/linux/:
#   triagedesk-<version>-linux-amd64.tar.xz  the GUI, triagectl, the .desktop
#       file, the icons (hicolor layout), the licences and an example policy
#   triagedesk_<version>_amd64.deb           the same, installed under
#       /opt/triagedesk with /usr/bin symlinks, a menu entry and hicolor icons
set -euo pipefail
cd "$(dirname "$0")/../.."
# A caller (package-check, sign) may fix the version for every step.
[ -n "${TRIAGEDESK_VERSION_SET:-}" ] || eval "$(packaging/version.sh)"
DIST=${DIST:-dist}
out="$DIST/linux"
TAGS=$(cat scripts/build-tags)
LDFLAGS="-X github.com/triagedesk/triagedesk/internal/version.Version=$VERSION -X github.com/triagedesk/triagedesk/internal/version.Commit=$(git rev-parse --short=12 HEAD 2>/dev/null)"
APPID=io.github.triagedesk
# Reproducible archives: every file dated at the commit.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

scripts/deps.sh build
command -v dpkg-deb >/dev/null || { echo "build.sh: dpkg-deb is missing (Debian/Ubuntu only)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/bin"
echo "building triagedesk and triagectl ($VERSION)"
go build -tags "$TAGS" -trimpath -ldflags "$LDFLAGS -s -w" -o "$out/bin/triagedesk" ./cmd/triagedesk
CGO_ENABLED=0 go build -tags "$TAGS" -trimpath -ldflags "$LDFLAGS -s -w" -o "$out/bin/triagectl" ./cmd/triagectl
packaging/licenses.sh "$out/bin/THIRD_PARTY_LICENSES.txt" "$out/bin/triagedesk" "$out/bin/triagectl"

# install_tree ROOT PREFIX: lays out the icons and desktop file under
# ROOT/PREFIX/share the way the freedesktop specs expect.
install_tree() {
  local root=$1 share=$1/$2/share
  for n in 16 24 32 48 64 128 256 512; do
    install -D -m 0644 "assets/icons/icon-$n.png" "$share/icons/hicolor/${n}x${n}/apps/$APPID.png"
  done
  install -D -m 0644 assets/icon.svg "$share/icons/hicolor/scalable/apps/$APPID.svg"
  install -D -m 0644 "packaging/linux/$APPID.desktop" "$share/applications/$APPID.desktop"
  install -D -m 0644 "packaging/linux/$APPID.metainfo.xml" "$share/metainfo/$APPID.metainfo.xml"
}

# --- .tar.xz ---------------------------------------------------------------
name="triagedesk-$DEB_VERSION-linux-amd64"
tree="$out/$name"
install -D -m 0755 "$out/bin/triagedesk" "$tree/triagedesk"
install -D -m 0755 "$out/bin/triagectl" "$tree/triagectl"
install_tree "$tree" .
install -m 0644 "$out/bin/THIRD_PARTY_LICENSES.txt" packaging/policy.example.json "$tree/"
cat >"$tree/README.txt" <<TXT
Triage Desk $VERSION for Linux (x86-64)

Run ./triagedesk. It needs OpenGL and X11 (or XWayland) libraries:
  Debian/Ubuntu: apt install libgl1 libx11-6 libxcursor1 libxrandr2 libxinerama1 libxi6 libxxf86vm1
and, for keeping sign-in between sessions, a Secret Service keyring (gnome-keyring).

To add it to the desktop menu for one user:
  cp -r share/* ~/.local/share/   (then the menu shows "Triage Desk")
The .deb package installs it for every user. Deployment, the machine policy
(/etc/triagedesk/policy.json) and where data is stored: see docs/deploy.md
in the source, or https://github.com/triagedesk/triagedesk/blob/main/docs/deploy.md
TXT
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$out" -cJf "$out/$name.tar.xz" "$name"
rm -rf "$tree"
echo "built $out/$name.tar.xz"

# --- .deb --------------------------------------------------------------------
root="$out/deb-root"
install -D -m 0755 "$out/bin/triagedesk" "$root/opt/triagedesk/triagedesk"
install -D -m 0755 "$out/bin/triagectl" "$root/opt/triagedesk/triagectl"
mkdir -p "$root/usr/bin"
ln -s ../../opt/triagedesk/triagedesk "$root/usr/bin/triagedesk"
ln -s ../../opt/triagedesk/triagectl "$root/usr/bin/triagectl"
install_tree "$root" usr
install -D -m 0644 packaging/policy.example.json "$root/usr/share/doc/triagedesk/policy.example.json"
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: Triage Desk"
  echo "Source: https://github.com/triagedesk/triagedesk"
  echo
  echo "Files: *"
  echo "Copyright: Triage Desk contributors"
  echo "Comment: The licences of the software linked into the programs follow."
  echo
  cat "$out/bin/THIRD_PARTY_LICENSES.txt"
} >"$root/usr/share/doc/triagedesk/copyright"
chmod 0644 "$root/usr/share/doc/triagedesk/copyright"
# The oldest glibc the binary needs, from its versioned symbols.
glibc=$(objdump -T "$out/bin/triagedesk" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CTRL
Package: triagedesk
Version: $DEB_VERSION
Architecture: amd64
Maintainer: Triage Desk <triagedesk@users.noreply.github.com>
Installed-Size: $size
Depends: libc6 (>= $glibc), libgl1, libx11-6, libxcursor1, libxrandr2, libxinerama1, libxi6, libxxf86vm1
Recommends: gnome-keyring, xdg-utils
Section: misc
Priority: optional
Homepage: https://github.com/triagedesk/triagedesk
Description: vet NHS e-Referral Service referrals, online and offline
 Triage Desk lets NHS consultants vet the referrals GPs send through the NHS
 e-Referral Service (e-RS): it downloads the Referrals for Review worklist,
 keeps each referral's clinical information in an encrypted local cache for
 offline reading, and sends decisions back to e-RS. Hospital IT configures it
 with the machine policy /etc/triagedesk/policy.json (see
 /usr/share/doc/triagedesk/policy.example.json); triagectl checks that file.
CTRL
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's| \./| |') >"$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb="$out/triagedesk_${DEB_VERSION}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
rm -rf "$root"
echo "built $deb"
