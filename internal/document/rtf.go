package document

import (
	"strconv"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// rtfSkipped are destinations whose content is not body text.
var rtfSkipped = map[string]bool{
	"fonttbl": true, "colortbl": true, "stylesheet": true, "info": true, "pict": true,
	"object": true, "header": true, "headerl": true, "headerr": true, "headerf": true,
	"footer": true, "footerl": true, "footerr": true, "footerf": true, "themedata": true,
	"colorschememapping": true, "latentstyles": true, "datastore": true, "xmlnstbl": true,
	"listtable": true, "listoverridetable": true, "rsidtbl": true, "generator": true,
	"fldinst": true, "filetbl": true, "revtbl": true, "pgdsctbl": true, "bkmkstart": true,
	"bkmkend": true, "nonshppict": true, "mmathPr": true, "listtext": true, "pntext": true,
	"pntxta": true, "pntxtb": true, "footnote": true, "annotation": true, "atnid": true,
	"atnauthor": true, "userprops": true, "docvar": true, "wgrffmtfilter": true, "blipuid": true,
}

// rtfCodepages maps \ansicpg values to decoders for \'hh escapes.
var rtfCodepages = map[int]*charmap.Charmap{
	437: charmap.CodePage437, 850: charmap.CodePage850, 852: charmap.CodePage852, 866: charmap.CodePage866,
	874: charmap.Windows874, 1250: charmap.Windows1250, 1251: charmap.Windows1251, 1252: charmap.Windows1252,
	1253: charmap.Windows1253, 1254: charmap.Windows1254, 1255: charmap.Windows1255, 1256: charmap.Windows1256,
	1257: charmap.Windows1257, 1258: charmap.Windows1258, 10000: charmap.Macintosh,
}

type rtfState struct {
	skip bool // inside a destination that is not shown
	uc   int  // characters to skip after \uN
}

// RTFText extracts the text of a Rich Text Format document: groups and
// control words are interpreted, font tables, pictures, headers and field
// instructions are left out, \par and \line become newlines, \'hh escapes
// are decoded in the document's code page (\ansicpg, default Windows-1252)
// and \uN escapes give Unicode characters (skipping their \ucN fallback
// characters). Input that does not start with {\rtf gives KindCorrupt.
func RTFText(data []byte) (TextResult, error) {
	data, cut := limitInput(data)
	if !strings.HasPrefix(string(data[:min(len(data), 5)]), `{\rtf`) {
		return TextResult{}, newError(KindCorrupt, nil, "the file is not a Rich Text document")
	}
	var out textOut
	dec := charmap.Windows1252.NewDecoder()
	stack := []rtfState{{uc: 1}}
	cur := func() *rtfState { return &stack[len(stack)-1] }
	pendingSkip := 0 // fallback characters still to skip after \uN
	var hexBuf []byte
	flushHex := func() {
		if len(hexBuf) == 0 {
			return
		}
		if s, err := dec.Bytes(hexBuf); err == nil && !cur().skip {
			out.WriteString(string(s))
		}
		hexBuf = hexBuf[:0]
	}
	emit := func(s string) {
		flushHex()
		if !cur().skip {
			out.WriteString(s)
		}
	}
	i := 0
	for i < len(data) && !out.full() {
		c := data[i]
		switch c {
		case '{':
			flushHex()
			if len(stack) < 1000 {
				stack = append(stack, *cur())
			} else {
				stack = append(stack[:len(stack)-1], rtfState{skip: true, uc: 1}, rtfState{skip: true, uc: 1})
			}
			pendingSkip = 0
			i++
			// {\* ...} is an ignorable destination.
			if i+1 < len(data) && data[i] == '\\' && data[i+1] == '*' {
				cur().skip = true
				i += 2
			}
		case '}':
			flushHex()
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			pendingSkip = 0
			i++
		case '\\':
			i++
			if i >= len(data) {
				break
			}
			c = data[i]
			switch {
			case isASCIILetter(c):
				start := i
				for i < len(data) && isASCIILetter(data[i]) && i-start < 32 {
					i++
				}
				word := string(data[start:i])
				param, hasParam := 0, false
				ps := i
				if i < len(data) && (data[i] == '-' || isDigit(data[i])) {
					i++
					for i < len(data) && isDigit(data[i]) && i-ps < 11 {
						i++
					}
					if n, err := strconv.Atoi(string(data[ps:i])); err == nil {
						param, hasParam = n, true
					}
				}
				if i < len(data) && data[i] == ' ' {
					i++ // the delimiter space belongs to the control word
				}
				if pendingSkip > 0 && word != "u" {
					pendingSkip--
					continue
				}
				switch {
				case word == "u" && hasParam:
					flushHex()
					if param < 0 {
						param += 65536
					}
					if !cur().skip && param > 0 {
						out.WriteString(string(rune(param)))
					}
					pendingSkip = cur().uc
				case word == "uc" && hasParam:
					cur().uc = max(0, min(param, 10))
				case word == "ansicpg" && hasParam:
					if cm, ok := rtfCodepages[param]; ok {
						dec = cm.NewDecoder()
					}
				case word == "par" || word == "line" || word == "sect" || word == "page" || word == "row":
					emit("\n")
				case word == "tab" || word == "cell":
					emit("\t")
				case word == "emdash":
					emit("—")
				case word == "endash":
					emit("–")
				case word == "bullet":
					emit("•")
				case word == "lquote":
					emit("‘")
				case word == "rquote":
					emit("’")
				case word == "ldblquote":
					emit("“")
				case word == "rdblquote":
					emit("”")
				case rtfSkipped[word]:
					flushHex()
					cur().skip = true
				case word == "bin" && hasParam:
					i += max(0, min(param, len(data)-i)) // raw binary data
				}
			case c == '\'':
				if i+2 < len(data) {
					if v, err := strconv.ParseUint(string(data[i+1:i+3]), 16, 8); err == nil {
						i += 3
						if pendingSkip > 0 {
							pendingSkip--
							continue
						}
						hexBuf = append(hexBuf, byte(v))
						continue
					}
				}
				i++
			case c == '\\' || c == '{' || c == '}':
				i++
				if pendingSkip > 0 {
					pendingSkip--
					continue
				}
				emit(string(c))
			case c == '~':
				i++
				emit("\u00a0")
			case c == '_':
				i++
				emit("-")
			case c == '\n' || c == '\r':
				i++
				emit("\n")
			default: // \- optional hyphen, \: index entry, and unknown symbols
				i++
			}
		case '\r', '\n':
			i++
		default:
			i++
			if pendingSkip > 0 {
				pendingSkip--
				continue
			}
			if c >= 0x80 {
				hexBuf = append(hexBuf, c)
				continue
			}
			emit(string(c))
		}
	}
	flushHex()
	return TextResult{Text: tidyLines(out.b.String()), Encoding: "rtf", Truncated: cut || out.truncated}, nil
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
