// Package assets holds Triage Desk's icon, embedded in every binary so the
// window icon and the About screen can show it without any file beside the
// program. It imports nothing of Fyne: ui wraps the bytes in a resource.
//
// The SVG is the source; packaging/icons.sh renders the PNG sizes in icons/
// and the Windows icon.ico from it.
package assets

import (
	_ "embed"
	"fmt"
)

// IconSVG is the app icon's source, a 512-unit square SVG.
//
//go:embed icon.svg
var IconSVG []byte

// IconPNG is the app icon as a 512×512 PNG, for the window icon and About.
//
//go:embed icon.png
var IconPNG []byte

// IconSizes are the PNG sizes in icons/, in pixels.
var IconSizes = []int{16, 24, 32, 48, 64, 128, 256, 512}

// AppID is the application id registered with each OS (FyneApp.toml,
// the .desktop file, the macOS bundle id, the hicolor icon name).
const AppID = "io.github.triagedesk"

// IconFile returns the name of the PNG of the given size under icons/, e.g.
// "icons/icon-48.png". It does not check that the size exists.
func IconFile(size int) string { return fmt.Sprintf("icons/icon-%d.png", size) }
