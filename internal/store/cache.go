package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// MaxDocumentSize is the largest document the cache accepts.
const MaxDocumentSize = 64 << 20

// AAD bucket labels for the two parts of a refs value.
const (
	aadRefKey  = "refs/key"
	aadRefInfo = "refs/info"
)

// DocumentKind says what a cached document is.
type DocumentKind string

// The document kinds.
const (
	// DocumentCRI is the clinical referral information PDF (A007).
	DocumentCRI DocumentKind = "cri"
	// DocumentAttachment is a referrer's attachment (A042).
	DocumentAttachment DocumentKind = "attachment"
	// DocumentProvider is a file the clinician attaches to a decision; its
	// ID is the triage.ProviderAttachment LocalID.
	DocumentProvider DocumentKind = "provider"
)

// DocumentMeta describes a cached document. Title and FileName may be
// clinical, so they are sealed like the bytes.
type DocumentMeta struct {
	ID           string                    `json:"id"`
	Kind         DocumentKind              `json:"kind"`
	Title        string                    `json:"title,omitempty"`
	FileName     string                    `json:"fileName,omitempty"`
	ContentType  string                    `json:"contentType,omitempty"`
	Size         int64                     `json:"size"`
	Availability triage.AvailabilityStatus `json:"availability,omitempty"`
	FetchedAt    time.Time                 `json:"fetchedAt"`
}

// LocalState is what the app knows about a referral that e-RS does not: when
// the clinician opened it, their unfinished draft, whether it has left the
// worklist and when it was last synced.
type LocalState struct {
	OpenedAt     time.Time        `json:"openedAt,omitzero"`
	Draft        *triage.Decision `json:"draft,omitempty"`
	LeftWorklist bool             `json:"leftWorklist,omitempty"`
	LastSynced   time.Time        `json:"lastSynced,omitzero"`
}

// CachedReferral is a referral as downloaded: the FHIR JSON exactly as
// received, the parsed referral, its ETag and when it was fetched.
type CachedReferral struct {
	Referral triage.Referral
	// Raw is the A005 response body.
	Raw []byte
	// ETag is the weak ETag (W/"n") to send as If-Match.
	ETag string
	// FetchedAt is local time; ServerTime is the response's Date, the "as
	// of" time to show.
	FetchedAt  time.Time
	ServerTime time.Time
}

// CacheInfo summarises what is cached for one referral, without the bulky
// parts: enough for the engine to decide what to prefetch and for the
// worklist to show what is ready offline.
type CacheInfo struct {
	UBRN        string
	HasReferral bool
	Version     int
	ETag        string
	FetchedAt   time.Time
	Documents   []DocumentMeta
	Local       LocalState
}

// HasCRI reports whether the referral's CRI PDF is cached.
func (c CacheInfo) HasCRI() bool {
	return slices.ContainsFunc(c.Documents, func(d DocumentMeta) bool { return d.Kind == DocumentCRI })
}

// refInfo is the per-referral record sealed under the referral's data key.
type refInfo struct {
	UBRN        string         `json:"ubrn"`
	Created     time.Time      `json:"created"`
	HasReferral bool           `json:"hasReferral,omitempty"`
	Version     int            `json:"version,omitempty"`
	ETag        string         `json:"etag,omitempty"`
	FetchedAt   time.Time      `json:"fetchedAt,omitzero"`
	ServerTime  time.Time      `json:"serverTime,omitzero"`
	Docs        []DocumentMeta `json:"docs,omitempty"`
	Local       LocalState     `json:"local"`
	// Patient is the referral's PDS lookup, sealed with the rest of the
	// referral under its data key (so purging the referral shreds it).
	Patient *triage.PatientLookup `json:"patient,omitempty"`
}

// refRec is a loaded refs record: the referral's key, data key and info.
type refRec struct {
	key     []byte
	wrapped []byte
	seal    *sealer
	info    refInfo
}

func (s *Store) dataSealer(dataKey []byte) *sealer {
	se, _ := newSealer(dataKey, s.userDir, CacheSchemaVersion)
	return se
}

// decodeRef opens a refs value: unwrap the data key, then the info.
func (s *Store) decodeRef(k, v []byte) (*refRec, error) {
	return decodeRefWith(s.wrapSeal, s.userDir, k, v)
}

// decodeRefWith is decodeRef with the wrapping sealer and user given (for
// doctor, which has the keys but no Store).
func decodeRefWith(wrap *sealer, userDir string, k, v []byte) (*refRec, error) {
	if len(v) < 2 {
		return nil, damaged(bRefs, k, nil)
	}
	n := int(binary.BigEndian.Uint16(v))
	if len(v) < 2+n {
		return nil, damaged(bRefs, k, nil)
	}
	wrapped := v[2 : 2+n]
	dk, err := wrap.open(aadRefKey, k, wrapped)
	if err != nil {
		return nil, damaged(bRefs, k, err)
	}
	se, _ := newSealer(dk, userDir, CacheSchemaVersion)
	r := &refRec{key: bytes.Clone(k), wrapped: bytes.Clone(wrapped), seal: se}
	if err := r.seal.openJSON(aadRefInfo, k, v[2+n:], &r.info); err != nil {
		return nil, damaged(bRefs, k, err)
	}
	return r, nil
}

// loadRef returns the referral's record, creating it (with a fresh data
// key) when create is set. Without create, a missing record is
// ErrNotFound.
func (s *Store) loadRef(tx *bolt.Tx, ubrn string, create bool) (*refRec, error) {
	ubrn = triage.NormalizeUBRN(ubrn)
	if ubrn == "" {
		return nil, userError(triage.EINVALID, nil, errors.New("empty UBRN"), "No referral was named.")
	}
	k := refKey(s.keys.index, ubrn)
	if v := tx.Bucket([]byte(bRefs)).Get(k); v != nil {
		r, err := s.decodeRef(k, v)
		if err != nil {
			return nil, fmt.Errorf("referral record: %w", err)
		}
		return r, nil
	}
	if !create {
		return nil, errNotFound("referral")
	}
	dk := randomBytes(32)
	r := &refRec{key: k, wrapped: s.wrapSeal.seal(aadRefKey, k, dk), seal: s.dataSealer(dk),
		info: refInfo{UBRN: ubrn, Created: s.now()}}
	clear(dk)
	return r, nil
}

func (s *Store) saveRef(tx *bolt.Tx, r *refRec) error {
	js, err := json.Marshal(r.info)
	if err != nil {
		return fmt.Errorf("encode referral record: %w", err)
	}
	info := r.seal.seal(aadRefInfo, r.key, js)
	v := make([]byte, 0, 2+len(r.wrapped)+len(info))
	v = binary.BigEndian.AppendUint16(v, uint16(len(r.wrapped)))
	v = append(v, r.wrapped...)
	v = append(v, info...)
	return tx.Bucket([]byte(bRefs)).Put(r.key, v)
}

// PutReferral stores (replacing) a downloaded referral under a per-referral
// data key, and records its version, ETag and sync time. A read that e-RS
// answered no later than the cached one (its Date) but with a lower version
// is older news (a pull that crossed a write) and is not stored: the cache
// never goes back to a version e-RS has moved on from.
func (s *Store) PutReferral(ctx context.Context, cr CachedReferral) error {
	ubrn := triage.NormalizeUBRN(cr.Referral.UBRN)
	if cr.FetchedAt.IsZero() {
		cr.FetchedAt = s.now()
	}
	stale := false
	err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, ubrn, true)
		if err != nil {
			return err
		}
		if r.info.HasReferral && cr.Referral.Version < r.info.Version && !cr.ServerTime.IsZero() &&
			!r.info.ServerTime.IsZero() && !cr.ServerTime.After(r.info.ServerTime) {
			stale = true
			return nil
		}
		meta, err := json.Marshal(referralMeta{Referral: cr.Referral, ETag: cr.ETag, FetchedAt: cr.FetchedAt, ServerTime: cr.ServerTime})
		if err != nil {
			return fmt.Errorf("encode referral: %w", err)
		}
		val := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(meta)+len(cr.Raw)), uint32(len(meta)))
		val = append(append(val, meta...), cr.Raw...)
		if err := tx.Bucket([]byte(bReferrals)).Put(r.key, r.seal.seal(bReferrals, r.key, val)); err != nil {
			return err
		}
		r.info.HasReferral = true
		r.info.Version = cr.Referral.Version
		r.info.ETag = cr.ETag
		r.info.FetchedAt = cr.FetchedAt
		r.info.ServerTime = cr.ServerTime
		if cr.FetchedAt.After(r.info.Local.LastSynced) {
			r.info.Local.LastSynced = cr.FetchedAt
		}
		return s.saveRef(tx, r)
	})
	if err != nil {
		return fmt.Errorf("store referral: %w", err)
	}
	if !stale {
		s.emit(Change{Kind: ChangeReferral, UBRN: ubrn})
	}
	return nil
}

type referralMeta struct {
	Referral   triage.Referral `json:"referral"`
	ETag       string          `json:"etag,omitempty"`
	FetchedAt  time.Time       `json:"fetchedAt"`
	ServerTime time.Time       `json:"serverTime,omitzero"`
}

// Referral returns the cached referral. Errors: ErrNotFound, ErrCacheDamaged.
func (s *Store) Referral(ctx context.Context, ubrn string) (CachedReferral, error) {
	var out CachedReferral
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, ubrn, false)
		if err != nil {
			return err
		}
		v := tx.Bucket([]byte(bReferrals)).Get(r.key)
		if v == nil {
			return errNotFound("referral")
		}
		pt, err := r.seal.open(bReferrals, r.key, v)
		if err != nil {
			return damaged(bReferrals, r.key, err)
		}
		if len(pt) < 4 || int(binary.BigEndian.Uint32(pt)) > len(pt)-4 {
			return damaged(bReferrals, r.key, nil)
		}
		n := int(binary.BigEndian.Uint32(pt))
		var m referralMeta
		if err := json.Unmarshal(pt[4:4+n], &m); err != nil {
			return damaged(bReferrals, r.key, err)
		}
		out = CachedReferral{Referral: m.Referral, Raw: pt[4+n:], ETag: m.ETag, FetchedAt: m.FetchedAt, ServerTime: m.ServerTime}
		return nil
	})
	return out, err
}

// CachedReferrals summarises every referral with anything cached.
func (s *Store) CachedReferrals(ctx context.Context) ([]CacheInfo, error) {
	var out []CacheInfo
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		out = out[:0]
		var bad recordErrors
		err := tx.Bucket([]byte(bRefs)).ForEach(func(k, v []byte) error {
			r, err := s.decodeRef(k, v)
			if err != nil {
				bad = append(bad, damagedRecords(err)...)
				return nil
			}
			out = append(out, r.info.cacheInfo())
			return nil
		})
		if err == nil && len(bad) > 0 {
			return bad // dropped by cacheTx, then listed again without them
		}
		if err == nil {
			// The scan read the whole file: the process need not keep
			// counting its pages.
			releaseMapped(tx)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list cached referrals: %w", err)
	}
	slices.SortFunc(out, func(a, b CacheInfo) int { return strings.Compare(a.UBRN, b.UBRN) })
	return out, nil
}

func (i refInfo) cacheInfo() CacheInfo {
	return CacheInfo{UBRN: i.UBRN, HasReferral: i.HasReferral, Version: i.Version, ETag: i.ETag,
		FetchedAt: i.FetchedAt, Documents: slices.Clone(i.Docs), Local: i.Local}
}

// CacheInfo returns the summary of one referral. Errors: ErrNotFound.
func (s *Store) CacheInfo(ctx context.Context, ubrn string) (CacheInfo, error) {
	var out CacheInfo
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, ubrn, false)
		if err != nil {
			return err
		}
		out = r.info.cacheInfo()
		return nil
	})
	return out, err
}

// PutDocument stores (replacing) a document's bytes and metadata under the
// referral's data key. meta.Size is set from data.
func (s *Store) PutDocument(ctx context.Context, ubrn string, meta DocumentMeta, data []byte) error {
	if err := s.checkDocument(&meta, data); err != nil {
		return err
	}
	err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, ubrn, true)
		if err != nil {
			return err
		}
		dk := docKey(s.keys.index, r.key, meta.ID)
		if err := tx.Bucket([]byte(bDocs)).Put(dk, r.seal.seal(bDocs, dk, data)); err != nil {
			return err
		}
		r.info.Docs = slices.DeleteFunc(r.info.Docs, func(d DocumentMeta) bool { return d.ID == meta.ID })
		r.info.Docs = append(r.info.Docs, meta)
		return s.saveRef(tx, r)
	})
	if err != nil {
		return fmt.Errorf("store document: %w", err)
	}
	s.emit(Change{Kind: ChangeDocument, UBRN: triage.NormalizeUBRN(ubrn), DocumentID: meta.ID})
	return nil
}

// checkDocument refuses a document without an id or over MaxDocumentSize,
// and fills in its size and (when zero) the time it was fetched.
func (s *Store) checkDocument(meta *DocumentMeta, data []byte) error {
	if meta.ID == "" {
		return userError(triage.EINVALID, nil, errors.New("document without id"), "The document has no id and was not stored.")
	}
	if len(data) > MaxDocumentSize {
		return userError(triage.EINVALID, nil, fmt.Errorf("document of %d bytes", len(data)),
			fmt.Sprintf("This document is larger than %d MB and cannot be kept for offline reading. Open it online in e-RS.", MaxDocumentSize>>20))
	}
	meta.Size = int64(len(data))
	if meta.FetchedAt.IsZero() {
		meta.FetchedAt = s.now()
	}
	return nil
}

// Document returns a cached document and its metadata. The bytes are a
// fresh copy the caller owns. Errors: ErrNotFound, ErrCacheDamaged.
func (s *Store) Document(ctx context.Context, ubrn, id string) (DocumentMeta, []byte, error) {
	var meta DocumentMeta
	var data []byte
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, ubrn, false)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(r.info.Docs, func(d DocumentMeta) bool { return d.ID == id })
		if i < 0 {
			return errNotFound("document")
		}
		meta = r.info.Docs[i]
		dk := docKey(s.keys.index, r.key, id)
		v := tx.Bucket([]byte(bDocs)).Get(dk)
		if v == nil {
			return errNotFound("document")
		}
		if data, err = r.seal.open(bDocs, dk, v); err != nil {
			return damaged(bDocs, dk, err)
		}
		return nil
	})
	return meta, data, err
}

// Documents lists the cached documents of a referral (metadata only).
func (s *Store) Documents(ctx context.Context, ubrn string) ([]DocumentMeta, error) {
	info, err := s.CacheInfo(ctx, ubrn)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return info.Documents, err
}

// DeleteDocument removes one cached document. Deleting a missing document
// is not an error.
func (s *Store) DeleteDocument(ctx context.Context, ubrn, id string) error {
	err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, ubrn, false)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bDocs)).Delete(docKey(s.keys.index, r.key, id)); err != nil {
			return err
		}
		r.info.Docs = slices.DeleteFunc(r.info.Docs, func(d DocumentMeta) bool { return d.ID == id })
		return s.saveRef(tx, r)
	})
	if err != nil {
		return fmt.Errorf("delete document: %w", err)
	}
	s.emit(Change{Kind: ChangeDocument, UBRN: triage.NormalizeUBRN(ubrn), DocumentID: id})
	return nil
}

// LocalState returns the referral's local state (the zero value when none
// is stored).
func (s *Store) LocalState(ctx context.Context, ubrn string) (LocalState, error) {
	info, err := s.CacheInfo(ctx, ubrn)
	if errors.Is(err, ErrNotFound) {
		return LocalState{}, nil
	}
	return info.Local, err
}

// UpdateLocalState changes the referral's local state with fn in one
// transaction (fn's error aborts it).
func (s *Store) UpdateLocalState(ctx context.Context, ubrn string, fn func(*LocalState) error) error {
	err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, ubrn, true)
		if err != nil {
			return err
		}
		if err := fn(&r.info.Local); err != nil {
			return err
		}
		return s.saveRef(tx, r)
	})
	if err != nil {
		return fmt.Errorf("save local state: %w", err)
	}
	s.emit(Change{Kind: ChangeLocalState, UBRN: triage.NormalizeUBRN(ubrn)})
	return nil
}

// UpdatePatient changes the referral's cached PDS lookup with fn in one
// transaction (fn's error aborts it; fn gets the zero lookup when none is
// cached). What is stored is sanitized: a restricted patient's GP practice
// is never kept, and the lookup has no place for an address or contact
// details at all.
func (s *Store) UpdatePatient(ctx context.Context, ubrn string, fn func(*triage.PatientLookup) error) error {
	err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, ubrn, true)
		if err != nil {
			return err
		}
		var l triage.PatientLookup
		if r.info.Patient != nil {
			l = r.info.Patient.Sanitized()
		}
		if err := fn(&l); err != nil {
			return err
		}
		l = l.Sanitized()
		r.info.Patient = &l
		return s.saveRef(tx, r)
	})
	if err != nil {
		return fmt.Errorf("store patient details: %w", err)
	}
	s.emit(Change{Kind: ChangePatient, UBRN: triage.NormalizeUBRN(ubrn)})
	return nil
}

// Patient returns the referral's cached PDS lookup. Errors: ErrNotFound
// when the referral or its lookup is not cached, ErrCacheDamaged.
func (s *Store) Patient(ctx context.Context, ubrn string) (triage.PatientLookup, error) {
	var out triage.PatientLookup
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, ubrn, false)
		if err != nil {
			return err
		}
		if r.info.Patient == nil {
			return errNotFound("patient details")
		}
		out = r.info.Patient.Sanitized()
		return nil
	})
	return out, err
}

// PutReferenceData stores the A004 reference data, replacing the old copy.
func (s *Store) PutReferenceData(ctx context.Context, rd triage.ReferenceData) error {
	js, err := json.Marshal(rd)
	if err != nil {
		return fmt.Errorf("store reference data: %w", err)
	}
	k := []byte("current")
	err = s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bRefData)).Put(k, s.cacheSeal.seal(bRefData, k, js))
	})
	if err != nil {
		return fmt.Errorf("store reference data: %w", err)
	}
	s.emit(Change{Kind: ChangeReferenceData})
	return nil
}

// ReferenceData returns the stored reference data. Errors: ErrNotFound.
func (s *Store) ReferenceData(ctx context.Context) (triage.ReferenceData, error) {
	var rd triage.ReferenceData
	k := []byte("current")
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bRefData)).Get(k)
		if v == nil {
			return errNotFound("reference data")
		}
		rd = triage.ReferenceData{}
		if err := s.cacheSeal.openJSON(bRefData, k, v, &rd); err != nil {
			return damaged(bRefData, k, err)
		}
		return nil
	})
	return rd, err
}

// LocalStatuses returns each referral's local worklist status: the state
// of its latest outbox decision, or draft when only a draft exists.
func (s *Store) LocalStatuses(ctx context.Context) (map[string]triage.LocalStatus, error) {
	infos, err := s.CachedReferrals(ctx)
	if err != nil {
		return nil, err
	}
	return s.LocalStatusesOf(ctx, infos)
}

// LocalStatusesOf is LocalStatuses with the drafts taken from infos, as
// CachedReferrals returned them (a caller that also needs them decrypts
// every cached referral once, not twice).
func (s *Store) LocalStatusesOf(ctx context.Context, infos []CacheInfo) (map[string]triage.LocalStatus, error) {
	out := map[string]triage.LocalStatus{}
	for _, i := range infos {
		if i.Local.Draft != nil {
			out[i.UBRN] = triage.LocalDraft
		}
	}
	es, err := s.Entries(ctx, EntryFilter{})
	if err != nil {
		return nil, err
	}
	for _, e := range es { // oldest first, so the latest wins
		if e.ReplacedBy != "" {
			continue
		}
		if st := triage.LocalStatusOf(e.State); st != triage.LocalNone {
			out[e.UBRN] = st
		}
	}
	return out, nil
}
