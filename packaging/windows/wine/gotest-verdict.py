#!/usr/bin/env python3
"""Judges one test from `go tool test2json` output of a test binary run under Wine.

Usage:
  gotest-verdict.py EVENTS.json TestName [LOG-REGEX]
                                                  exit 0 and print "passed" or
                                                  "passed (Wine clean-up only)",
                                                  or exit 1 and print why
  gotest-verdict.py --log EVENTS.json TestName    print the test's output

Go 1.26's os.RemoveAll needs FileDispositionInformationEx (Windows 10 1607 and
later), which Wine 8.0 does not implement, so the clean-up of every
t.TempDir fails under Wine with "TempDir RemoveAll cleanup: ... Invalid
function." and marks the test failed. This script treats a failure whose only
message is that one as a pass, and any other message as the failure it is.
The output of t.Log looks like that of t.Error, so the lines a passing test
logs are named by LOG-REGEX (e.g. its closing summary); they are allowed.
"""
import json
import re
import sys

CLEANUP = "TempDir RemoveAll cleanup:"
NOISE = ("=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- FAIL", "--- PASS", "--- SKIP")


def load(path, name):
    action, lines = None, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            raw = raw.strip()
            if not raw.startswith("{"):
                continue
            try:
                ev = json.loads(raw)
            except json.JSONDecodeError:
                continue
            test = ev.get("Test", "")
            if test != name and not test.startswith(name + "/"):
                continue
            if ev.get("Action") == "output":
                lines.append(ev.get("Output", "").rstrip("\n"))
            elif ev.get("Action") in ("pass", "fail", "skip") and test == name:
                action = ev["Action"]
    return action, lines


def main(argv):
    show = argv[:1] == ["--log"]
    if show:
        argv = argv[1:]
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    action, lines = load(argv[0], argv[1])
    if show:
        print("\n".join(lines))
        return 0
    if action is None:
        print(f"{argv[1]} did not run or did not finish")
        return 1
    if action == "skip":
        print(f"{argv[1]} was skipped")
        return 1
    if action == "pass":
        print("passed")
        return 0
    allowed = re.compile(argv[2]) if len(argv) == 3 else None
    real = [l for l in lines if l.strip() and not l.strip().startswith(NOISE) and CLEANUP not in l
            and not (allowed and allowed.search(l))]
    if real:
        print(f"{argv[1]} failed: " + " | ".join(l.strip() for l in real[:5]))
        return 1
    print("passed (Wine clean-up only)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
