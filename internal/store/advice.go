package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Advice and Guidance in the encrypted cache: the A&G worklist (A023), and
// per request its summary (A024, with version and ETag), its conversation
// (A025), the files of its messages and its overview PDF (A043). Every
// value is sealed under the cache key with associated data binding the
// bucket and record key, like the worklist and reference data; record keys
// are HMACs of the UBRN under the index key, in a key space of their own
// (an A&G request and the referral it was converted to share a UBRN). A
// record that fails authentication reads as not cached, so the next pull
// downloads it again. The buckets are created on first write: cache.db's
// schema is unchanged.

// Bucket names of the Advice and Guidance cache. None carries patient data.
const (
	bAdviceLists = "advice-worklists" // "current" -> sealed AdviceWorklistSnapshot
	bAdvice      = "advice"           // adviceKey -> sealed adviceRecord
	bAdviceDocs  = "advice-docs"      // adviceKey ‖ docHMAC -> sealed document bytes
)

// AdviceOverviewID is the document id of a request's overview PDF (A043).
const AdviceOverviewID = "overview"

// DocumentAdviceOverview is the overview PDF of an A&G request (A043).
const DocumentAdviceOverview DocumentKind = "advice-overview"

var adviceListKey = []byte("current")

// adviceKey is the record key of an A&G request.
func adviceKey(indexKey []byte, ubrn string) []byte {
	m := hmac.New(sha256.New, indexKey)
	m.Write([]byte("advice\x00"))
	m.Write([]byte(triage.NormalizeUBRN(ubrn)))
	return m.Sum(nil)[:refKeySize]
}

// AdviceWorklistSnapshot is one pulled A&G worklist.
type AdviceWorklistSnapshot struct {
	// AsOf is the server's Date on the A023 response.
	AsOf time.Time `json:"asOf"`
	// StoredAt is local time when it was stored (set by PutAdviceWorklist).
	StoredAt time.Time           `json:"storedAt"`
	Items    []triage.AdviceItem `json:"items"`
}

// CachedAdvice is what is cached about one A&G request: the summary and
// conversation as e-RS sent them (parsed and raw), the request's ETag, and
// the documents kept for offline reading.
type CachedAdvice struct {
	UBRN    string                `json:"ubrn"`
	Request *triage.AdviceRequest `json:"request,omitempty"`
	// RequestRaw is the A024 body; ETag its ETag (W/"n").
	RequestRaw []byte `json:"requestRaw,omitempty"`
	ETag       string `json:"etag,omitempty"`
	// Conversation is the A025 result, at Conversation.Version;
	// ConversationRaw its body.
	Conversation    *triage.AdviceConversation `json:"conversation,omitempty"`
	ConversationRaw []byte                     `json:"conversationRaw,omitempty"`
	// FetchedAt is local time of the last read; ServerTime its Date.
	FetchedAt  time.Time      `json:"fetchedAt,omitzero"`
	ServerTime time.Time      `json:"serverTime,omitzero"`
	Documents  []DocumentMeta `json:"documents,omitempty"`
	// Draft is the clinician's unsent reply, kept across restarts.
	Draft *triage.AdviceReply `json:"draft,omitempty"`
}

// Version is the version of the cached request (0 when none is cached).
func (c CachedAdvice) Version() int {
	if c.Request == nil {
		return 0
	}
	return c.Request.Version
}

// Complete reports whether the request and its conversation are cached at
// the same version: what the engine needs before it stops re-reading.
func (c CachedAdvice) Complete() bool {
	return c.Request != nil && c.Conversation != nil && c.Conversation.Version == c.Request.Version
}

// HasDocument reports whether the document with the id is cached.
func (c CachedAdvice) HasDocument(id string) bool {
	return slices.ContainsFunc(c.Documents, func(d DocumentMeta) bool { return d.ID == id })
}

func (s *Store) adviceBucket(tx *bolt.Tx, name string) (*bolt.Bucket, error) {
	if !tx.Writable() {
		return tx.Bucket([]byte(name)), nil
	}
	b, err := tx.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", name, err)
	}
	return b, nil
}

// PutAdviceWorklist replaces the stored A&G worklist.
func (s *Store) PutAdviceWorklist(ctx context.Context, snap AdviceWorklistSnapshot) error {
	snap.StoredAt = s.now()
	js, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("store advice worklist: %w", err)
	}
	err = s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		b, err := s.adviceBucket(tx, bAdviceLists)
		if err != nil {
			return err
		}
		return b.Put(adviceListKey, s.cacheSeal.seal(bAdviceLists, adviceListKey, js))
	})
	if err != nil {
		return fmt.Errorf("store advice worklist: %w", err)
	}
	s.emit(Change{Kind: ChangeAdvice})
	return nil
}

// AdviceWorklist returns the stored A&G worklist. Errors: ErrNotFound when
// none was stored (or it was damaged: it is pulled again).
func (s *Store) AdviceWorklist(ctx context.Context) (AdviceWorklistSnapshot, error) {
	var snap AdviceWorklistSnapshot
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		snap = AdviceWorklistSnapshot{}
		return s.openAdvice(tx, bAdviceLists, adviceListKey, &snap, "advice worklist")
	})
	return snap, err
}

// openAdvice opens one sealed JSON value of the A&G cache into dst. A
// missing or damaged value is ErrNotFound (a damaged one is logged and
// downloaded again by the next pull).
func (s *Store) openAdvice(tx *bolt.Tx, bucket string, k []byte, dst any, what string) error {
	b := tx.Bucket([]byte(bucket))
	if b == nil {
		return errNotFound(what)
	}
	v := b.Get(k)
	if v == nil {
		return errNotFound(what)
	}
	if err := s.cacheSeal.openJSON(bucket, k, v, dst); err != nil {
		s.log.Error("a cached advice and guidance record failed authentication; it will be downloaded again", "bucket", bucket)
		return errNotFound(what)
	}
	return nil
}

// UpdateAdvice changes the cached record of one A&G request with fn in one
// transaction (fn gets the zero record, with UBRN set, when none is
// cached; its error aborts).
func (s *Store) UpdateAdvice(ctx context.Context, ubrn string, fn func(*CachedAdvice) error) error {
	ubrn = triage.NormalizeUBRN(ubrn)
	if ubrn == "" {
		return userError(triage.EINVALID, nil, errors.New("empty UBRN"), "No advice and guidance request was named.")
	}
	k := adviceKey(s.keys.index, ubrn)
	err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		var ca CachedAdvice
		if err := s.openAdvice(tx, bAdvice, k, &ca, "advice request"); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		ca.UBRN = ubrn
		if err := fn(&ca); err != nil {
			return err
		}
		js, err := json.Marshal(ca)
		if err != nil {
			return fmt.Errorf("encode advice request: %w", err)
		}
		b, err := s.adviceBucket(tx, bAdvice)
		if err != nil {
			return err
		}
		return b.Put(k, s.cacheSeal.seal(bAdvice, k, js))
	})
	if err != nil {
		return fmt.Errorf("store advice request: %w", err)
	}
	s.emit(Change{Kind: ChangeAdvice, UBRN: ubrn})
	return nil
}

// PutAdviceRequest stores a request read with A024 (or returned by A026),
// with its raw body and ETag. A read with a lower version than the cached
// one is older news and is not stored.
func (s *Store) PutAdviceRequest(ctx context.Context, r triage.AdviceRequest, raw []byte, etag string, serverTime time.Time) error {
	return s.UpdateAdvice(ctx, r.UBRN, func(ca *CachedAdvice) error {
		if ca.Request != nil && r.Version < ca.Request.Version {
			return nil
		}
		ca.Request, ca.RequestRaw, ca.ETag = &r, raw, etag
		ca.FetchedAt, ca.ServerTime = s.now(), serverTime
		return nil
	})
}

// PutAdviceConversation stores a conversation read with A025. One older
// than the cached one is not stored.
func (s *Store) PutAdviceConversation(ctx context.Context, c triage.AdviceConversation, raw []byte) error {
	return s.UpdateAdvice(ctx, c.UBRN, func(ca *CachedAdvice) error {
		if ca.Conversation != nil && c.Version < ca.Conversation.Version {
			return nil
		}
		ca.Conversation, ca.ConversationRaw = &c, raw
		return nil
	})
}

// Advice returns what is cached about one A&G request. Errors: ErrNotFound.
func (s *Store) Advice(ctx context.Context, ubrn string) (CachedAdvice, error) {
	var ca CachedAdvice
	k := adviceKey(s.keys.index, ubrn)
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		ca = CachedAdvice{}
		return s.openAdvice(tx, bAdvice, k, &ca, "advice request")
	})
	return ca, err
}

// CachedAdviceRequests returns every cached A&G request, by UBRN.
func (s *Store) CachedAdviceRequests(ctx context.Context) ([]CachedAdvice, error) {
	var out []CachedAdvice
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		out = out[:0]
		b := tx.Bucket([]byte(bAdvice))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var ca CachedAdvice
			if err := s.cacheSeal.openJSON(bAdvice, k, v, &ca); err != nil {
				s.log.Error("a cached advice and guidance record failed authentication; it will be downloaded again")
				return nil
			}
			out = append(out, ca)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list cached advice requests: %w", err)
	}
	slices.SortFunc(out, func(a, b CachedAdvice) int { return strings.Compare(a.UBRN, b.UBRN) })
	return out, nil
}

// PutAdviceDocument stores a file of an A&G request (an attachment of one
// of its messages, or the overview PDF) for offline reading. meta.Size is
// set from data.
func (s *Store) PutAdviceDocument(ctx context.Context, ubrn string, meta DocumentMeta, data []byte) error {
	if err := s.checkDocument(&meta, data); err != nil {
		return err
	}
	ak := adviceKey(s.keys.index, ubrn)
	dk := docKey(s.keys.index, ak, meta.ID)
	err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		b, err := s.adviceBucket(tx, bAdviceDocs)
		if err != nil {
			return err
		}
		return b.Put(dk, s.cacheSeal.seal(bAdviceDocs, dk, data))
	})
	if err != nil {
		return fmt.Errorf("store advice document: %w", err)
	}
	return s.UpdateAdvice(ctx, ubrn, func(ca *CachedAdvice) error {
		ca.Documents = slices.DeleteFunc(ca.Documents, func(d DocumentMeta) bool { return d.ID == meta.ID })
		ca.Documents = append(ca.Documents, meta)
		return nil
	})
}

// AdviceDocument returns a cached file of an A&G request and its metadata.
// Errors: ErrNotFound.
func (s *Store) AdviceDocument(ctx context.Context, ubrn, id string) (DocumentMeta, []byte, error) {
	ca, err := s.Advice(ctx, ubrn)
	if err != nil {
		return DocumentMeta{}, nil, err
	}
	i := slices.IndexFunc(ca.Documents, func(d DocumentMeta) bool { return d.ID == id })
	if i < 0 {
		return DocumentMeta{}, nil, errNotFound("document")
	}
	ak := adviceKey(s.keys.index, ubrn)
	dk := docKey(s.keys.index, ak, id)
	var data []byte
	err = s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bAdviceDocs))
		if b == nil {
			return errNotFound("document")
		}
		v := b.Get(dk)
		if v == nil {
			return errNotFound("document")
		}
		pt, err := s.cacheSeal.open(bAdviceDocs, dk, v)
		if err != nil {
			s.log.Error("a cached advice and guidance file failed authentication; it will be downloaded again")
			return errNotFound("document")
		}
		data = pt
		return nil
	})
	return ca.Documents[i], data, err
}
