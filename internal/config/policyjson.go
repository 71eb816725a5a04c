package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// locator turns a byte offset in the parsed JSON into a place a reader can
// find: for a file "line 3, column 5" with the numbers, for the installer's
// registry values the value's name.
type locator func(off int) (where string, line, column int)

// fileLocator maps offsets in data to 1-based lines and columns (columns
// count characters, not bytes).
func fileLocator(data []byte) locator {
	return func(off int) (string, int, int) {
		off = min(max(off, 0), len(data))
		line := 1 + bytes.Count(data[:off], []byte{'\n'})
		start := bytes.LastIndexByte(data[:off], '\n') + 1
		if start == 0 && bytes.HasPrefix(data, utf8BOM) && off >= len(utf8BOM) {
			start = len(utf8BOM) // editors do not show the byte order mark
		}
		col := 1 + utf8.RuneCount(data[start:off])
		return fmt.Sprintf("line %d, column %d", line, col), line, col
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// member is one "key": value pair of the top-level object.
type member struct {
	key    string
	keyOff int
	valOff int
	raw    json.RawMessage
}

// objectMembers walks the top-level object and returns its members with the
// byte offsets of each key and value.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var out []member
	for dec.More() {
		keyOff := skipSpace(data, int(dec.InputOffset()), ",")
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		valOff := skipSpace(data, int(dec.InputOffset()), ":")
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, member{key: key, keyOff: keyOff, valOff: valOff, raw: raw})
	}
	return out, nil
}

// arrayElements returns the elements of a JSON array with their offsets
// relative to the array's own start.
func arrayElements(raw []byte) ([]json.RawMessage, []int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // [
		return nil, nil, err
	}
	var elems []json.RawMessage
	var offs []int
	for dec.More() {
		off := skipSpace(raw, int(dec.InputOffset()), ",")
		var e json.RawMessage
		if err := dec.Decode(&e); err != nil {
			return nil, nil, err
		}
		elems = append(elems, e)
		offs = append(offs, off)
	}
	return elems, offs, nil
}

// skipSpace returns the offset of the first byte at or after off that is
// neither JSON white space nor one of the separators in seps.
func skipSpace(data []byte, off int, seps string) int {
	for off < len(data) {
		c := data[off]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || strings.IndexByte(seps, c) >= 0 {
			off++
			continue
		}
		break
	}
	return off
}

func firstNonSpace(data []byte) int { return skipSpace(data, 0, "") }

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return 0
}

// syntaxHints are, in the order tried, what encoding/json's syntax error
// says and the sentence that explains it.
var syntaxHints = []struct{ says, hint string }{
	{"after object key:value pair", "a comma is missing between two settings (at the end of the previous line)"},
	{"after array element", "a comma is missing between two items of a list"},
	{"after object key", "a colon (:) is missing after the setting's name"},
	{"looking for beginning of object key string", "setting names must be in double quotes, e.g. \"environment\""},
	{"in string literal", "a text value is not closed, or contains a line break or a tab: close it with \" and write \\\\ for a backslash"},
	{"in string escape code", "a backslash in a text value starts an unknown escape: write \\\\ for a single backslash (Windows paths need doubled backslashes)"},
	{"looking for beginning of value", "a value is not valid JSON: text must be in double quotes, and true, false and numbers without"},
	{"after top-level value", "there is more text after the final }: remove it"},
}

// explainSyntaxError turns encoding/json's syntax error into the offset of
// the offending character and a sentence an IT administrator can act on.
func explainSyntaxError(data []byte, err error) (int, string) {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return len(data), "the file ends too early: a closing } or ] or \" is missing"
		}
		return 0, "the file is not valid JSON: " + err.Error()
	}
	// Offset counts the bytes read, including the offending one.
	off := int(se.Offset) - 1
	if off < 0 {
		off = 0
	}
	msg := se.Error()
	var c byte
	if off < len(data) {
		c = data[off]
	}
	switch {
	case strings.Contains(msg, "unexpected end of JSON input"):
		return len(data), "the file ends too early: a closing } or ] or \" is missing"
	case c == '/' || c == '#':
		return off, "comments are not allowed in JSON: remove them (use a \"comment\" setting for notes)"
	case c == '\'':
		return off, "use double quotes (\") around names and text, not single quotes"
	case (c == '}' || c == ']') && strings.Contains(msg, "looking for beginning of"):
		if prev := lastNonSpaceBefore(data, off); prev >= 0 && data[prev] == ',' {
			return prev, "there is a comma after the last item: remove it"
		}
		return off, fmt.Sprintf("a value is missing before %q", c)
	}
	for _, h := range syntaxHints {
		if strings.Contains(msg, h.says) {
			return off, h.hint
		}
	}
	return off, "the file is not valid JSON: " + msg
}

func lastNonSpaceBefore(data []byte, off int) int {
	for i := off - 1; i >= 0; i-- {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return i
	}
	return -1
}

// describe names what a raw JSON value is, for "found …" in messages.
func describe(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '"':
		var s string
		_ = json.Unmarshal(t, &s)
		return fmt.Sprintf("the text %q", s)
	case '{':
		return "a group { … }"
	case '[':
		return "a list [ … ]"
	case 't', 'f':
		return string(t)
	case 'n':
		return "null"
	}
	return "the number " + string(t)
}
