package widgets

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
)

// TestCappedTopNeverOutgrowsItsSpace: a header taller than its share
// scrolls inside it instead of making the whole taller; a short header
// keeps its natural height and the body takes the rest.
func TestCappedTopNeverOutgrowsItsSpace(t *testing.T) {
	test.NewTempApp(t)
	tall := canvas.NewRectangle(nil)
	tall.SetMinSize(fyne.NewSize(100, 500))
	body := canvas.NewRectangle(nil)
	body.SetMinSize(fyne.NewSize(100, 200))
	c := NewCappedTop(tall, body, 0.5)
	if h := c.MinSize().Height; h > 200+capStrip {
		t.Fatalf("min height %v: the header's 500 px make the whole taller than body and a strip", h)
	}
	c.Resize(fyne.NewSize(400, 600))
	if top := c.Objects[0].Size().Height; top != 300 {
		t.Errorf("a 500 px header in 600 px gets %v, want its 50 %% share, 300", top)
	}
	if b := c.Objects[1]; b.Position().Y != 300 || b.Size().Height != 300 {
		t.Errorf("body at %v size %v, want the other 300 px", b.Position(), b.Size())
	}

	short := canvas.NewRectangle(nil)
	short.SetMinSize(fyne.NewSize(100, 120))
	c = NewCappedTop(short, body, 0.5)
	c.Resize(fyne.NewSize(400, 600))
	if top := c.Objects[0].Size().Height; top != 120 {
		t.Errorf("a 120 px header gets %v, want its natural 120", top)
	}
	if b := c.Objects[1]; b.Size().Height != 480 {
		t.Errorf("body gets %v, want 480", b.Size().Height)
	}
}
