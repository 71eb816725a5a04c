package ers

import (
	"mime"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilenameBytes is the longest file name SanitizeFilename returns, in
// bytes, well under the 255-byte limit of common file systems.
const MaxFilenameBytes = 200

// ContentDispositionFilename returns the file name in a Content-Disposition
// header value, decoded. It understands the RFC 6266 / RFC 5987 extended form
// (filename*=UTF-8”The%20filenam%C3%A9.pdf, also ISO-8859-1), RFC 2231
// continuations (filename*0*=…), RFC 2047 encoded words
// (filename="=?UTF-8?B?…?="), quoted and bare names, and, leniently, headers
// that mime.ParseMediaType rejects. The extended form wins over the plain
// one. ok is false when the header names no file. The result is not safe to
// use as a path: pass it through SanitizeFilename.
func ContentDispositionFilename(header string) (name string, ok bool) {
	if header == "" {
		return "", false
	}
	var ext, plain string
	if _, params, err := mime.ParseMediaType(header); err == nil {
		plain = params["filename"]
		// ParseMediaType decodes UTF-8 and US-ASCII filename* itself; other
		// charsets are left for the manual decoding below.
		if raw, found := rawParam(header, "filename*"); found {
			if v, ok := decodeExtValue(raw); ok {
				ext = v
			}
		}
	} else {
		if raw, found := rawParam(header, "filename*"); found {
			if v, ok := decodeExtValue(raw); ok {
				ext = v
			}
		}
		if raw, found := rawParam(header, "filename"); found {
			plain = unquote(raw)
		}
	}
	name = ext
	if name == "" {
		name = plain
	}
	if strings.Contains(name, "=?") {
		dec := new(mime.WordDecoder)
		if d, err := dec.DecodeHeader(name); err == nil {
			name = d
		}
	}
	return name, name != ""
}

// rawParam finds a parameter's raw value in a header, splitting on
// semicolons outside quotes. Names match case-insensitively.
func rawParam(header, name string) (string, bool) {
	var parts []string
	inQuote, start := false, 0
	for i := 0; i < len(header); i++ {
		switch header[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				parts = append(parts, header[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, header[start:])
	for _, p := range parts[1:] {
		k, v, found := strings.Cut(p, "=")
		if found && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return v
}

// decodeExtValue decodes an RFC 5987 ext-value: charset'language'pct-encoded.
func decodeExtValue(v string) (string, bool) {
	v = unquote(v)
	charset, rest, ok := strings.Cut(v, "'")
	if !ok {
		return "", false
	}
	_, enc, ok := strings.Cut(rest, "'")
	if !ok {
		return "", false
	}
	raw, err := url.PathUnescape(enc)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(charset) {
	case "utf-8", "us-ascii":
		return raw, true
	case "iso-8859-1", "latin1":
		r := make([]rune, len(raw))
		for i := 0; i < len(raw); i++ {
			r[i] = rune(raw[i])
		}
		return string(r), true
	}
	return "", false
}

// SanitizeFilename makes a file name from a server safe to show and to save
// on Windows, macOS and Linux: it keeps only the last path element (no / or
// \), drops control and invisible formatting characters (including
// right-to-left overrides that disguise extensions), replaces characters
// Windows forbids, strips leading dots (no hidden files, no "..") and
// trailing dots and spaces, renames Windows device names (CON, NUL, COM1…),
// and shortens it to MaxFilenameBytes keeping the extension. A name with
// nothing left becomes "file". The result is valid UTF-8, and sanitising it
// again changes nothing.
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "_")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError:
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		}
		return r
	}, name)
	name = truncateName(trimName(name))
	if reservedWindowsName(name) {
		name = truncateName("_" + name)
	}
	if name == "" {
		return "file"
	}
	return name
}

// truncateName shortens a name to MaxFilenameBytes at a character boundary,
// keeping a short extension.
func truncateName(name string) string {
	if len(name) <= MaxFilenameBytes {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 16 || len(ext) == len(name) {
		ext = ""
	}
	stem := name[:len(name)-len(ext)]
	limit := MaxFilenameBytes - len(ext)
	for limit > 0 && !utf8.RuneStart(stem[limit]) {
		limit--
	}
	return trimName(stem[:limit] + ext)
}

// trimName removes leading dots and spaces and trailing dots and spaces.
func trimName(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, ". "), ". ")
}

// reservedWindowsName reports whether the name (before its first dot) is a
// Windows device name, which cannot be used as a file name whatever its
// extension.
func reservedWindowsName(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) >= 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		switch base[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}
