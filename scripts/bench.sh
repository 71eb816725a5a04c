#!/usr/bin/env bash
# Runs Triage Desk's Go benchmarks and prints them as a table. Pass a package
# pattern to narrow it (default ./...); BENCH=regexp selects benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=${1:-./...}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -tags "$(cat scripts/build-tags)" -run '^$' -bench "${BENCH:-.}" -benchmem -count "${COUNT:-1}" "$pkgs" | tee "$out" >&2
echo
echo "| benchmark | time/op | B/op | allocs/op | other |"
echo "|---|---|---|---|---|"
awk '
/^pkg: / { pkg=$2; sub(/.*\/triagedesk\//, "", pkg) }
/^Benchmark/ {
  name=$1; sub(/-[0-9]+$/, "", name)
  t=""; b=""; a=""; other=""
  for (i=3; i<NF; i+=2) {
    v=$i; u=$(i+1)
    if (u=="ns/op") { if (v>=1e6) t=sprintf("%.2f ms", v/1e6); else if (v>=1e3) t=sprintf("%.1f µs", v/1e3); else t=v " ns" }
    else if (u=="B/op") b=v
    else if (u=="allocs/op") a=v
    else other=other v " " u "; "
  }
  printf "| %s %s | %s | %s | %s | %s |\n", pkg, name, t, b, a, other
}' "$out"

# metric_median BENCH UNIT prints the median (over -count runs) of the
# figure reported in UNIT by the benchmark named BENCH, or nothing.
metric_median() {
  awk -v name="$1" -v unit="$2" '
  $1 ~ "^" name "(-[0-9]+)?$" { for (i=3; i<NF; i++) if ($(i+1)==unit) print $i }' "$out" |
    sort -g | awk '{ v[NR]=$1 } END { if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2) }'
}
rss=$(metric_median BenchmarkRSSWith10kReferralsAnd50PageCRI MB-rss)
if [ -n "$rss" ]; then echo; echo "RSS with 10,000 referrals and a 50-page CRI: $rss MB (target ≤ 150 MB)"; fi
jump=$(metric_median BenchmarkSelectionToCRIPage1/jump ms-median)
if [ -n "$jump" ]; then echo; echo "Jump five rows to CRI page 1: $jump ms median (target ≤ 20 ms)"; fi

# Document figures (render vs pdftoppm, PDF engine start-up and peak memory)
# when the document benchmarks were part of this run.
if grep -q '^BenchmarkRenderPage150DPI' "$out"; then
  scripts/bench-documents.sh "$out"
fi
if grep -q "^BenchmarkCommentKeystrokeAt2000Chars" "$out"; then echo; echo "Comment keystroke at 2,000 characters: $(awk '/^BenchmarkCommentKeystrokeAt2000Chars/ { for (i=3; i<NF; i++) if ($(i+1)=="ms-cpu/keystroke") print $i " ms of CPU" }' "$out") (target: under 1 ms)"; fi
# Start-up as whole processes under Xvfb (scripts/start-check.sh), when the
# whole suite ran and Xvfb is installed.
if [ "$pkgs" = ./... ] && command -v Xvfb >/dev/null && command -v xdotool >/dev/null && command -v import >/dev/null; then
  echo; scripts/start-check.sh 2>&1 | grep -E '^(Demo start|Start from|start-check: screens)'
fi
