package vetting

import (
	"fmt"
	"math"

	"fyne.io/fyne/v2"
)

// layoutBucketStep rounds the window size up for remembering the splits:
// a maximised window on a 1280×800 screen (a little smaller, for the title
// bar and panel) keeps the splits of "1280x800".
const layoutBucketStep = 40

// sizeBucket names the screen size a layout is remembered for, e.g.
// "1280x800"; "" before the window has a size.
func sizeBucket(s fyne.Size) string {
	if s.Width <= 0 || s.Height <= 0 {
		return ""
	}
	round := func(f float32) int { return int(math.Ceil(float64(f)/layoutBucketStep)) * layoutBucketStep }
	return fmt.Sprintf("%dx%d", round(s.Width), round(s.Height))
}

// layoutKey is the preference key of a split for a size bucket (the
// key alone for no bucket).
func layoutKey(key, bucket string) string {
	if bucket == "" {
		return key
	}
	return key + "." + bucket
}

// currentBucket is the size bucket of the window now.
func (v *Vetting) currentBucket() string {
	if c := v.frame.Window().Canvas(); c != nil {
		return sizeBucket(c.Size())
	}
	return ""
}

// saveLayout keeps the worklist divider and the letter/decision split for
// the screen size they were set at.
func (v *Vetting) saveLayout() {
	side := v.sideOffset()
	if v.prefs == nil || v.layoutBucket == "" {
		return
	}
	v.prefs.SetFloat(layoutKey(prefSplit, v.layoutBucket), v.split.Offset)
	v.prefs.SetFloat(layoutKey(prefSideSplit, v.layoutBucket), side)
}

// loadLayout puts back the splits kept for the window's size now (after
// keeping those of the size they were set at), falling back to the last
// ones kept without a size, then to the defaults.
func (v *Vetting) loadLayout() {
	bucket := v.currentBucket()
	if bucket == v.layoutBucket {
		return
	}
	v.saveLayout()
	v.layoutBucket = bucket
	if v.prefs == nil {
		return
	}
	split := v.prefs.FloatWithFallback(prefSplit, defaultSplit)
	if o := v.prefs.FloatWithFallback(layoutKey(prefSplit, bucket), split); o > 0.15 && o < 0.85 {
		v.split.SetOffset(o)
	}
	side := v.prefs.FloatWithFallback(prefSideSplit, defaultSideSplit)
	if o := v.prefs.FloatWithFallback(layoutKey(prefSideSplit, bucket), side); o > 0.3 && o < 0.9 {
		v.sideSplit = o
		if v.panel != nil {
			v.panel.split.SetOffset(o)
		}
	}
}

// toggleWorklist hides the worklist so the open referral's letter takes
// the window's full width, or shows it again. With no referral open the
// worklist is the whole window and stays.
func (v *Vetting) toggleWorklist() {
	if v.panel == nil {
		return
	}
	v.saveLayout()
	v.worklistHidden = !v.worklistHidden
	if v.prefs != nil {
		v.prefs.SetBool(prefWorklistHidden, v.worklistHidden)
	}
	v.showBody()
}

// search is "/": the keyboard goes to the worklist's search box, the
// worklist shown first if it was hidden (Ctrl+B).
func (v *Vetting) search() {
	if v.WorklistHidden() {
		v.toggleWorklist()
	}
	v.list.FocusSearch(v.frame.Window().Canvas())
}

// step is J/K (↓/↑): it moves the worklist's cursor; with the worklist
// hidden, where no cursor can be seen, it opens the next or previous
// referral in the worklist's order instead.
func (v *Vetting) step(delta int) {
	if !v.WorklistHidden() {
		v.list.MoveCursor(delta)
		return
	}
	to := v.list.After(v.panel.ubrn)
	if delta < 0 {
		to = v.list.Before(v.panel.ubrn)
	}
	if to == "" {
		where := "last"
		if delta < 0 {
			where = "first"
		}
		if v.panel.decision != nil {
			v.panel.decision.say("This is the " + where + " referral in the worklist as it is filtered and sorted. Show the worklist (Ctrl+B) to see the others.")
		}
		return
	}
	v.list.MarkOpen(to)
	v.open(to)
}

// WorklistHidden reports whether the worklist is hidden (Ctrl+B).
func (v *Vetting) WorklistHidden() bool { return v.worklistHidden && v.panel != nil }

// showBody shows the worklist alone (no referral open), the worklist and
// the referral side by side, or the referral alone (worklist hidden).
func (v *Vetting) showBody() {
	var obj fyne.CanvasObject = v.list.Object()
	switch {
	case v.panel != nil && v.worklistHidden:
		obj = v.right
	case v.panel != nil:
		v.split.Leading, v.split.Trailing = v.list.Object(), v.right
		obj = v.split
	}
	if len(v.body.Objects) == 1 && v.body.Objects[0] == obj {
		return
	}
	v.body.Objects = []fyne.CanvasObject{obj}
	v.body.Refresh()
	if obj == v.split {
		v.split.Refresh()
	}
}
