package engine

import (
	"context"
	"fmt"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// reportWaiting publishes why queued decisions are not being sent.
func (p *pusher) reportWaiting(live, usable bool, mine, others int) {
	w := OutboxWaiting{}
	st := p.e.Status()
	switch {
	case !live && mine+others > 0:
		w = OutboxWaiting{Count: mine + others, Reason: fmt.Sprintf("%s to send. Sign in with your NHS Care Identity to send them.", plural(mine+others))}
	case !usable && mine > 0 && st.State == StateOffline:
		w = OutboxWaiting{Count: mine, Reason: fmt.Sprintf("%s waiting: e-RS cannot be reached. They will be sent when the connection returns.", plural(mine))}
	case !usable && mine > 0:
		w = OutboxWaiting{Count: mine, Reason: fmt.Sprintf("%s waiting: %s", plural(mine), msgSignInAgain)}
	case others > 0:
		w = OutboxWaiting{Count: others, Reason: fmt.Sprintf("%s made under another role or organisation. They will be sent when you sign in that way.", plural(others))}
	}
	p.publishWaiting(w)
}

// reportHeld publishes that the outbox is held by a damaged record.
func (p *pusher) reportHeld(n int, d store.OutboxDamage) {
	p.publishWaiting(OutboxWaiting{Count: max(n, 1), Reason: d.Summary()})
}

// publishWaiting publishes w when it differs from the last one published.
func (p *pusher) publishWaiting(w OutboxWaiting) {
	p.mu.Lock()
	changed := w != p.waiting
	p.waiting = w
	p.mu.Unlock()
	if changed {
		p.e.emit(w)
	}
}

func plural(n int) string {
	if n == 1 {
		return "1 decision"
	}
	return fmt.Sprintf("%d decisions", n)
}

// runCounter publishes OutboxChanged with the counts by state, at most
// every defaultOutboxCountDebounce.
func (p *pusher) runCounter(ctx context.Context) {
	p.countDirty()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.countCh:
		}
		if !sleep(ctx, defaultOutboxCountDebounce) {
			return
		}
		select {
		case <-p.countCh:
		default:
		}
		counts, err := p.e.OutboxCounts(ctx)
		var damage store.OutboxDamage
		if err == nil {
			damage, err = p.e.st.OutboxDamage(ctx)
		}
		if err != nil {
			if ctx.Err() == nil {
				p.e.log.Warn("counting the outbox failed", "err", err)
				p.e.emit(ErrorEvent{Op: "outbox", Message: triage.ErrorMessage(err), Err: err})
			}
			continue
		}
		p.e.emit(OutboxChanged{Counts: counts, Damage: damage})
	}
}

// OutboxCounts returns how many decisions are in each outbox state.
func (e *Engine) OutboxCounts(ctx context.Context) (map[triage.OutboxState]int, error) {
	es, err := e.st.Entries(ctx, store.EntryFilter{})
	if err != nil {
		return nil, err
	}
	counts := map[triage.OutboxState]int{}
	for _, en := range es {
		counts[en.State]++
	}
	return counts, nil
}
