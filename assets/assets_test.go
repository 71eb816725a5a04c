package assets

import (
	"bytes"
	"image/png"
	"os"
	"testing"
)

func TestEmbeddedIcon(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(IconPNG))
	if err != nil {
		t.Fatalf("embedded icon is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Errorf("embedded icon is %v, want 512×512", b)
	}
	if !bytes.Contains(IconSVG, []byte("<svg")) {
		t.Error("embedded SVG is not an SVG")
	}
}

// TestRenderedSizes checks the files packaging installs: every PNG size
// exists at its size, and icon.ico is a Windows icon with several images.
func TestRenderedSizes(t *testing.T) {
	for _, n := range IconSizes {
		f, err := os.Open(IconFile(n))
		if err != nil {
			t.Errorf("icon size %d missing (run packaging/icons.sh): %v", n, err)
			continue
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != n || cfg.Height != n {
			t.Errorf("%s: %dx%d %v", IconFile(n), cfg.Width, cfg.Height, err)
		}
	}
	ico, err := os.ReadFile("icon.ico")
	if err != nil {
		t.Fatal(err)
	}
	// ICONDIR: reserved 0, type 1 (icon), image count.
	if len(ico) < 6 || ico[0] != 0 || ico[1] != 0 || ico[2] != 1 || ico[3] != 0 {
		t.Fatal("icon.ico is not a Windows icon")
	}
	if n := int(ico[4]) | int(ico[5])<<8; n < 5 {
		t.Errorf("icon.ico holds %d images; Windows needs 16 to 256 px", n)
	}
}
