#!/usr/bin/env bash
# Measures Triage Desk's start as a whole process under Xvfb: from exec to
# the first frame that shows worklist rows, RUNS times (default 5) each,
# and prints the medians with their targets:
#
#   demo:  `triagedesk --demo` on a fresh profile (the embedded e-RS
#          sandbox, sign-in and first sync);
#   cache: `triagedesk --demo` on a profile whose encrypted cache holds a
#          worklist of 5,000 referrals with their details and a saved
#          sign-in (made once by internal/app/apptest/cachedprofile).
#
#   scripts/start-check.sh        (make bench runs it when Xvfb is installed)
#
# The app says when it painted the first frame with rows
# (TRIAGEDESK_TRACE_START=1: "first-rows-frame MS", MS since the process
# started, from the kernel's record of its start); the script also times
# exec to that line from outside, and saves the screen just after it as
# $OUT/start-demo.png and $OUT/start-cache.png (default build/start-check)
# to show the rows. Each run has its own profile and Fyne settings, keys in
# a development key file (synthetic data only), no D-Bus session.
# PROFILE=DIR also writes a CPU profile and an execution trace of each
# start, up to the painted rows, as DIR/CASE-N.cpu and DIR/CASE-N.trace.
#
# Needs: Xvfb, xdotool, import (imagemagick). Uses the first free X display
# from :99 up and stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-build/start-check}
RUNS=${RUNS:-5}
. scripts/xvfb-lib.sh
xvfb_begin start-check
work=$xvfb_tmp

go run -tags migrated_fynedo ./internal/app/apptest/cachedprofile -profile "$work/cached" -n 5000 >/dev/null

# run CASE N starts the app once on a fresh copy of that case's profile,
# waits for its first frame with rows, and sets run_wall (ms from exec
# to the line, timed here) and run_app (ms the app counted).
run() {
  local name=$1 n=$2 dir="$work/$1-$2" line t0 t1
  mkdir -p "$dir/profile" "$dir/run" "$dir/config"
  [ "$name" = cache ] && cp -r "$work/cached/." "$dir/profile/"
  mkfifo "$dir/stdout"
  local prof=()
  [ -n "${PROFILE:-}" ] && mkdir -p "$PROFILE" && prof=(TRIAGEDESK_START_PROFILE="$PROFILE/$name-$n")
  t0=$EPOCHREALTIME
  env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$dir/run" XDG_CONFIG_HOME="$dir/config" LANG=en_GB.UTF-8 FYNE_THEME=light \
    TRIAGEDESK_TRACE_START=1 "${prof[@]}" \
    "$BIN" --demo --profile "$dir/profile" --dev-insecure-keyfile "$dir/profile/dev.key" >"$dir/stdout" 2>"$dir/stderr" &
  app_pid=$!
  exec 3<"$dir/stdout"
  line=""
  while read -r -t 60 -u 3 line; do [[ $line == first-rows-frame* ]] && break; done
  t1=$EPOCHREALTIME
  if [[ $line != first-rows-frame* ]]; then
    echo "start-check: $name run $n: no worklist rows within 60 s" >&2
    cat "$dir/stderr" >&2
    exit 1
  fi
  if [ "$n" = 1 ]; then sleep 0.5; import -window root "$OUT/start-$name.png"; fi
  kill "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  app_pid=""
  exec 3<&-
  run_wall=$(( (${t1/./} - ${t0/./}) / 1000 ))
  run_app=${line#first-rows-frame }
}

# median prints the median of its arguments.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR]=$1 } END { if (NR%2) print v[(NR+1)/2]; else print int((v[NR/2]+v[NR/2+1])/2) }'; }

for name in demo cache; do
  walls=(); apps=()
  for n in $(seq "$RUNS"); do
    run "$name" "$n"
    walls+=("$run_wall"); apps+=("$run_app")
  done
  echo "start-check: $name: exec to first frame with rows, ms: ${walls[*]} (the app's own count from process start: ${apps[*]})" >&2
  eval "${name}_wall=$(median "${walls[@]}") ${name}_app=$(median "${apps[@]}")"
done
echo "start-check: screens in $OUT/start-demo.png and $OUT/start-cache.png; machine load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# shellcheck disable=SC2154 # set by the eval above
{
  printf 'Demo start to painted worklist: %.2f s (target ≤ 1.0 s; median of %d, app count %d ms)\n' "$(awk "BEGIN { print $demo_wall/1000 }")" "$RUNS" "$demo_app"
  printf 'Start from a 5,000-referral cache: %d ms (target ≤ 150 ms; median of %d, app count %d ms)\n' "$cache_wall" "$RUNS" "$cache_app"
}
