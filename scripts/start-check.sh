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
# (TRIAGEDESK_TRACE_START=1: "first-rows-frame MS cpu CPU", MS since the
# process started, from the kernel's record of its start, and the CPU it
# had used, which another load on the machine changes less); the script also times
# exec to that line from outside, and saves the screen just after it as
# $OUT/start-demo.png and $OUT/start-cache.png (default build/start-check)
# to show the rows. Each run has its own profile and Fyne settings, keys in
# a development key file (synthetic data only), no D-Bus session.
# BASE=BINARY also times another build (e.g. the previous commit's) in
# the same runs, alternating with this one, and prints its figures first
# as "before": side by side, a shared machine's load weighs on both alike.
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

go run -tags "$(cat scripts/build-tags)" ./internal/app/apptest/cachedprofile -n 5000 "$work/cached" >/dev/null

# run CASE N BINARY starts the app once on a fresh copy of that case's profile,
# waits for its first frame with rows, and sets run_wall (ms from exec
# to the line, timed here), run_app (ms the app counted) and run_cpu (ms
# of CPU the app had used).
run() {
  runs=$((runs + 1))
  local name=$1 n=$2 bin=$3 dir="$work/run-$runs" line t0 t1
  mkdir -p "$dir/profile" "$dir/run" "$dir/config"
  [ "$name" = cache ] && cp -r "$work/cached/." "$dir/profile/"
  mkfifo "$dir/stdout"
  local prof=()
  [ -n "${PROFILE:-}" ] && mkdir -p "$PROFILE" && prof=(TRIAGEDESK_START_PROFILE="$PROFILE/$name-$n")
  t0=$EPOCHREALTIME
  env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$dir/run" XDG_CONFIG_HOME="$dir/config" LANG=en_GB.UTF-8 FYNE_THEME=light \
    TRIAGEDESK_TRACE_START=1 "${prof[@]}" \
    "$bin" --demo --profile "$dir/profile" --dev-insecure-keyfile "$dir/profile/dev.key" >"$dir/stdout" 2>"$dir/stderr" &
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
  if [ "$n" = 1 ] && [ "$bin" = "$BIN" ]; then sleep 0.5; import -window root "$OUT/start-$name.png"; fi
  kill "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  app_pid=""
  exec 3<&-
  run_wall=$(( (${t1/./} - ${t0/./}) / 1000 ))
  read -r _ run_app _ run_cpu <<<"$line"
}

# median prints the median of its arguments.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR]=$1 } END { if (NR%2) print v[(NR+1)/2]; else print int((v[NR/2]+v[NR/2+1])/2) }'; }

runs=0
bins=("$BIN"); labels=(after)
[ -n "${BASE:-}" ] && bins=("$BASE" "$BIN") && labels=(before after)
for name in demo cache; do
  for i in "${!bins[@]}"; do eval "walls_$i=() apps_$i=() cpus_$i=()"; done
  for n in $(seq "$RUNS"); do
    for i in "${!bins[@]}"; do
      run "$name" "$n" "${bins[$i]}"
      eval "walls_$i+=($run_wall) apps_$i+=($run_app) cpus_$i+=($run_cpu)"
    done
  done
  for i in "${!bins[@]}"; do
    eval 'walls=("${walls_'$i'[@]}") apps=("${apps_'$i'[@]}") cpus=("${cpus_'$i'[@]}")'
    echo "start-check: $name${BASE:+ (${labels[$i]})}: exec to first frame with rows, ms: ${walls[*]} (the app's own count from process start: ${apps[*]}; CPU used: ${cpus[*]})" >&2
    eval "${name}_wall_$i=$(median "${walls[@]}") ${name}_app_$i=$(median "${apps[@]}") ${name}_cpu_$i=$(median "${cpus[@]}")"
  done
done
echo "start-check: screens in $OUT/start-demo.png and $OUT/start-cache.png; machine load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# shellcheck disable=SC2154 # set by the evals above
for i in "${!bins[@]}"; do
  pre=""; [ -n "${BASE:-}" ] && pre="${labels[$i]}: "
  eval "dw=\$demo_wall_$i da=\$demo_app_$i dc=\$demo_cpu_$i cw=\$cache_wall_$i ca=\$cache_app_$i cc=\$cache_cpu_$i"
  printf '%sDemo start to painted worklist: %.2f s (target ≤ 1.0 s; median of %d, app count %d ms, CPU %d ms)\n' "$pre" "$(awk "BEGIN { print $dw/1000 }")" "$RUNS" "$da" "$dc"
  printf '%sStart from a 5,000-referral cache: %d ms (target ≤ 150 ms; median of %d, app count %d ms, CPU %d ms)\n' "$pre" "$cw" "$RUNS" "$ca" "$cc"
done
