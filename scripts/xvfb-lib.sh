# Shared by the scripts that drive the real window under Xvfb
# (screenshots.sh, quit-check.sh); source it, do not run it.
#
# xvfb_prepare NAME checks for the tools (NAME starts the message when one
# is missing), sets SCREEN, OUT and BIN unless the caller set them, makes
# OUT and builds the app into BIN.
xvfb_prepare() {
  local tool
  for tool in Xvfb xdotool import; do
    command -v "$tool" >/dev/null || { echo "$1: $tool is not installed (scripts/deps.sh test installs it)" >&2; exit 1; }
  done
  SCREEN=${SCREEN:-1280x800}
  OUT=${OUT:-docs/screenshots}
  BIN=${BIN:-bin/triagedesk}
  mkdir -p "$OUT"
  go build -tags migrated_fynedo -o "$BIN" ./cmd/triagedesk
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

# key KEY... presses keys in the window $win, then lets it redraw.
key() { xdotool key --window "$win" --delay 120 "$@"; sleep "${PAUSE:-0.8}"; }
# typetext TEXT types into the focused field.
typetext() { xdotool type --window "$win" --delay 20 "$1"; sleep 0.5; }
#
# start_xvfb starts Xvfb at $SCREEN (e.g. 1280x800) on the first free X
# display from ${DISPLAY_FROM:-99} up, exports DISPLAY, sets xvfb_pid (the
# caller stops it) and waits until the display answers.
start_xvfb() {
  local display=${DISPLAY_FROM:-99}
  while [ -e "/tmp/.X${display}-lock" ] || [ -e "/tmp/.X11-unix/X${display}" ]; do display=$((display + 1)); done
  export DISPLAY=":${display}"
  Xvfb "$DISPLAY" -screen 0 "${SCREEN}x24" -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 50); do xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
}
