#!/usr/bin/env bash
# make package-check: builds the Linux and Windows packages and checks them
# the way IT and the OS will see them. CI can run it; a cold run takes
# several minutes, mostly the Windows cross-build of the GUI.
#
#   - .deb: dpkg-deb --info/--contents, the files, menu entry and icons in
#     place, every shared library the GUI links provided by a declared
#     dependency, the installed triagectl runs and validates the example policy
#   - .tar.xz: the files, and the programs in it run
#   - .exe: PE GUI/console subsystems, version resources
#   - .msi: msiinfo tables/export: upgrade code and major upgrade, per-machine
#     install, Start-menu shortcut, Add/Remove Programs, every deployment
#     property and its registry value, and the programs it carries
#   - signing: a throwaway CA and code-signing certificate made with openssl,
#     make sign with them, osslsigncode verify -CAfile passes, the MSI holds
#     signed programs, and a tampered .exe FAILS verification
#   - .github/workflows/release.yml: actionlint (or a YAML parse)
#
# Set PACKAGE_CHECK_SKIP_BUILD=1 to check packages already in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
export DIST=${DIST:-dist}
# One version for every step, even if a commit lands while this runs.
eval "$(packaging/version.sh)"
export VERSION SEMVER DEB_VERSION WIN_VERSION MSI_VERSION BUILD TRIAGEDESK_VERSION_SET=1
fails=0
pass() { echo "  ok   $*"; }
fail() { echo "  FAIL $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi; }
section() { echo; echo "== $* ($(( $(date +%s) - start ))s)"; }

scripts/deps.sh packaging
if [ "${PACKAGE_CHECK_SKIP_BUILD:-}" != 1 ]; then
  section "building Linux packages"
  packaging/linux/build.sh
  section "building Windows programs and MSI"
  packaging/windows/build.sh
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

deb="$DIST/linux/triagedesk_${DEB_VERSION}_amd64.deb"
tarball="$DIST/linux/triagedesk-$DEB_VERSION-linux-amd64.tar.xz"
msi="$DIST/windows/TriageDesk-$SEMVER-x64.msi"
for f in "$deb" "$tarball" "$DIST/windows/TriageDesk.exe" "$DIST/windows/triagectl.exe" "$msi"; do
  [ -f "$f" ] || { echo "package-check: $f is missing" >&2; exit 1; }
done

section "Debian package $deb"
dpkg-deb --info "$deb" | sed 's/^/    /'
dpkg-deb --contents "$deb" >"$tmp/deb.contents"
sed 's/^/    /' "$tmp/deb.contents" | grep -v '/icons/hicolor/[0-9]' || true
for p in ./opt/triagedesk/triagedesk ./opt/triagedesk/triagectl ./usr/share/applications/io.github.triagedesk.desktop \
  ./usr/share/icons/hicolor/48x48/apps/io.github.triagedesk.png ./usr/share/icons/hicolor/512x512/apps/io.github.triagedesk.png \
  ./usr/share/icons/hicolor/scalable/apps/io.github.triagedesk.svg ./usr/share/metainfo/io.github.triagedesk.metainfo.xml \
  ./usr/share/doc/triagedesk/copyright ./usr/share/doc/triagedesk/policy.example.json; do
  check "deb contains $p" grep -q " $p\$" "$tmp/deb.contents"
done
check "deb: /usr/bin/triagedesk links to /opt/triagedesk" grep -q ' ./usr/bin/triagedesk -> ../../opt/triagedesk/triagedesk$' "$tmp/deb.contents"
check "deb: /usr/bin/triagectl links to /opt/triagedesk" grep -q ' ./usr/bin/triagectl -> ../../opt/triagedesk/triagectl$' "$tmp/deb.contents"
check "deb: files owned by root" bash -c "! awk '{print \$2}' '$tmp/deb.contents' | grep -v '^root/root$'"
check "deb: version $DEB_VERSION" test "$(dpkg-deb -f "$deb" Version)" = "$DEB_VERSION"
depends=$(dpkg-deb -f "$deb" Depends)
mkdir -p "$tmp/deb"
dpkg-deb -x "$deb" "$tmp/deb"
# Every library the GUI links directly must come from a declared dependency.
for lib in $(readelf -d "$tmp/deb/opt/triagedesk/triagedesk" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  pkg=$(dpkg -S "*/$lib" 2>/dev/null | head -1 | cut -d: -f1)
  if [ -n "$pkg" ] && grep -Eq "(^|, )$pkg( |,|$)" <<<"$depends"; then pass "deb: $lib is provided by $pkg (declared)"
  else fail "deb: $lib (package ${pkg:-unknown}) is not in Depends: $depends"; fi
done
check "deb: triagectl runs and reports $VERSION" bash -c "'$tmp/deb/opt/triagedesk/triagectl' version | grep -qF 'Triage Desk $VERSION'"
check "deb: the example policy is valid" "$tmp/deb/opt/triagedesk/triagectl" policy validate "$tmp/deb/usr/share/doc/triagedesk/policy.example.json"
check "deb: GUI is an x86-64 ELF program" bash -c "file '$tmp/deb/opt/triagedesk/triagedesk' | grep -q 'ELF 64-bit.*x86-64'"
if command -v desktop-file-validate >/dev/null; then
  check "desktop file valid" desktop-file-validate "$tmp/deb/usr/share/applications/io.github.triagedesk.desktop"
fi
if command -v appstreamcli >/dev/null; then
  check "AppStream metadata valid" appstreamcli validate --no-net --pedantic "$tmp/deb/usr/share/metainfo/io.github.triagedesk.metainfo.xml"
fi

section "archive $tarball"
tar -tJf "$tarball" >"$tmp/tar.contents"
top="triagedesk-$DEB_VERSION-linux-amd64"
for p in triagedesk triagectl share/applications/io.github.triagedesk.desktop share/icons/hicolor/256x256/apps/io.github.triagedesk.png \
  THIRD_PARTY_LICENSES.txt policy.example.json README.txt; do
  check "tar.xz contains $p" grep -qx "$top/$p" "$tmp/tar.contents"
done
mkdir -p "$tmp/tar" && tar -xJf "$tarball" -C "$tmp/tar"
check "tar.xz: triagectl runs" "$tmp/tar/$top/triagectl" version
check "tar.xz: licences include Fyne's" grep -q '^fyne.io/fyne/v2 ' "$tmp/tar/$top/THIRD_PARTY_LICENSES.txt"

section "Windows programs"
file "$DIST/windows/TriageDesk.exe" "$DIST/windows/triagectl.exe" | sed 's/^/    /'
check "TriageDesk.exe is a 64-bit GUI program (no console window)" bash -c "file '$DIST/windows/TriageDesk.exe' | grep -q 'PE32+ executable (GUI) x86-64'"
check "triagectl.exe is a 64-bit console program" bash -c "file '$DIST/windows/triagectl.exe' | grep -q 'PE32+ executable (console) x86-64'"
for exe in TriageDesk.exe triagectl.exe; do
  strings -el "$DIST/windows/$exe" >"$tmp/$exe.strings"
  check "$exe has version resources (ProductVersion $VERSION)" grep -qx "$VERSION" "$tmp/$exe.strings"
  check "$exe has version resources (FileVersion $WIN_VERSION)" grep -qx "$WIN_VERSION" "$tmp/$exe.strings"
done
# windres copies each image of the .ico into an RT_ICON resource verbatim.
check "TriageDesk.exe carries every image of assets/icon.ico" python3 - "$DIST/windows/TriageDesk.exe" assets/icon.ico <<'PY'
import struct, sys
exe, ico = (open(f, "rb").read() for f in sys.argv[1:3])
count = struct.unpack_from("<H", ico, 4)[0]
for i in range(count):
    size, offset = struct.unpack_from("<II", ico, 6 + 16 * i + 8)
    if ico[offset:offset + size] not in exe:
        sys.exit(1)
PY

section "MSI $msi"
msiinfo suminfo "$msi" | sed 's/^/    /'
msiinfo tables "$msi" >"$tmp/msi.tables"
tr '\n' ' ' <"$tmp/msi.tables" | sed 's/^/    tables: /'; echo
# msiinfo export writes IDT files, with CRLF line ends.
table() { msiinfo export "$msi" "$1" | tr -d '\r'; }
prop() { table Property | awk -F'\t' -v k="$1" '$1 == k { print $2 }'; }
check "MSI UpgradeCode is the fixed one" test "$(prop UpgradeCode)" = "{48A4488F-585B-434A-B742-21C1A54956B3}"
check "MSI ProductVersion $MSI_VERSION" test "$(prop ProductVersion)" = "$MSI_VERSION"
check "MSI is per-machine (ALLUSERS=1)" test "$(prop ALLUSERS)" = 1
check "MSI has an Add/Remove Programs icon and links" bash -c "test -n '$(prop ARPPRODUCTICON)' && test -n '$(prop ARPHELPLINK)'"
table Upgrade >"$tmp/upgrade"
check "MSI major upgrade removes earlier and equal versions" grep -qP '\t0\.0\.0\t[0-9.]+\t\t256\t\tWIX_UPGRADE_DETECTED' "$tmp/upgrade"
for t in LaunchCondition InstallExecuteSequence Directory Shortcut File Registry Component; do table "$t" >"$tmp/$t"; done
check "MSI refuses to downgrade" bash -c "grep -qP '\t258\t\tWIX_DOWNGRADE_DETECTED' '$tmp/upgrade' && grep -q '^NOT WIX_DOWNGRADE_DETECTED' '$tmp/LaunchCondition'"
check "MSI removes the old version (RemoveExistingProducts)" grep -q '^RemoveExistingProducts' "$tmp/InstallExecuteSequence"
check "MSI installs to Program Files\\Triage Desk" grep -qP '^INSTALLDIR\tProgramFiles64Folder\t.*Triage Desk' "$tmp/Directory"
check "MSI Start-menu shortcut to TriageDesk.exe" grep -qP '^StartMenu\tProgramMenuFolder\tTriage Desk\t.*\[#TriageDeskExe\]' "$tmp/Shortcut"
for f in TriageDesk.exe triagectl.exe THIRD_PARTY_LICENSES.txt policy.example.json; do
  check "MSI installs $f" grep -qP "\t$f\t" "$tmp/File"
done
secure=$(prop SecureCustomProperties)
nprops=0
for p in ENVIRONMENT CLIENT_ID REDIRECT_PORT ODS_ALLOWLIST BROKER_URL SECRET_SOURCE FHIR_BASE_URL AUTH_BASE_URL LOCK_TIMEOUT_MINUTES LOCKED_SETTINGS; do
  if grep -qP "\tSOFTWARE\\\\Policies\\\\TriageDesk\t[a-z_]+\t\[$p\]\tPolicy_$p\$" "$tmp/Registry" \
    && grep -qP "^Policy_$p\t.*\t$p OR REMOVE~=\"ALL\"\t" "$tmp/Component" && grep -q "\(^\|;\)$p\(;\|$\)" <<<"$secure"; then
    nprops=$((nprops + 1))
  else
    fail "MSI property $p: registry value, component condition and SecureCustomProperties"
  fi
done
[ "$nprops" = 10 ] && pass "MSI deployment properties (ENVIRONMENT, CLIENT_ID, REDIRECT_PORT, ODS_ALLOWLIST, BROKER_URL, …) each write HKLM\\SOFTWARE\\Policies\\TriageDesk only when given"
check "MSI keeps installed properties on upgrade (AppSearch + Keep_ actions)" grep -qP '^Keep_CLIENT_ID\tNOT CLIENT_ID AND SAVED_CLIENT_ID AND NOT RESET_POLICY\t' "$tmp/InstallExecuteSequence"
check "MSI sets every kept property before CostFinalize (Keep_ actions right after AppSearch)" awk -F'\t' '
  $1 == "AppSearch" { a = $3 } $1 == "CostFinalize" { c = $3 } $1 ~ /^Keep_/ { k[$1] = $3 }
  END { n = 0; for (x in k) { n++; if (k[x] <= a || k[x] >= c) exit 1 }; exit n == 0 }' "$tmp/InstallExecuteSequence"
mkdir -p "$tmp/msi" && (cd "$tmp/msi" && msiextract "$OLDPWD/$msi" >/dev/null)
check "MSI carries the built TriageDesk.exe" cmp -s "$DIST/windows/stage/TriageDesk.exe" "$(find "$tmp/msi" -name TriageDesk.exe | head -1)"

section "signing (throwaway test certificate)"
pki="$tmp/pki"
mkdir -p "$pki"
openssl req -x509 -newkey rsa:3072 -nodes -days 2 -subj "/CN=Triage Desk Test CA" \
  -keyout "$pki/ca.key" -out "$pki/ca.crt" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:3072 -nodes -subj "/CN=Triage Desk Test Code Signing/O=Triage Desk" -keyout "$pki/sign.key" -out "$pki/sign.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$pki/ext"
openssl x509 -req -in "$pki/sign.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 -extfile "$pki/ext" -out "$pki/sign.crt" 2>/dev/null
export SIGN_PASS="test-$RANDOM-$RANDOM"
openssl pkcs12 -export -inkey "$pki/sign.key" -in "$pki/sign.crt" -certfile "$pki/ca.crt" -passout env:SIGN_PASS -out "$pki/sign.pfx"
# Sign a copy: the throwaway certificate must never touch dist/.
mkdir -p "$tmp/signdist/windows/stage"
cp "$DIST/windows/stage/"* "$tmp/signdist/windows/stage/"
if DIST="$tmp/signdist" SIGN_PFX="$pki/sign.pfx" SIGN_CAFILE="$pki/ca.crt" packaging/sign.sh | sed 's/^/    /'; then
  pass "make sign signed and verified TriageDesk.exe, triagectl.exe and the MSI"
else
  fail "make sign"
fi
smsi="$tmp/signdist/windows/TriageDesk-$SEMVER-x64.msi"
for f in "$tmp/signdist/windows/TriageDesk.exe" "$tmp/signdist/windows/triagectl.exe" "$smsi"; do
  check "osslsigncode verify -CAfile: $(basename "$f")" osslsigncode verify -CAfile "$pki/ca.crt" -in "$f"
done
check "signature uses SHA-256" bash -c "osslsigncode verify -CAfile '$pki/ca.crt' -in '$tmp/signdist/windows/TriageDesk.exe' | grep -qi 'sha256'"
mkdir -p "$tmp/smsi" && (cd "$tmp/smsi" && msiextract "$smsi" >/dev/null)
check "the signed MSI installs signed programs" osslsigncode verify -CAfile "$pki/ca.crt" -in "$(find "$tmp/smsi" -name TriageDesk.exe | head -1)"
check "an unsigned .exe fails verification" bash -c "! osslsigncode verify -CAfile '$pki/ca.crt' -in '$DIST/windows/triagectl.exe'"
# Tamper: change one byte in the middle of the signed program's code.
cp "$tmp/signdist/windows/triagectl.exe" "$tmp/tampered.exe"
size=$(stat -c %s "$tmp/tampered.exe")
off=$((size / 2))
orig=$(od -An -tx1 -j "$off" -N1 "$tmp/tampered.exe" | tr -d ' ')
printf "\\x$(printf %02x $(( 0x$orig ^ 0xff )))" | dd of="$tmp/tampered.exe" bs=1 seek="$off" conv=notrunc status=none
check "the tampered copy differs from the signed one" bash -c "! cmp -s '$tmp/tampered.exe' '$tmp/signdist/windows/triagectl.exe'"
if osslsigncode verify -CAfile "$pki/ca.crt" -in "$tmp/tampered.exe" >"$tmp/tamper.out" 2>&1; then
  fail "a tampered .exe passed verification"
else
  pass "a tampered .exe FAILS verification ($(grep -m1 -iE 'mismatch|failed' "$tmp/tamper.out" | sed 's/^[[:space:]]*//'))"
fi
check "a signature by an untrusted CA fails verification" bash -c "! osslsigncode verify -CAfile /etc/ssl/certs/ca-certificates.crt -in '$tmp/signdist/windows/triagectl.exe'"

section "release workflow"
if (cd packaging/tools && go tool actionlint -version >/dev/null 2>&1); then
  check "actionlint .github/workflows/release.yml" bash -c "cd packaging/tools && go tool actionlint -shellcheck= -pyflakes= ../../.github/workflows/release.yml"
else
  check "release.yml parses as YAML with macOS, Windows and Linux jobs" python3 - <<'PY'
import sys, yaml
w = yaml.safe_load(open(".github/workflows/release.yml"))
runs = " ".join(str(j.get("runs-on")) for j in w["jobs"].values())
sys.exit(0 if all(o in runs for o in ("macos", "windows", "ubuntu")) else 1)
PY
fi

section "artefacts"
ls -l "$deb" "$tarball" "$DIST/windows/TriageDesk.exe" "$DIST/windows/triagectl.exe" "$msi" | awk '{ printf "    %10d  %s\n", $5, $9 }'
elapsed=$(( $(date +%s) - start ))
echo
if [ "$fails" -gt 0 ]; then
  echo "package-check: $fails check(s) FAILED in ${elapsed}s"
  exit 1
fi
echo "package-check: all checks passed in ${elapsed}s"
