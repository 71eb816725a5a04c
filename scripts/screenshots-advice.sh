#!/usr/bin/env bash
# Takes the README's Advice and Guidance screenshots of a real Triage Desk
# window under Xvfb, driven by the keyboard with xdotool and captured with
# ImageMagick's `import`, into docs/screenshots/: the A&G worklist, a
# conversation, and the reply form. The app runs the demo (embedded e-RS
# sandbox, synthetic patients) with a throwaway profile; nothing is sent.
#
#   scripts/screenshots-advice.sh
#   SCREEN=1920x1080 scripts/screenshots-advice.sh
#
# Needs: Xvfb, xdotool, import (imagemagick).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/xvfb-lib.sh
xvfb_begin screenshots-advice
start_demo_window "${START_WAIT:-12}"

# 1. The A&G worklist (Ctrl+2): "response required" first, counts above.
PAUSE=2 key ctrl+2
shoot advice-worklist

# 2. A conversation: the first request waiting for a reply (↓ opens it).
PAUSE=3 key Down
shoot advice-conversation

# 3. The reply form (Y): guidance typed (the counter live), then "Return
#    to referrer with advice" and a recommendation chosen with the mouse
#    (positions for 1280x800).
key y
typetext "Thank you. An endoscopy is not needed now: please try a full-dose PPI for 8 weeks with H. pylori testing, then refer if symptoms persist."
click 938 299
click 1100 412
click 1100 452
shoot advice-reply
