#!/usr/bin/env bash
# make sign: Authenticode-signs the Windows programs and the MSI with
# osslsigncode (SHA-256), rebuilding the MSI from the signed programs so the
# installed files carry signatures too, then verifies every signature.
#
# Environment:
#   SIGN_PFX            the code-signing certificate and key, PKCS#12 (.pfx/.p12)
#   SIGN_PASS           its password (given to osslsigncode in a private file,
#                       never on the command line)
#   SIGN_TIMESTAMP_URL  optional RFC 3161 timestamp server, so signatures stay
#                       valid after the certificate expires (needs a network)
#   SIGN_CAFILE         optional CA bundle for the verification step (default:
#                       the system's; a test certificate needs its own CA)
#   DIST                output folder (default dist); signs DIST/windows
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=${DIST:-dist}
win="$DIST/windows"
: "${SIGN_PFX:?set SIGN_PFX to the PKCS#12 file holding the code-signing certificate}"
: "${SIGN_PASS:?set SIGN_PASS to the PKCS#12 password}"
[ -r "$SIGN_PFX" ] || { echo "sign.sh: cannot read $SIGN_PFX" >&2; exit 1; }
command -v osslsigncode >/dev/null || scripts/deps.sh packaging
# A caller (package-check, sign) may fix the version for every step.
[ -n "${TRIAGEDESK_VERSION_SET:-}" ] || eval "$(packaging/version.sh)"
export VERSION SEMVER DEB_VERSION WIN_VERSION MSI_VERSION BUILD TRIAGEDESK_VERSION_SET=1

passfile=$(mktemp)
chmod 600 "$passfile"
trap 'rm -f "$passfile"' EXIT
printf '%s' "$SIGN_PASS" >"$passfile"

sign() {
  local f=$1 desc=$2
  local args=(sign -pkcs12 "$SIGN_PFX" -readpass "$passfile" -h sha256
    -n "$desc" -i "https://github.com/triagedesk/triagedesk")
  if [ -n "${SIGN_TIMESTAMP_URL:-}" ]; then args+=(-ts "$SIGN_TIMESTAMP_URL"); fi
  osslsigncode "${args[@]}" -in "$f" -out "$f.signed" >/dev/null
  mv "$f.signed" "$f"
  echo "signed $f"
}

verify() {
  local f=$1 args=(verify -in "$1")
  if [ -n "${SIGN_CAFILE:-}" ]; then args+=(-CAfile "$SIGN_CAFILE"); fi
  if ! out=$(osslsigncode "${args[@]}" 2>&1); then
    echo "$out" >&2
    echo "sign.sh: verification of $f FAILED" >&2
    return 1
  fi
  echo "verified $f: $(grep -m1 -E '^[[:space:]]*Subject:' <<<"$out" | sed 's/^[[:space:]]*//')"
}

for f in TriageDesk.exe triagectl.exe; do
  [ -f "$win/stage/$f" ] || { echo "sign.sh: $win/stage/$f is missing: run make package-windows first" >&2; exit 1; }
done
sign "$win/stage/TriageDesk.exe" "Triage Desk"
sign "$win/stage/triagectl.exe" "Triage Desk command-line tool"
cp "$win/stage/TriageDesk.exe" "$win/stage/triagectl.exe" "$win/"
DIST="$DIST" packaging/windows/build.sh msi
msi="$win/TriageDesk-$SEMVER-x64.msi"
sign "$msi" "Triage Desk installer"
for f in "$win/TriageDesk.exe" "$win/triagectl.exe" "$msi"; do
  verify "$f"
done
