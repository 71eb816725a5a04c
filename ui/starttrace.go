package ui

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"golang.org/x/sys/unix"
)

// TraceStartEnv is the environment variable that, set to 1, makes
// cmd/triagedesk say on standard output when the first frame showing
// worklist rows has been painted (scripts/start-check.sh measures start-up
// with it): one line "first-rows-frame MS cpu CPU", MS the milliseconds
// since the process started and CPU the milliseconds of CPU it had used.
const TraceStartEnv = "TRIAGEDESK_TRACE_START"

// initTime stands in for the process's start where /proc does not say it.
var initTime = time.Now()

// SinceProcessStart is how long the process has run: from the kernel's
// record of its start (Linux, 10 ms steps) where there is one, otherwise
// from when this package was initialised.
func SinceProcessStart() time.Duration {
	if d, ok := procUptime(); ok {
		return d
	}
	return time.Since(initTime)
}

// procUptime is the time since the kernel started this process: its
// start (field 22 of /proc/self/stat, in clock ticks since boot) against
// the boot-time clock now.
func procUptime() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: count from after it.
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, false
	}
	fields := strings.Fields(s[end+1:])
	const startField = 22 - 3 // fields after the name start at field 3
	if len(fields) <= startField {
		return 0, false
	}
	ticks, err := strconv.ParseInt(fields[startField], 10, 64)
	if err != nil {
		return 0, false
	}
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &now); err != nil {
		return 0, false
	}
	const clockTicks = 100 // USER_HZ, the same on every Linux architecture Go builds for
	start := time.Duration(ticks) * time.Second / clockTicks
	return time.Duration(now.Nano()) - start, true
}

// cpuUsed is the CPU time (user and system) the process has used.
func cpuUsed() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startTrace reports the first painted frame with worklist rows to w.
type startTrace struct {
	w    io.Writer
	once sync.Once
	done bool // UI goroutine: a marker was added
}

// rowsShown is called on the UI goroutine after each worklist read is
// shown, with how many rows it holds. The first time there are rows it
// adds a one-pixel marker above the window's content: the GL painter draws
// overlays after the content, so the marker is drawn in the frame that
// first shows the rows; drawing it writes the line, and the marker is
// then taken away (an overlay takes the window's clicks).
func (t *startTrace) rowsShown(rows int, win fyne.Window, post func(func())) {
	if t == nil || t.done || rows == 0 {
		return
	}
	t.done = true
	var marker *canvas.Raster
	marker = canvas.NewRaster(func(w, h int) image.Image {
		t.once.Do(func() {
			fmt.Fprintf(t.w, "first-rows-frame %d cpu %d\n", SinceProcessStart().Milliseconds(), cpuUsed().Milliseconds())
			post(func() { win.Canvas().Overlays().Remove(marker) })
		})
		img := image.NewNRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
		img.Set(0, 0, color.Transparent)
		return img
	})
	marker.Resize(fyne.NewSize(1, 1))
	win.Canvas().Overlays().Add(marker)
}
