# Shared by the scripts that drive the real window under Xvfb
# (screenshots.sh, screenshots-advice.sh, quit-check.sh); source it, do not
# run it.
#
# xvfb_begin NAME is how such a script starts: xvfb_prepare NAME, a
# throwaway directory ($xvfb_tmp, removed on exit with whatever was
# started: xvfb_cleanup_on_exit) and Xvfb (start_xvfb).
xvfb_begin() {
  local dir
  xvfb_prepare "$1"
  dir=$(mktemp -d)
  xvfb_cleanup_on_exit "$dir"
  start_xvfb
}

#
# xvfb_prepare NAME checks for the tools (NAME starts the message when one
# is missing), sets SCREEN, OUT and BIN unless the caller set them, makes
# OUT and builds the app into BIN (unless NOBUILD is set: BIN as it is).
xvfb_prepare() {
  local tool
  for tool in Xvfb xdotool import; do
    command -v "$tool" >/dev/null || { echo "$1: $tool is not installed (scripts/deps.sh test installs it)" >&2; exit 1; }
  done
  SCREEN=${SCREEN:-1280x800}
  OUT=${OUT:-docs/screenshots}
  BIN=${BIN:-bin/triagedesk}
  mkdir -p "$OUT"
  [ -n "${NOBUILD:-}" ] || go build -tags "$(cat scripts/build-tags)" -o "$BIN" ./cmd/triagedesk
}

# xvfb_cleanup_on_exit DIR makes the script, when it exits, stop the app
# ($app_pid) and Xvfb ($xvfb_pid) if they were started, and remove DIR.
xvfb_cleanup_on_exit() {
  xvfb_tmp=$1
  xvfb_pid=""
  app_pid=""
  trap xvfb_cleanup EXIT
}
xvfb_cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null || true
  rm -rf "$xvfb_tmp"
}

# Where the Demo menu is on the menu bar (File, Worklist, Referral,
# Document, View, Demo, Help) and its two items, at the demo's window size.
DEMO_X=362 OUTAGE_X=420 OUTAGE_Y=45 CONFLICT_X=450 CONFLICT_Y=84

# click X Y moves the pointer first (a menu opens only on a pointer it has
# seen), clicks and waits ${PAUSE:-1} seconds.
click() { xdotool mousemove "$1" "$2"; sleep 0.3; xdotool click 1; sleep "${PAUSE:-1}"; }
# menu X ITEMX ITEMY opens the menu at X on the menu bar and clicks an item,
# giving a loaded machine time to draw the menu first.
menu() { PAUSE=2 click "$1" 14; xdotool mousemove "$2" $(($3 + 4)); sleep 0.5; click "$2" "$3"; }
# demo_outage starts or ends the demo's simulated outage; demo_conflict
# has "another user" act on the oldest queued referral.
demo_outage() { menu $DEMO_X $OUTAGE_X $OUTAGE_Y; }
demo_conflict() { menu $DEMO_X $CONFLICT_X $CONFLICT_Y; }

# key KEY... presses keys in the window $win, then lets it redraw.
key() { xdotool key --window "$win" --delay 120 "$@"; sleep "${PAUSE:-0.8}"; }
# typetext TEXT types into the focused field.
typetext() { xdotool type --window "$win" --delay 20 "$1"; sleep 0.5; }
#
# start_xvfb starts Xvfb at $SCREEN (e.g. 1280x800) on the first free X
# display from ${DISPLAY_FROM:-99} up, exports DISPLAY, sets xvfb_pid (the
# caller stops it), w and h (the screen's width and height) and waits
# until the display answers.
start_xvfb() {
  local display=${DISPLAY_FROM:-99}
  w=${SCREEN%x*}; h=${SCREEN#*x}
  while [ -e "/tmp/.X${display}-lock" ] || [ -e "/tmp/.X11-unix/X${display}" ]; do display=$((display + 1)); done
  export DISPLAY=":${display}"
  Xvfb "$DISPLAY" -screen 0 "${SCREEN}x24" -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 50); do xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
}

# start_demo_window WAIT starts the demo (embedded e-RS sandbox, synthetic
# patients) in the light theme and British English, with a fresh profile
# and Fyne settings in $xvfb_tmp (no layout chosen on this machine) and
# keys in a file there (there is no keychain under Xvfb);
# sets app_pid and win; gives it WAIT seconds to sign in, sync and draw the
# worklist, then makes the window fill the screen.
start_demo_window() {
  XDG_CONFIG_HOME="$xvfb_tmp/config" FYNE_THEME=light LANG=en_GB.UTF-8 "$BIN" --demo --profile "$xvfb_tmp" \
    --dev-insecure-keyfile "$xvfb_tmp/dev.key" >"$xvfb_tmp/app.log" 2>&1 &
  app_pid=$!
  win=$(xdotool search --sync --name "Triage Desk" | head -1)
  sleep "$1"
  xdotool windowmove "$win" 0 0 windowsize "$win" "$w" "$h"
  sleep 2
}

# shoot NAME saves the screen as $OUT/NAME.png.
shoot() { import -window root "$OUT/$1.png"; echo "screenshots: $OUT/$1.png"; }
