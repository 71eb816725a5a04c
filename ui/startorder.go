package ui

import (
	"time"

	"fyne.io/fyne/v2"
)

// afterPaint calls fn on the UI goroutine once the window has painted the
// frame that follows this call (on the UI goroutine), so that work started
// by fn does not compete with drawing it. It uses an animation: the GL
// driver ticks animations just before painting each frame, so the second
// tick comes after the first frame is painted. (Fyne's test driver ticks
// once, at once: fn then runs before afterPaint returns.)
func afterPaint(fn func()) {
	ticks, done := 0, false
	var a *fyne.Animation
	a = fyne.NewAnimation(time.Second, func(f float32) {
		ticks++
		if done || (ticks < 2 && f < 1) {
			return
		}
		done = true
		a.Stop()
		fn()
	})
	a.Start()
}
