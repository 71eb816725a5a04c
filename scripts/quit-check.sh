#!/usr/bin/env bash
# Checks that the real Triage Desk window quits cleanly under Xvfb (a
# desktop with no system tray): File → Quit and SIGTERM must exit 0 with
# nothing on standard error that says "panic", with and without a D-Bus
# session. Then, with a decision queued during a simulated e-RS outage,
# File → Quit must warn before quitting; the warning is saved as
# docs/screenshots/quit-warning.png, and a related referral's letter with
# its label as docs/screenshots/related.png.
#
#   make quit-check
#
# Needs: Xvfb, xdotool, import (imagemagick); dbus-run-session for the
# D-Bus case (skipped with a message when missing). Uses the first free X
# display from :99 up and stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/xvfb-lib.sh
xvfb_begin quit-check
work=$xvfb_tmp

fail=0
# want NAME is true when CASES (space-separated names, default all) has it.
want() { [ -z "${CASES:-}" ] || [[ " $CASES " == *" $1 "* ]]; }
# start NAME [WRAPPER...] starts the demo in a fresh profile, with no D-Bus
# session unless WRAPPER provides one, and waits for its worklist.
start() {
  local name=$1; shift
  mkdir -p "$work/$name/run"
  env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$work/$name/run" XDG_CONFIG_HOME="$work/$name/config" LANG=en_GB.UTF-8 FYNE_THEME=light \
    "$@" "$BIN" --demo --profile "$work/$name/profile" --dev-insecure-keyfile "$work/$name/dev.key" \
    >"$work/$name/stdout" 2>"$work/$name/stderr" &
  app_pid=$!
  # Triage Desk's own process (a child when run under dbus-run-session),
  # and its window (not one a previous run is still closing).
  local pid=""
  for _ in $(seq 100); do
    pid=$(pgrep -P "$app_pid" -x triagedesk || true)
    [ -z "$pid" ] && [ "$(ps -o comm= -p "$app_pid" 2>/dev/null)" = triagedesk ] && pid=$app_pid
    [ -n "$pid" ] && break
    sleep 0.1
  done
  # A search can meet a window that is going away (a previous run's, or
  # one the toolkit replaces): BadWindow. Search again until one answers.
  win=""
  for _ in $(seq 30); do
    win=$(xdotool search --pid "$pid" --name "Triage Desk" 2>/dev/null | head -1 || true)
    [ -n "$win" ] && break
    sleep 1
  done
  sleep "${START_WAIT:-20}"
  # Look again: the window found first can be one the toolkit replaced
  # while starting (seen under load as BadWindow on the first key).
  win=$(xdotool search --pid "$pid" --onlyvisible --name "Triage Desk" 2>/dev/null | head -1 || true)
  [ -n "$win" ] || { echo "quit-check: $name: FAIL, no window" >&2; fail=1; }
  xdotool windowmove "$win" 0 0 windowsize "$win" "$w" "$h" 2>/dev/null || true
  sleep 1
}
# fileQuit opens the File menu and chooses its last item, Quit.
# Return quits at once, so the window can be gone before the key is
# released (BadWindow): that is not a failure; finish checks the exit.
fileQuit() { click 27 14; key Up; xdotool key --window "$win" Return 2>/dev/null || true; sleep 1; }
# finish NAME waits for the app to exit and checks its exit status and
# standard error.
finish() {
  local name=$1 rc=0
  for _ in $(seq 200); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$app_pid" 2>/dev/null; then
    echo "quit-check: $name: FAIL, still running 40 s later" >&2; fail=1
    if [ -n "${LOGS:-}" ]; then
      # What was on screen, and where every goroutine was (SIGQUIT).
      mkdir -p "$LOGS"; import -window root "$LOGS/$name.png"
      pid=$(pgrep -P "$app_pid" -x triagedesk || echo "$app_pid")
      kill -QUIT "$pid" 2>/dev/null || true; sleep 2
      cp "$work/$name/stderr" "$LOGS/$name.stderr"
    fi
    kill "$app_pid" 2>/dev/null || true; wait "$app_pid" || true; app_pid=""; return
  fi
  wait "$app_pid" || rc=$?
  app_pid=""
  [ -n "${LOGS:-}" ] && mkdir -p "$LOGS" && cp "$work/$name/stderr" "$LOGS/$name.stderr"
  if [ "$rc" -ne 0 ] || grep -qi panic "$work/$name/stderr"; then
    echo "quit-check: $name: FAIL, exit $rc" >&2; sed 's/^/  /' "$work/$name/stderr" >&2; fail=1
  else
    echo "quit-check: $name: exit 0, no panic"
  fi
}

if want file-quit-no-dbus; then
  start file-quit-no-dbus
  fileQuit
  finish file-quit-no-dbus
fi
if want sigterm-no-dbus; then
  start sigterm-no-dbus
  kill -TERM "$app_pid"
  finish sigterm-no-dbus
fi

if command -v dbus-run-session >/dev/null; then
  if want file-quit-dbus-no-tray; then
    start file-quit-dbus-no-tray dbus-run-session --
    fileQuit
    finish file-quit-dbus-no-tray
  fi
  if want sigterm-dbus-no-tray; then
    start sigterm-dbus-no-tray dbus-run-session --
    # The signal goes to Triage Desk itself, not to dbus-run-session.
    kill -TERM "$(pgrep -P "$app_pid" -x triagedesk)"
    finish sigterm-dbus-no-tray
  fi
else
  echo "quit-check: dbus-run-session is not installed: the D-Bus-without-a-tray case is not checked" >&2
fi

want unsent || exit "$fail"

# A related referral's letter, labelled with its own UBRN: open the RAS
# referral 1001 0000 0033 (search, Enter), scroll its side column to its
# related referrals and open 1001 0000 0098's clinical information.
start unsent
key slash
typetext 100100000033
PAUSE=3 key Return
key Escape
sleep "${PDF_WAIT:-8}"                  # the PDF engine's first start in a fresh profile
xdotool mousemove $((w - 180)) $((h - 200)) click --repeat 15 --delay 60 5
PAUSE=8 click $((w - 180)) $((h - 72))
import -window root "$OUT/related.png"; echo "quit-check: $OUT/related.png"

# An unsent decision: the demo's simulated outage, then an accept queued;
# File → Quit must warn. The warning is saved, then Quit is chosen.
click 312 14; click 370 45             # Demo → Simulate an e-RS outage
key slash; typetext 100100000124; PAUSE=3 key Return; key Escape
key a; key ctrl+Return; key ctrl+Return
sleep 3
fileQuit
sleep 1
import -window root "$OUT/quit-warning.png"; echo "quit-check: $OUT/quit-warning.png"
click $((w / 2 + 100)) $((h / 2 + 65)) # the warning's Quit
finish unsent

exit "$fail"
