#!/usr/bin/env bash
# Takes the README's screenshots of a real Triage Desk window under Xvfb,
# driven by the keyboard with xdotool and captured with ImageMagick's
# `import`, into docs/screenshots/. The app runs the demo (embedded e-RS
# sandbox, synthetic patients) with a throwaway profile.
#
#   make screenshots            # all of them
#   SCREEN=1920x1080 scripts/screenshots.sh
#
# Needs: Xvfb, xdotool, import (imagemagick). Uses the first free X display
# from :99 up, and stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/xvfb-lib.sh
xvfb_begin screenshots
# Wait for the demo to start, sign in, sync and draw the worklist.
start_demo_window "${START_WAIT:-10}"

# open UBRN finds a referral with the search box (/), opens it (Enter) and
# leaves the search box (Esc).
open() {
  key slash
  typetext "$1"
  PAUSE=3 key Return
  key Escape
}

# 1. The worklist, 2WW first, the keyboard cursor on the second referral.
key Down Down
shoot worklist

# 2. An open referral: the header card, its clinical referral information,
#    and its attachments (one still being scanned: PENDING, with what that
#    means).
open 100100000371
shoot referral

# 2b. The patient banner (PDS) of a restricted record (no GP practice or
#     contact details, and the marker) and of a deceased patient.
open 100100000046
shoot banner-restricted
open 100100000124
shoot banner-deceased

# 3. The reject form on an indirectly bookable referral: a reason from the
#    list (keyboard), a comment with its counter, and the PAS question.
open 100100000358
key r
key space
key Down Return
key Tab
typetext "Please refer to the community musculoskeletal service first; re-refer if no improvement after 6 weeks."
key Tab space
shoot reject

# 4. The confirm step: exactly what will be sent, for which patient.
key ctrl+Return
shoot confirm

# Back out without sending anything.
key Escape Escape

cx=$((w / 2)); cy=$((h / 2))

# 5. Sign-in: lock (Ctrl+L), sign out from the lock screen and confirm;
#    then sign in again as the demo clinician.
key ctrl+l
click $((cx + 237)) 341
PAUSE=3 click $((cx + 70)) $((cy + 66))
shoot signin
PAUSE=10 click $((cx + 127)) 341

# 6. Offline with queued decisions: the demo's simulated outage, then two
#    referrals accepted.
demo_outage
for u in 100100000124 100100000657; do
  open "$u"
  key a
  key ctrl+Return
  key ctrl+Return
done
shoot offline

# 7. A conflict: "another user" rejects the oldest queued referral, the
#    outage ends, the decision comes back not applied; the outbox shows it
#    beside what e-RS says now, waiting to be acknowledged.
demo_conflict
click "$cx" $((cy + 47))
PAUSE=10 demo_outage
key ctrl+o
PAUSE=2 click 260 343
# Scroll the detail down to the comparison and the Acknowledge button.
xdotool mousemove "$cx" $((h - 150)) click --repeat 15 --delay 80 5
sleep 1
shoot conflict

# 8. Settings, from the outbox.
key ctrl+comma
shoot settings
