# Shared by the scripts that drive the real window under Xvfb
# (screenshots.sh, quit-check.sh); source it, do not run it.
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
