#!/usr/bin/env bash
# Document figures for `make bench`: the in-process PDFium render against
# poppler's pdftoppm on the same page (goal: ratio <= 0.5), and the PDF
# engine's start-up time and peak memory with and without its compilation
# cache (measured on `triagectl render`, a fresh process each time).
#
# Usage: scripts/bench-documents.sh [go-bench-output]
# Given the output of a `go test -bench` run that included the document
# benchmarks, it reuses those figures; otherwise it runs them (COUNT=3).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
in=${1:-}
if [ -z "$in" ] || ! grep -q '^BenchmarkRenderPage150DPI' "$in"; then
  in=$tmp/bench.txt
  go test -tags "$(cat scripts/build-tags)" -run '^$' -bench 'RenderPage150DPI|Pdftoppm150DPI|EngineStart' \
    -count "${COUNT:-3}" ./internal/document/ >"$in"
fi

# ns/op of a benchmark, median over its runs.
ns() {
  awk -v name="$1" '
    $1 ~ "^" name "(-[0-9]+)?$" { for (i = 3; i < NF; i++) if ($(i+1) == "ns/op") print $i }' "$in" |
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2) }'
}
ms() { awk -v v="$1" 'BEGIN { if (v == "") print "n/a"; else printf "%.1f ms", v / 1e6 }'; }

render=$(ns BenchmarkRenderPage150DPI)
tool=$(ns BenchmarkPdftoppm150DPI)
warm=$(ns BenchmarkEngineStart/compile-cache)
cold=$(ns BenchmarkEngineStart/no-cache)

echo
echo "### Documents: page 1 of internal/document/testdata/cri.pdf at 150 DPI (median of runs)"
echo
echo "| measure | value |"
echo "|---|---|"
echo "| in-process render (warm engine) | $(ms "$render") |"
if [ -n "$tool" ]; then
  echo "| pdftoppm -r 150 -f 1 -l 1 (new process) | $(ms "$tool") |"
  awk -v a="$render" -v b="$tool" 'BEGIN { r = a / b; printf "| ratio in-process / pdftoppm (goal <= 0.5) | %.2f %s |\n", r, (r <= 0.5 ? "(met)" : "(NOT met)") }'
else
  echo "| pdftoppm | not installed (apt-get install poppler-utils) |"
fi
[ -n "$warm" ] && echo "| engine start, compile cache warm | $(ms "$warm") |"
[ -n "$cold" ] && echo "| engine start, no compile cache | $(ms "$cold") |"

# Peak resident memory of a whole process that starts the engine and renders
# the page, as `triagectl render` reports it.
CGO_ENABLED=0 go build -tags "$(cat scripts/build-tags)" -o "$tmp/triagectl" ./cmd/triagectl
pdf=internal/document/testdata/cri.pdf
peak() { "$tmp/triagectl" render "$pdf" --page 1 --dpi 150 --profile "$tmp/profile" "$@" 2>/dev/null |
  awk '/^engine:/ { s = $4 " " $5 } /^memory:/ { m = $3 " " $4 } END { print s " start, " m " peak RSS" }'; }
echo "| triagectl render, no compile cache | $(peak --no-compile-cache) |"
peak >/dev/null # fills the compile cache
echo "| triagectl render, compile cache warm | $(peak) |"
