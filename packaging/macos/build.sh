#!/usr/bin/env bash
# make package-darwin (on macOS with the Xcode command-line tools): builds a
# universal (arm64 + x86_64) Triage Desk.app with `fyne package`, puts
# triagectl beside the GUI in Contents/MacOS, signs everything with the
# hardened runtime and packaging/macos/entitlements.plist, makes a .dmg,
# notarises the app and the .dmg with notarytool and staples the tickets.
#
# Environment:
#   MACOS_SIGN_IDENTITY  "Developer ID Application: Trust Name (TEAMID)" in the
#                        keychain; unset = ad-hoc signature for a local test
#                        build, which Gatekeeper will not accept elsewhere
#   Notarisation (skipped when none is set), either an App Store Connect API key:
#   NOTARY_KEY_PATH, NOTARY_KEY_ID, NOTARY_ISSUER
#   or an Apple ID with an app-specific password:
#   NOTARY_APPLE_ID, NOTARY_TEAM_ID, NOTARY_PASSWORD
#   DIST                 output folder (default dist); results in DIST/darwin
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(uname -s)" != Darwin ]; then
  echo "package-darwin: needs macOS with the Xcode command-line tools (codesign, hdiutil, xcrun notarytool)." >&2
  echo "Run it on a Mac, or let the release workflow's macOS job run it (.github/workflows/release.yml)." >&2
  exit 1
fi
# A caller (package-check, sign) may fix the version for every step.
[ -n "${TRIAGEDESK_VERSION_SET:-}" ] || eval "$(packaging/version.sh)"
DIST=${DIST:-dist}
out="$DIST/darwin"
app="$out/Triage Desk.app"
dmg="$out/TriageDesk-$SEMVER.dmg"
TAGS=$(cat scripts/build-tags)
LDFLAGS="-X github.com/triagedesk/triagedesk/internal/version.Version=$VERSION -X github.com/triagedesk/triagedesk/internal/version.Commit=$(git rev-parse --short=12 HEAD)"
identity=${MACOS_SIGN_IDENTITY:--}
export MACOSX_DEPLOYMENT_TARGET=11.0
export CGO_CFLAGS="-mmacosx-version-min=11.0" CGO_LDFLAGS="-mmacosx-version-min=11.0"

rm -rf "$out"
mkdir -p "$out/arm64" "$out/amd64"
for arch in arm64 amd64; do
  echo "building for darwin/$arch"
  CGO_ENABLED=1 GOOS=darwin GOARCH=$arch go build -tags "$TAGS" -trimpath -ldflags "$LDFLAGS -s -w" -o "$out/$arch/triagedesk" ./cmd/triagedesk
  CGO_ENABLED=0 GOOS=darwin GOARCH=$arch go build -tags "$TAGS" -trimpath -ldflags "$LDFLAGS -s -w" -o "$out/$arch/triagectl" ./cmd/triagectl
done
lipo -create -output "$out/triagedesk" "$out/arm64/triagedesk" "$out/amd64/triagedesk"
lipo -create -output "$out/triagectl" "$out/arm64/triagectl" "$out/amd64/triagectl"

# The fyne CLI is pinned in packaging/tools/go.mod.
(cd packaging/tools && go build -o ../../bin/fyne fyne.io/tools/cmd/fyne)
bin/fyne package --os darwin --release --executable "$out/triagedesk" --name "Triage Desk" \
  --app-id io.github.triagedesk --app-version "$SEMVER" --app-build "$BUILD" --icon assets/icon.png
mv "Triage Desk.app" "$app"
cp "$out/triagectl" "$app/Contents/MacOS/triagectl"
packaging/licenses.sh "$app/Contents/Resources/THIRD_PARTY_LICENSES.txt" "$out/arm64/triagedesk" "$out/arm64/triagectl"
cp packaging/policy.example.json "$app/Contents/Resources/policy.example.json"

# Sign inside out: the executables, then the bundle. --options runtime turns
# on the hardened runtime that notarisation requires.
sign() { codesign --force --timestamp --options runtime --entitlements packaging/macos/entitlements.plist --sign "$identity" "$@"; }
if [ "$identity" = - ]; then
  sign() { codesign --force --options runtime --entitlements packaging/macos/entitlements.plist --sign - "$@"; }
fi
for exe in "$app/Contents/MacOS/"*; do sign "$exe"; done
sign "$app"
codesign --verify --strict --deep --verbose=2 "$app"

notarise() {
  local f=$1
  if [ -n "${NOTARY_KEY_PATH:-}" ]; then
    xcrun notarytool submit "$f" --key "$NOTARY_KEY_PATH" --key-id "$NOTARY_KEY_ID" --issuer "$NOTARY_ISSUER" --wait --timeout 30m
  else
    xcrun notarytool submit "$f" --apple-id "$NOTARY_APPLE_ID" --team-id "$NOTARY_TEAM_ID" --password "$NOTARY_PASSWORD" --wait --timeout 30m
  fi
}
notary=""
if [ -n "${NOTARY_KEY_PATH:-}" ] || [ -n "${NOTARY_APPLE_ID:-}" ]; then notary=1; fi
if [ -n "$notary" ] && [ "$identity" != - ]; then
  # Notarise and staple the app itself, so a copy dragged out of the disk
  # image opens offline too.
  ditto -c -k --keepParent "$app" "$out/app.zip"
  notarise "$out/app.zip"
  xcrun stapler staple "$app"
  rm -f "$out/app.zip"
fi

# Disk image: the app and a link to /Applications.
staging="$out/dmg"
mkdir -p "$staging"
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "Triage Desk" -srcfolder "$staging" -ov -format UDZO "$dmg"
rm -rf "$staging" "$out/arm64" "$out/amd64"
if [ "$identity" != - ]; then
  codesign --force --timestamp --sign "$identity" "$dmg"
fi
if [ -n "$notary" ] && [ "$identity" != - ]; then
  notarise "$dmg"
  xcrun stapler staple "$dmg"
  xcrun stapler validate "$dmg"
  spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
  spctl --assess --type execute --verbose=2 "$app"
fi
echo "built $dmg"
