package widgets

import (
	"sort"
	"strings"
	"unicode"
)

// textModel is the text of a TextArea without any drawing: the runes, the
// cursor and the selection's other end, the word-wrapped rows and the undo
// history. Wrapping is incremental: an edit rewraps from the row before it
// until the rows meet the old ones again, so a keystroke costs a few rows,
// not the whole text.
type textModel struct {
	runes  []rune
	cursor int // insertion point, 0..len(runes)
	anchor int // the selection's other end; == cursor when nothing is selected

	// starts are the rune offsets at which rows begin (starts[0] == 0),
	// wrapped to width by advance.
	starts  []int
	width   float32
	advance func(rune) float32

	undo, redo []textState
	typing     bool // the last edit was a typed rune (undo groups a word)
}

// textState is one step of the undo history.
type textState struct {
	runes          []rune
	cursor, anchor int
}

// maxUndo bounds the undo history.
const maxUndo = 200

// setText replaces the whole text (no undo step) and rewraps.
func (m *textModel) setText(s string) {
	m.runes = []rune(normaliseNewlines(s))
	m.cursor, m.anchor = len(m.runes), len(m.runes)
	m.undo, m.redo, m.typing = nil, nil, false
	m.rewrapAll()
}

// normaliseNewlines turns CRLF and lone CR into LF.
func normaliseNewlines(s string) string {
	if !strings.ContainsRune(s, '\r') {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// setWidth rewraps everything when the width changes.
func (m *textModel) setWidth(w float32) {
	if w == m.width && m.starts != nil {
		return
	}
	m.width = w
	m.rewrapAll()
}

// rewrapAll wraps the text from the start.
func (m *textModel) rewrapAll() {
	m.starts = append(m.starts[:0], 0)
	for s := 0; ; {
		n, more := m.nextRow(s)
		if !more {
			return
		}
		m.starts = append(m.starts, n)
		s = n
	}
}

// nextRow returns where the row after the one starting at s begins, and
// false when the row at s is the last. Rows break after a newline, after
// the last space that fits (spaces may hang past the edge) or, for a word
// wider than the row, inside the word.
func (m *textModel) nextRow(s int) (int, bool) {
	var x float32
	lastSpace := -1
	for i := s; i < len(m.runes); i++ {
		c := m.runes[i]
		if c == '\n' {
			return i + 1, true
		}
		adv := m.adv(c)
		if unicode.IsSpace(c) {
			lastSpace = i
			x += adv
			continue
		}
		if x+adv > m.width && i > s {
			if lastSpace >= s {
				return lastSpace + 1, true
			}
			return i, true
		}
		x += adv
	}
	return len(m.runes), false
}

func (m *textModel) adv(c rune) float32 {
	if m.advance == nil {
		return 1
	}
	return m.advance(c)
}

// replace puts ins in place of runes [from, to) and rewraps the rows the
// change can reach.
func (m *textModel) replace(from, to int, ins []rune) {
	old := m.starts
	d := len(ins) - (to - from)
	m.runes = append(m.runes[:from], append(append([]rune{}, ins...), m.runes[to:]...)...)
	// The row holding the edit, and the one before it (whose last word may
	// now fit, or no longer fit).
	row := max(0, sort.SearchInts(old, from+1)-1)
	begin := max(0, row-1)
	starts := append(make([]int, 0, len(old)+2), old[:begin+1]...)
	for s := old[begin]; ; {
		n, more := m.nextRow(s)
		if !more {
			break
		}
		starts = append(starts, n)
		if n > from+len(ins) {
			// Past the edit: once a row starts where an old row started
			// (shifted by the edit), every later row is the old one shifted.
			if j := sort.SearchInts(old, n-d); j < len(old) && old[j] == n-d && n-d >= to {
				for _, o := range old[j+1:] {
					starts = append(starts, o+d)
				}
				break
			}
		}
		s = n
	}
	m.starts = starts
}

// edit replaces the selection (or nothing, at the cursor) with ins, keeping
// an undo step; typed says it is one typed rune (grouped with the runes
// typed before it until a space).
func (m *textModel) edit(ins []rune, typed bool) {
	from, to := m.selection()
	if !typed || !m.typing || (len(ins) == 1 && unicode.IsSpace(ins[0])) || from != to {
		m.pushUndo()
	}
	m.redo = nil
	m.replace(from, to, ins)
	m.cursor = from + len(ins)
	m.anchor = m.cursor
	m.typing = typed
}

// deleteBack is Backspace: the selection, or the rune before the cursor.
func (m *textModel) deleteBack() bool {
	from, to := m.selection()
	if from == to {
		if from == 0 {
			return false
		}
		from--
	}
	m.pushUndo()
	m.redo = nil
	m.replace(from, to, nil)
	m.cursor, m.anchor, m.typing = from, from, false
	return true
}

// deleteForward is Delete: the selection, or the rune after the cursor.
func (m *textModel) deleteForward() bool {
	from, to := m.selection()
	if from == to {
		if to == len(m.runes) {
			return false
		}
		to++
	}
	m.pushUndo()
	m.redo = nil
	m.replace(from, to, nil)
	m.cursor, m.anchor, m.typing = from, from, false
	return true
}

func (m *textModel) pushUndo() {
	m.undo = append(m.undo, m.state())
	if len(m.undo) > maxUndo {
		m.undo = m.undo[len(m.undo)-maxUndo:]
	}
}

func (m *textModel) state() textState {
	return textState{runes: append([]rune{}, m.runes...), cursor: m.cursor, anchor: m.anchor}
}

func (m *textModel) restore(s textState) {
	m.runes, m.cursor, m.anchor, m.typing = s.runes, s.cursor, s.anchor, false
	m.rewrapAll()
}

// undoStep and redoStep walk the history; false when there is none.
func (m *textModel) undoStep() bool { return m.step(&m.undo, &m.redo) }

func (m *textModel) redoStep() bool { return m.step(&m.redo, &m.undo) }

// step goes back to the last state of from, keeping the present in to.
func (m *textModel) step(from, to *[]textState) bool {
	if len(*from) == 0 {
		return false
	}
	*to = append(*to, m.state())
	m.restore((*from)[len(*from)-1])
	*from = (*from)[:len(*from)-1]
	return true
}

// selection is the selected range, in order (empty when none).
func (m *textModel) selection() (int, int) {
	return min(m.cursor, m.anchor), max(m.cursor, m.anchor)
}

// selectedText is the selected text.
func (m *textModel) selectedText() string {
	from, to := m.selection()
	return string(m.runes[from:to])
}

// moveTo puts the cursor at p, extending the selection when extend is set.
func (m *textModel) moveTo(p int, extend bool) {
	m.cursor = max(0, min(p, len(m.runes)))
	if !extend {
		m.anchor = m.cursor
	}
	m.typing = false
}

// rowOf is the row that shows position p: a position where a row wraps
// belongs to the row it starts.
func (m *textModel) rowOf(p int) int {
	return max(0, sort.SearchInts(m.starts, p+1)-1)
}

// rowEnd is the position at the end of row r, before its newline or the
// space it wrapped after (the cursor stays on the row).
func (m *textModel) rowEnd(r int) int {
	if r+1 >= len(m.starts) {
		return len(m.runes)
	}
	return m.starts[r+1] - 1
}

// rowText is what row r shows (without its newline).
func (m *textModel) rowText(r int) []rune {
	end := len(m.runes)
	if r+1 < len(m.starts) {
		end = m.starts[r+1]
	}
	row := m.runes[m.starts[r]:end]
	if n := len(row); n > 0 && row[n-1] == '\n' {
		row = row[:n-1]
	}
	return row
}

// positionAt is the position on row r nearest x (by the runes' advances).
func (m *textModel) positionAt(r int, x float32) int {
	r = max(0, min(r, len(m.starts)-1))
	row := m.rowText(r)
	var at float32
	for i, c := range row {
		adv := m.adv(c)
		if x < at+adv/2 {
			return m.starts[r] + i
		}
		at += adv
	}
	return min(m.starts[r]+len(row), m.rowEnd(r))
}

// xOf is the offset of position p from the start of its row.
func (m *textModel) xOf(p int) float32 {
	var x float32
	for _, c := range m.runes[m.starts[m.rowOf(p)]:p] {
		x += m.adv(c)
	}
	return x
}

// wordAt is the word (or run of spaces) around p.
func (m *textModel) wordAt(p int) (int, int) {
	isWord := func(i int) bool { return !unicode.IsSpace(m.runes[i]) }
	if len(m.runes) == 0 {
		return 0, 0
	}
	p = min(p, len(m.runes)-1)
	kind := isWord(p)
	from, to := p, p+1
	for from > 0 && isWord(from-1) == kind && m.runes[from-1] != '\n' {
		from--
	}
	for to < len(m.runes) && isWord(to) == kind && m.runes[to] != '\n' {
		to++
	}
	return from, to
}

// wordLeft is the start of the word before p; wordRight the end of the
// word after p (Ctrl+arrows).
func (m *textModel) wordLeft(p int) int {
	for p > 0 && unicode.IsSpace(m.runes[p-1]) {
		p--
	}
	for p > 0 && !unicode.IsSpace(m.runes[p-1]) {
		p--
	}
	return p
}

func (m *textModel) wordRight(p int) int {
	for p < len(m.runes) && unicode.IsSpace(m.runes[p]) {
		p++
	}
	for p < len(m.runes) && !unicode.IsSpace(m.runes[p]) {
		p++
	}
	return p
}
