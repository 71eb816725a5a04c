#!/usr/bin/env bash
# A scripted clinician session in the real Triage Desk window under Xvfb,
# driven by the keyboard (and the demo menu) with xdotool, at 1280×800 and
# 1920×1080: open a referral → Page Down → find (/) → reject (R) → confirm
# → next → outage → conflict → outbox → settings (larger text, dark, light)
# → lock (Ctrl+L).
#
# It fails when, after any step,
#   - the window is larger than the screen (xdotool's window geometry),
#   - the step changed nothing on screen (a shortcut that does nothing:
#     fewer than MIN_CHANGE pixels differ from the screen before it),
#   - the app has exited, or its standard error says "panic".
# Every step's screen is kept for a person to look at, as
# build/ui-check/WxH/NN-step.png.
#
#   make ui-check
#   SCREENS=1280x800 scripts/ui-check.sh     # one size only
#
# Needs: Xvfb, xdotool, import and compare (imagemagick). Uses the first
# free X display from :99 up, and stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/xvfb-lib.sh
SCREENS=${SCREENS:-1280x800 1920x1080}
ROOT=${ROOT:-build/ui-check}
MIN_CHANGE=${MIN_CHANGE:-400}   # pixels; a blinking text cursor is about 40
STILL=${STILL:-100}             # fewer pixels than this changing: the screen has settled
OUT=$ROOT xvfb_prepare ui-check
command -v compare >/dev/null || { echo "ui-check: compare (imagemagick) is not installed" >&2; exit 1; }
work=$(mktemp -d)
xvfb_cleanup_on_exit "$work"
fail=0

# problem TEXT records a failure of the current size's session.
problem() { echo "ui-check: $SCREEN: FAIL: $*" >&2; fail=1; }

# pixels A B counts the pixels that differ between two screenshots.
pixels() {
  local d
  # compare prints the count on stderr; exit 1 only means "they differ".
  d=$(compare -metric AE -fuzz 2% "$1" "$2" null: 2>&1 || true)
  awk '{ printf "%d", $1 }' <<<"$d"   # large counts come as 1.2e+06
}

# conflict_badge SHOT succeeds when the status bar (the bottom 48 rows)
# shows the red "N conflict" badge (#F44336).
conflict_badge() {
  local red
  red=$(convert "$1" -gravity south -crop "x48+0+0" +repage -fuzz 6% -fill white -opaque "srgb(244,67,54)" \
    -fill black +opaque white -format "%[fx:mean*w*h]" info: 2>/dev/null || echo 0)
  [ "${red%.*}" -ge 300 ]
}

# check NAME waits for the screen to settle, saves it as the next numbered
# shot and checks the window's size, that the screen changed since the last
# shot (unless NAME ends in "=", a step allowed to change nothing), and the
# app. The wait is on the screen, not a fixed time: shots are taken until
# two in a row are the same and the screen differs from the last step's
# (or, with UNTIL=FUNCTION, FUNCTION SHOT holds), for at most WAIT seconds.
check() {
  local name=${1%=} same_ok="" geo ww wh diff="" shot prev=$work/prev.png deadline settled
  [ "$name" != "$1" ] && same_ok=1
  n=$((n + 1))
  shot=$(printf '%s/%02d-%s.png' "$dir" "$n" "$name")
  deadline=$((SECONDS + ${WAIT:-40}))
  rm -f "$prev"
  while :; do
    import -window root "$shot"
    settled=""
    if [ -e "$prev" ] && [ "$(pixels "$prev" "$shot")" -lt "$STILL" ]; then
      settled=1
      if [ -n "${UNTIL:-}" ]; then "$UNTIL" "$shot" || settled=""
      elif [ -n "$last" ] && [ -z "$same_ok" ] && [ "$(pixels "$last" "$shot")" -lt "$MIN_CHANGE" ]; then settled=""
      fi
    fi
    [ -n "$settled" ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      [ -n "${UNTIL:-}" ] && problem "$name: $UNTIL did not hold within ${WAIT:-40}s"
      break
    fi
    cp "$shot" "$prev"
    sleep 0.3
  done
  if ! kill -0 "$app_pid" 2>/dev/null; then
    problem "$name: the app has exited"; return
  fi
  geo=$(xdotool getwindowgeometry --shell "$win" 2>/dev/null || true)
  ww=$(sed -n 's/^WIDTH=//p' <<<"$geo"); wh=$(sed -n 's/^HEIGHT=//p' <<<"$geo")
  if [ -z "$ww" ] || [ -z "$wh" ]; then
    problem "$name: cannot read the window's geometry"
  elif [ "$ww" -gt "$w" ] || [ "$wh" -gt "$h" ]; then
    problem "$name: the window is ${ww}x${wh}, larger than the screen"
  fi
  if [ -n "$last" ] && [ -z "$same_ok" ]; then
    diff=$(pixels "$last" "$shot")
    if [ "${diff:-0}" -lt "$MIN_CHANGE" ]; then
      problem "$name: nothing changed on screen (${diff:-0} pixels): the key did nothing"
    fi
  fi
  if grep -qi panic "$stderr"; then
    problem "$name: standard error says panic"; sed 's/^/  /' "$stderr" >&2
  fi
  echo "ui-check: $SCREEN: $(basename "$shot") ${ww:-?}x${wh:-?}${diff:+, $diff pixels changed}"
  last=$shot
}

# selected_radio SHOT prints the centre of the selected radio button in the
# screenshot SHOT, as "X Y": the topmost blob of the theme's blue the size
# of a radio button (a ticked check box lower down is the same blue).
selected_radio() {
  convert "$1" -fuzz 12% -fill black +opaque "srgb(41,111,246)" -fill white -opaque "srgb(41,111,246)" \
    -define connected-components:verbose=true -connected-components 8 null: |
    awk '$NF ~ /255,255,255|gray\(255\)/ { split($2, g, /[x+]/)
      if (g[1] >= 8 && g[1] <= 24 && g[2] >= 8 && g[2] <= 24 && (best == "" || g[4] < by)) { by = g[4]; best = int(g[3] + g[1] / 2) " " int(g[4] + g[2] / 2) } }
      END { print best }'
}
# session SCREEN runs the whole session at one screen size.
session() {
  SCREEN=$1
  w=${SCREEN%x*}; h=${SCREEN#*x}
  cx=$((w / 2)); cy=$((h / 2))
  dir=$ROOT/$SCREEN; n=0; last=""
  rm -rf "$dir"; mkdir -p "$dir"
  local p=$work/$SCREEN
  mkdir -p "$p/run"
  stderr=$p/stderr
  start_xvfb
  # Its own Fyne settings too: a layout someone chose on this machine
  # (the worklist hidden, a split moved) must not change the session.
  XDG_RUNTIME_DIR="$p/run" XDG_CONFIG_HOME="$p/config" FYNE_THEME=light LANG=en_GB.UTF-8 "$BIN" --demo --profile "$p/profile" \
    --dev-insecure-keyfile "$p/dev.key" >"$p/stdout" 2>"$stderr" &
  app_pid=$!
  win=$(xdotool search --sync --pid "$app_pid" --name "Triage Desk" | head -1)
  sleep "${START_WAIT:-12}"
  # The window found first can be one the toolkit replaced while starting.
  win=$(xdotool search --pid "$app_pid" --onlyvisible --name "Triage Desk" 2>/dev/null | head -1 || true)
  [ -n "$win" ] || win=$(xdotool search --sync --pid "$app_pid" --name "Triage Desk" | head -1)
  xdotool windowmove "$win" 0 0 windowsize "$win" "$w" "$h"
  sleep 2
  check worklist

  # Open the referral under the keyboard cursor, then read on.
  key Down; key Return; check open
  key Next; check page-down
  # Find another referral by UBRN (an indirectly bookable one), open it.
  key slash; typetext 100100000358; check find
  PAUSE=2 key Return; key Escape; check found
  # Reject it: a reason from the list, a comment, the PAS question.
  key r; check reject
  key space; key Down Return; key Tab
  typetext "Please refer to the community musculoskeletal service first."
  key Tab space; check reject-filled
  key ctrl+Return; check confirm
  key ctrl+Return; check sent
  key j; key Return; check next

  # The demo's simulated outage, an accept queued, then "another user"
  # rejects it and the outage ends: the decision comes back as a conflict.
  # (the outage shows only when something is sent: the next step)
  demo_outage; check outage=
  key a; key ctrl+Return; PAUSE=2 key ctrl+Return; check queued
  demo_conflict; check conflict-made
  click "$cx" $((cy + 47))
  demo_outage; UNTIL=conflict_badge check conflict
  key ctrl+o; check outbox

  # Settings: dark and larger text, the worklist; then light and normal
  # text again, the worklist. The chosen theme's radio button is found on
  # the screen (the only blue there; a banner above can move it) and
  # clicked, which focuses it; Tab then walks the other choices (Match the
  # computer, Light, Dark) and on to the text-size drop-down (Small,
  # Normal, Large, Larger, Largest), worked with the keyboard.
  key ctrl+comma; check settings
  click $(selected_radio "$last"); key Tab Tab space; check dark
  key Tab space; key Down Down Down Down Return; check larger-text
  key Escape; PAUSE=3 key Escape; check worklist-dark-larger
  key ctrl+comma; check settings-again
  click $(selected_radio "$last"); key shift+Tab space; check light
  key Tab Tab space; key Down Down Return; check normal-text
  key Escape; PAUSE=3 key Escape; check worklist-light-normal

  key ctrl+l; check lock

  kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; app_pid=""
  if grep -qi panic "$stderr"; then
    problem "standard error says panic"; sed 's/^/  /' "$stderr" >&2
  fi
  kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; xvfb_pid=""
}

for s in $SCREENS; do session "$s"; done
if [ "$fail" -ne 0 ]; then
  echo "ui-check: FAILED; the screens are in $ROOT" >&2
else
  echo "ui-check: passed at $SCREENS; the screens are in $ROOT"
fi
exit "$fail"
