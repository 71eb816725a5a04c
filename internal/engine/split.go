package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// A worklist too large for one answer.
//
// e-RS refuses an A008 answer over 10 MB (422). The engine then asks for the
// worklist in parts, each the configured filter narrowed further, one after
// another through the client's shared rate limiter, and merges the parts
// (one item per UBRN) into one worklist for the usual diff:
//
//   - the whole worklist is split by service: every service of
//     Config.Services and of the last worklist. When no service is known, and
//     once every Config.RefDataInterval (so that a service the engine has not
//     seen yet is found), it is split instead by specialty: every A004
//     SPECIALTY code, plus the referrals with no specialty, which together
//     are all of it;
//   - a part still too large is split by whether a clinician is assigned
//     (assigned, not assigned: again all of it);
//   - a part too large after that is not received.
//
// A part not received (too large, or any failure) never takes referrals
// away: a referral of the last worklist that no received part speaks for
// is kept as it was, so referrals cannot vanish from the worklist because
// one request failed. The pull then reports the failure after storing what
// it received.
//
// After a split, later pulls go straight to the parts, until the worklist
// has shrunk to half the size it had when the split began; then the whole
// worklist is asked for again.

// errWorklistIncomplete wraps the first failure of a split pull that
// received some parts but not all.
var errWorklistIncomplete = errors.New("worklist incomplete: some parts were not received")

// splitBy is what a part of a worklist narrows.
type splitBy int

const (
	splitNone      splitBy = iota // the configured filter itself
	splitService                  // one service
	splitSpecialty                // one specialty, or none assigned
	splitClinician                // clinician assigned or not
)

// part is one A008 request of a split worklist.
type part struct {
	f  triage.WorklistFilter
	by splitBy
}

// splitState is what the engine remembers between split pulls.
type splitState struct {
	// active: the last pull was split, so this one starts from the parts.
	active bool
	// since is the merged size when the split began.
	since int
	// discovered is when the worklist was last split by specialty.
	discovered time.Time
}

// fetchedWorklist is a worklist as received: whole, or merged from parts.
type fetchedWorklist struct {
	Items []triage.WorklistItem
	// AsOf is the earliest Date of the parts (the whole list is at least
	// this fresh); Latest the latest Date, for the server clock offset.
	AsOf, Latest time.Time
	Meta         ers.Meta
	// Parts counts the answered requests; Failed the parts not received.
	Parts, Failed int
	// received are the filters of the parts received; nil when the whole
	// worklist came in one answer.
	received []triage.WorklistFilter
	// err is the first failure of a part when others were received.
	err error
}

// covers reports whether a received part speaks for the item: a referral
// of the last worklist that no received part covers is kept as it was.
func (w *fetchedWorklist) covers(it triage.WorklistItem) bool {
	if w.received == nil {
		return true
	}
	return slices.ContainsFunc(w.received, func(f triage.WorklistFilter) bool { return filterMatches(f, it) })
}

// filterMatches reports whether e-RS would list the item under the filter,
// as far as the item says (a worklist item carries no location, so the
// configured location filter, shared by every part, is not checked).
func filterMatches(f triage.WorklistFilter, it triage.WorklistItem) bool {
	if f.Service != "" && it.Service.ID != f.Service {
		return false
	}
	switch {
	case f.SpecialtyAssigned == triage.AssignedNo:
		if it.Specialty.Code != "" {
			return false
		}
	case !f.Specialty.IsZero():
		if it.Specialty.Code != f.Specialty.Code {
			return false
		}
	}
	assigned := it.AllocatedClinician != "" || it.NamedClinician != ""
	switch {
	case f.ClinicianAssigned == triage.AssignedNo:
		return !assigned
	case f.Clinician != "":
		return it.AllocatedClinician == f.Clinician || it.NamedClinician == f.Clinician
	case f.ClinicianAssigned == triage.AssignedYes:
		return assigned
	}
	return true
}

// tooLarge reports whether an A008 failure is e-RS refusing an answer over
// its size limit (422, not one of the codes that mean the filter itself is
// wrong).
func tooLarge(err error) bool {
	var ee *ers.Error
	if !errors.As(err, &ee) || ee.Status != 422 {
		return false
	}
	switch ee.Code {
	case "NO_RELATIONSHIP", "INVALID_CODE", "REFERENCE_NOT_FOUND", "MISSING_VALUE", "UNEXPECTED_FIELD", "INVALID_FHIR_STRUCTURE":
		return false
	}
	return true
}

// fetchWorklist asks e-RS for the configured worklist: whole, or in parts
// when it is (or last was) too large for one answer. Errors are the first
// failure when nothing was received; a partial answer carries its failure
// in err.
func (e *Engine) fetchWorklist(ctx context.Context, c *ers.Client) (*fetchedWorklist, error) {
	e.mu.Lock()
	split := e.split.active
	e.mu.Unlock()
	if !split {
		wl, err := c.Worklist(ctx, e.cfg.List, e.cfg.Filter)
		if err == nil {
			return &fetchedWorklist{Items: wl.Items, AsOf: wl.AsOf, Latest: wl.AsOf, Meta: wl.Meta, Parts: 1}, nil
		}
		if !tooLarge(err) {
			return nil, err
		}
		e.log.Info("worklist too large for one answer; asking for it in parts")
	}
	parts, err := e.subParts(ctx, c, part{f: e.cfg.Filter, by: splitNone})
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("worklist too large and cannot be split: %w", errWorklistIncomplete)
	}
	fw := &fetchedWorklist{received: []triage.WorklistFilter{}}
	seen := map[string]bool{}
	var firstErr error
	for len(parts) > 0 {
		p := parts[0]
		parts = parts[1:]
		wl, err := c.Worklist(ctx, e.cfg.List, p.f)
		if err != nil && tooLarge(err) {
			sub, serr := e.subParts(ctx, c, p)
			if serr == nil && len(sub) > 0 {
				parts = append(sub, parts...)
				continue
			}
		}
		if err != nil {
			fw.Failed++
			firstErr = firstOf(firstErr, err)
			if cls := classOf(err); cls == ers.Unreachable || cls == ers.AuthRequired {
				// No point asking for the rest now.
				fw.Failed += len(parts)
				break
			}
			continue
		}
		fw.Parts++
		fw.received = append(fw.received, p.f)
		if fw.AsOf.IsZero() || wl.AsOf.Before(fw.AsOf) {
			fw.AsOf = wl.AsOf
		}
		fw.Latest, fw.Meta = wl.AsOf, wl.Meta
		for _, it := range wl.Items {
			if u := triage.NormalizeUBRN(it.UBRN); !seen[u] {
				seen[u] = true
				fw.Items = append(fw.Items, it)
			}
		}
	}
	if fw.Parts == 0 {
		return nil, firstErr
	}
	if firstErr != nil {
		fw.err = fmt.Errorf("%w (%d of %d): %w", errWorklistIncomplete, fw.Failed, fw.Parts+fw.Failed, firstErr)
	}
	e.mu.Lock()
	if !e.split.active {
		e.split.active, e.split.since = true, len(fw.Items)
	} else if fw.err == nil && len(fw.Items) < e.split.since/2 {
		e.split.active = false // ask for the whole worklist next time
	}
	e.mu.Unlock()
	return fw, nil
}

// firstOf keeps the first error.
func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// classOf is an e-RS error's class (0 for any other error).
func classOf(err error) ers.Class {
	var ee *ers.Error
	if errors.As(err, &ee) {
		return ee.Class
	}
	return 0
}

// subParts splits a part too large for one answer. None means it cannot be
// split further.
func (e *Engine) subParts(ctx context.Context, c *ers.Client, p part) ([]part, error) {
	switch p.by {
	case splitNone:
		if p.f.Service == "" {
			if svcs := e.knownServices(ctx); len(svcs) > 0 && !e.discoveryDue() {
				out := make([]part, 0, len(svcs))
				for _, s := range svcs {
					f := p.f
					f.Service = s
					out = append(out, part{f: f, by: splitService})
				}
				return out, nil
			}
			if p.f.Specialty.IsZero() && p.f.SpecialtyAssigned == triage.AssignedAny {
				return e.specialtyParts(ctx, c, p.f)
			}
		}
		return clinicianParts(p), nil
	case splitService, splitSpecialty:
		return clinicianParts(p), nil
	}
	return nil, nil
}

// clinicianParts splits by whether a clinician is assigned, unless the
// filter already names one.
func clinicianParts(p part) []part {
	if p.f.Clinician != "" || p.f.ClinicianAssigned != triage.AssignedAny {
		return nil
	}
	yes, no := p.f, p.f
	yes.ClinicianAssigned, no.ClinicianAssigned = triage.AssignedYes, triage.AssignedNo
	return []part{{f: yes, by: splitClinician}, {f: no, by: splitClinician}}
}

// specialtyParts splits by every SPECIALTY code (from the cached reference
// data, else from A004) plus the referrals with no specialty assigned.
func (e *Engine) specialtyParts(ctx context.Context, c *ers.Client, f triage.WorklistFilter) ([]part, error) {
	var cs triage.CodeSystem
	rd, err := e.st.ReferenceData(ctx)
	if err == nil {
		cs, _ = rd.System(triage.CodeSystemSpecialty)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("split worklist: %w", err)
	}
	if len(cs.Concepts) == 0 {
		r, err := c.CodeSystem(ctx, triage.CodeSystemSpecialty)
		if err != nil {
			return nil, fmt.Errorf("split worklist by specialty: %w", err)
		}
		cs = r.CodeSystem
	}
	out := make([]part, 0, len(cs.Concepts)+1)
	for _, k := range cs.Concepts {
		g := f
		g.SpecialtyAssigned, g.Specialty = triage.AssignedYes, triage.Coding{System: cs.URL, Code: k.Code}
		out = append(out, part{f: g, by: splitSpecialty})
	}
	none := f
	none.SpecialtyAssigned = triage.AssignedNo
	out = append(out, part{f: none, by: splitSpecialty})
	e.mu.Lock()
	e.split.discovered = e.now()
	e.mu.Unlock()
	return out, nil
}

// discoveryDue reports whether the worklist should be split by specialty
// (which finds every service) rather than by the services known.
func (e *Engine) discoveryDue() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.split.discovered.IsZero() || e.now().Sub(e.split.discovered) >= e.cfg.RefDataInterval
}

// knownServices are Config.Services and the services of the last worklist,
// in order.
func (e *Engine) knownServices(ctx context.Context) []string {
	if err := e.loadPrev(ctx); err != nil {
		e.log.Warn("last worklist unreadable; splitting by the configured services", "err", err)
	}
	set := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !set[s] {
			set[s] = true
			out = append(out, s)
		}
	}
	for _, s := range e.cfg.Services {
		add(s)
	}
	e.mu.Lock()
	prev := make([]string, 0, len(e.prevItems))
	for _, it := range e.prevItems {
		prev = append(prev, it.Service.ID)
	}
	e.mu.Unlock()
	slices.Sort(prev)
	for _, s := range prev {
		add(s)
	}
	return out
}

// carryForward adds to the received items every item of the last worklist
// that no received part covers, so a part not received takes nothing away.
func carryForward(prev map[string]triage.WorklistItem, fw *fetchedWorklist) []triage.WorklistItem {
	if fw.received == nil {
		return fw.Items
	}
	have := make(map[string]bool, len(fw.Items))
	for _, it := range fw.Items {
		have[triage.NormalizeUBRN(it.UBRN)] = true
	}
	out := fw.Items
	keys := make([]string, 0, len(prev))
	for u := range prev {
		keys = append(keys, u)
	}
	slices.Sort(keys)
	for _, u := range keys {
		it := prev[u]
		if !have[triage.NormalizeUBRN(u)] && !fw.covers(it) {
			out = append(out, it)
		}
	}
	return out
}
