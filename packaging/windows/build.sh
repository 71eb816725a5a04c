#!/usr/bin/env bash
# Builds Triage Desk for Windows on Linux: the GUI (TriageDesk.exe, with icon,
# version resources and no console window), triagectl.exe, and an MSI made
# with wixl. Output in dist/windows/.
#
#   packaging/windows/build.sh          exes and MSI
#   packaging/windows/build.sh exe      only the two .exe files
#   packaging/windows/build.sh msi      only the MSI, from dist/windows/stage
#                                       (make sign uses it after signing the exes)
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
# A caller (package-check, sign) may fix the version for every step.
[ -n "${TRIAGEDESK_VERSION_SET:-}" ] || eval "$(packaging/version.sh)"
DIST=${DIST:-dist}
out="$DIST/windows"
stage="$out/stage"
TAGS=$(cat scripts/build-tags)
LDFLAGS="-X github.com/triagedesk/triagedesk/internal/version.Version=$VERSION -X github.com/triagedesk/triagedesk/internal/version.Commit=$(git rev-parse --short=12 HEAD 2>/dev/null)"

need() { command -v "$1" >/dev/null 2>&1 || scripts/deps.sh packaging; command -v "$1" >/dev/null 2>&1 || { echo "build.sh: $1 is missing" >&2; exit 1; }; }

# resources NAME DESCRIPTION ORIGINAL-FILENAME OUT.syso
# Writes a .rc with the icon, version information and manifest, and compiles
# it with mingw's windres into a .syso that go build links in.
resources() {
  local name=$1 desc=$2 file=$3 syso=$4
  local rc
  rc=$(mktemp --suffix=.rc)
  local v=${WIN_VERSION//./,}
  cat >"$rc" <<RC
1 ICON "$PWD/assets/icon.ico"
1 24 "$PWD/packaging/windows/triagedesk.exe.manifest"
1 VERSIONINFO
FILEVERSION $v
PRODUCTVERSION $v
FILEFLAGSMASK 0x3f
FILEFLAGS 0x0
FILEOS 0x40004
FILETYPE 0x1
FILESUBTYPE 0x0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "080904b0"
    BEGIN
      VALUE "CompanyName", "Triage Desk"
      VALUE "FileDescription", "$desc"
      VALUE "FileVersion", "$WIN_VERSION"
      VALUE "InternalName", "$name"
      VALUE "LegalCopyright", "Triage Desk contributors"
      VALUE "OriginalFilename", "$file"
      VALUE "ProductName", "Triage Desk"
      VALUE "ProductVersion", "$VERSION"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x809, 1200
  END
END
RC
  x86_64-w64-mingw32-windres -O coff -i "$rc" -o "$syso"
  rm -f "$rc"
}

build_exes() {
  need x86_64-w64-mingw32-gcc
  need x86_64-w64-mingw32-windres
  mkdir -p "$stage"
  local gui_syso=cmd/triagedesk/rsrc_windows_amd64.syso cli_syso=cmd/triagectl/rsrc_windows_amd64.syso
  trap 'rm -f "$gui_syso" "$cli_syso"' EXIT
  resources TriageDesk "Triage Desk" TriageDesk.exe "$gui_syso"
  resources triagectl "Triage Desk command-line tool" triagectl.exe "$cli_syso"
  echo "building $stage/TriageDesk.exe ($VERSION; a cold cross-build of the GUI takes several minutes)"
  CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ \
    go build -tags "$TAGS" -trimpath -ldflags "$LDFLAGS -H windowsgui -s -w" -o "$stage/TriageDesk.exe" ./cmd/triagedesk
  echo "building $stage/triagectl.exe"
  CGO_ENABLED=0 GOOS=windows GOARCH=amd64 \
    go build -tags "$TAGS" -trimpath -ldflags "$LDFLAGS -s -w" -o "$stage/triagectl.exe" ./cmd/triagectl
  rm -f "$gui_syso" "$cli_syso"
  trap - EXIT
  packaging/licenses.sh "$stage/THIRD_PARTY_LICENSES.txt" "$stage/TriageDesk.exe" "$stage/triagectl.exe"
  cp packaging/policy.example.json "$stage/policy.example.json"
  cp "$stage/TriageDesk.exe" "$stage/triagectl.exe" "$out/"
}

build_msi() {
  need wixl
  need msibuild
  for f in TriageDesk.exe triagectl.exe THIRD_PARTY_LICENSES.txt policy.example.json; do
    [ -f "$stage/$f" ] || { echo "build.sh: $stage/$f is missing: run packaging/windows/build.sh exe first" >&2; exit 1; }
  done
  local msi="$out/TriageDesk-$SEMVER-x64.msi"
  go run ./packaging/windows/wxsgen -version "$MSI_VERSION" -stage "$stage" -icon assets/icon.ico -o "$out/TriageDesk.wxs" -sql "$out/TriageDesk.sql"
  rm -f "$msi"
  (cd "$out" && wixl -a x64 -o "$(basename "$msi")" TriageDesk.wxs)
  # What wixl cannot express: component conditions and SecureCustomProperties.
  local args=()
  while IFS= read -r q; do args+=(-q "$q"); done <"$out/TriageDesk.sql"
  msibuild "$msi" "${args[@]}"
  echo "built $msi"
}

case "$what" in
  exe) build_exes ;;
  msi) build_msi ;;
  all) build_exes; build_msi ;;
  *) echo "usage: $0 [exe|msi|all]" >&2; exit 2 ;;
esac
