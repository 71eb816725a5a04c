#!/usr/bin/env bash
# Writes the licence texts of everything linked into the given Go binaries
# (the Go runtime and every module listed by `go version -m`), then any
# notices in packaging/notices/*.txt, to OUT.
#   packaging/licenses.sh OUT BINARY...
set -euo pipefail
out=$1; shift
modcache=$(go env GOMODCACHE)
goroot=$(go env GOROOT)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for bin in "$@"; do
  go version -m "$bin" | awk '$1 == "dep" || $1 == "=>" { print $2, $3 }'
done | sort -u >"$tmp"

# Module paths are stored in the cache with upper case letters escaped as !x
# (written without GNU sed extensions, so it runs on macOS too).
escape() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      [A-Z]) out+="!$(tr '[:upper:]' '[:lower:]' <<<"$c")" ;;
      *) out+=$c ;;
    esac
  done
  printf '%s\n' "$out"
}

{
  echo "Triage Desk includes the following third-party software. Their licences follow."
  echo
  echo "================================================================"
  echo "The Go programming language runtime and standard library ($(go env GOVERSION))"
  echo "================================================================"
  cat "$goroot/LICENSE"
  while read -r mod ver; do
    dir="$modcache/$(escape "$mod")@$ver"
    lic=$(find "$dir" -maxdepth 1 -type f \( -iname 'LICENSE*' -o -iname 'LICENCE*' -o -iname 'COPYING*' -o -iname 'NOTICE*' \) 2>/dev/null | sort)
    echo
    echo "================================================================"
    echo "$mod $ver"
    echo "================================================================"
    if [ -z "$lic" ]; then
      # Some modules keep the licence at the repository root, one level up
      # from the module (e.g. github.com/go-gl/glfw/v3.3/glfw).
      parent="$dir"
      while [ -z "$lic" ] && [ "$parent" != "$modcache" ]; do
        parent=$(dirname "$parent")
        lic=$(find "$parent" -maxdepth 1 -type f \( -iname 'LICENSE*' -o -iname 'LICENCE*' \) 2>/dev/null | sort)
      done
    fi
    if [ -z "$lic" ]; then
      echo "(licence file not found in the module; see the module's repository)"
      continue
    fi
    for f in $lic; do cat "$f"; echo; done
  done <"$tmp"
  # Notices for code carried inside a module without its own licence file
  # (e.g. PDFium and its third-party parts in go-pdfium's WebAssembly).
  for f in packaging/notices/*.txt; do
    [ -f "$f" ] || continue
    echo
    echo "================================================================"
    echo "$(basename "$f" .txt)"
    echo "================================================================"
    cat "$f"
  done
} >"$out"
echo "licenses.sh: $(wc -l <"$tmp") modules written to $out" >&2
