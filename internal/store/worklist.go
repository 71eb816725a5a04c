package store

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// WorklistSnapshot is one pulled worklist with the time it describes.
type WorklistSnapshot struct {
	List triage.ListType `json:"list"`
	// AsOf is the server's Date on the A008 response: what "data as of"
	// shows.
	AsOf time.Time `json:"asOf"`
	// StoredAt is local time when it was stored (set by PutWorklist).
	StoredAt time.Time             `json:"storedAt"`
	Items    []triage.WorklistItem `json:"items"`
}

// PutWorklist replaces the stored snapshot of snap.List and records a
// successful sync. Errors: EINVALID for an unnamed list.
func (s *Store) PutWorklist(ctx context.Context, snap WorklistSnapshot) error {
	if snap.List == "" {
		return userError(triage.EINVALID, nil, errors.New("worklist without list type"), "The worklist has no type and was not stored.")
	}
	snap.StoredAt = s.now()
	// Snapshots are gob-encoded: a 10,000-item worklist decodes several
	// times faster than from JSON, and the list opens at start-up.
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(snap); err != nil {
		return fmt.Errorf("store worklist: %w", err)
	}
	js := buf.Bytes()
	k := []byte(snap.List)
	err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte(bWorklists)).Put(k, s.cacheSeal.seal(bWorklists, k, js)); err != nil {
			return err
		}
		ts, _ := snap.StoredAt.MarshalBinary()
		if err := tx.Bucket([]byte(bMeta)).Put(mLastSync, s.cacheSeal.seal(bMeta, mLastSync, ts)); err != nil {
			return err
		}
		mk := worklistTimesKey(snap.List)
		times, _ := json.Marshal(worklistTimes{AsOf: snap.AsOf, StoredAt: snap.StoredAt})
		return tx.Bucket([]byte(bMeta)).Put(mk, s.cacheSeal.seal(bMeta, mk, times))
	})
	if err != nil {
		return fmt.Errorf("store worklist: %w", err)
	}
	s.emit(Change{Kind: ChangeWorklist, List: snap.List})
	return nil
}

// Worklist returns the stored snapshot of a list. Errors: ErrNotFound when
// none was stored, ErrCacheDamaged.
func (s *Store) Worklist(ctx context.Context, list triage.ListType) (WorklistSnapshot, error) {
	var snap WorklistSnapshot
	k := []byte(list)
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bWorklists)).Get(k)
		if v == nil {
			return errNotFound("worklist")
		}
		pt, err := s.cacheSeal.open(bWorklists, k, v)
		if err != nil {
			return damaged(bWorklists, k, err)
		}
		snap = WorklistSnapshot{}
		if err := decodeSnapshot(pt, &snap); err != nil {
			return damaged(bWorklists, k, err)
		}
		return nil
	})
	return snap, err
}

// worklistTimes is when a stored worklist snapshot was pulled, kept beside
// it so the time can be read without decoding the whole list.
type worklistTimes struct {
	AsOf     time.Time `json:"asOf"`
	StoredAt time.Time `json:"storedAt"`
}

func worklistTimesKey(list triage.ListType) []byte { return []byte("worklist-times/" + string(list)) }

// WorklistTimes returns the AsOf and StoredAt of the stored snapshot of a
// list without reading its items. Where the times kept beside it are
// missing (a cache written before they were kept) or fail to open, the
// snapshot itself is read. Errors: ErrNotFound when none was stored,
// ErrCacheDamaged.
func (s *Store) WorklistTimes(ctx context.Context, list triage.ListType) (asOf, storedAt time.Time, err error) {
	var t worklistTimes
	found := false
	k := worklistTimesKey(list)
	err = s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(bWorklists)).Get([]byte(list)) == nil {
			return errNotFound("worklist")
		}
		v := tx.Bucket([]byte(bMeta)).Get(k)
		if v == nil {
			return nil
		}
		if pt, err := s.cacheSeal.open(bMeta, k, v); err == nil && json.Unmarshal(pt, &t) == nil {
			found = true
		}
		return nil
	})
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("read the worklist's time: %w", err)
	}
	if !found {
		snap, err := s.Worklist(ctx, list)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("read the worklist's time: %w", err)
		}
		return snap.AsOf, snap.StoredAt, nil
	}
	return t.AsOf, t.StoredAt, nil
}

// deleteWorklistTx removes the stored snapshot under key k (a list type)
// and the times kept beside it.
func deleteWorklistTx(tx *bolt.Tx, k []byte) error {
	if err := tx.Bucket([]byte(bWorklists)).Delete(k); err != nil {
		return err
	}
	return tx.Bucket([]byte(bMeta)).Delete(worklistTimesKey(triage.ListType(k)))
}

func decodeSnapshot(b []byte, snap *WorklistSnapshot) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(snap); err != nil {
		return errors.Join(errSealBroken, err)
	}
	return nil
}

// LastSync returns when a worklist was last stored (zero if never).
func (s *Store) LastSync(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bMeta)).Get(mLastSync)
		if v == nil {
			return nil
		}
		pt, err := s.cacheSeal.open(bMeta, mLastSync, v)
		if err != nil {
			return damaged(bMeta, mLastSync, err)
		}
		if err := t.UnmarshalBinary(pt); err != nil {
			return damaged(bMeta, mLastSync, err)
		}
		return nil
	})
	return t, err
}
