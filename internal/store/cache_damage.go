package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// dropCacheRecords removes damaged cache records, with what depends on them,
// so they are downloaded again: a damaged referral record takes its data
// key, so its referral and documents go too; a damaged referral or
// document is removed and its referral record updated to say it is no
// longer cached. It returns the UBRNs concerned ("" for a record that did
// not say whose it was).
func (s *Store) dropCacheRecords(ctx context.Context, recs []*recordError) ([]string, error) {
	var ubrns []string
	add := func(u string) {
		if !slices.Contains(ubrns, u) {
			ubrns = append(ubrns, u)
		}
	}
	err := s.cacheTxOnce(ctx, true, func(tx *bolt.Tx) error {
		ubrns = ubrns[:0]
		for _, r := range recs {
			switch r.bucket {
			case bRefs:
				if err := purgeRefTx(tx, r.key); err != nil {
					return err
				}
				add("")
			case bReferrals:
				if err := tx.Bucket([]byte(bReferrals)).Delete(r.key); err != nil {
					return err
				}
				u, err := s.updateRef(tx, r.key, func(i *refInfo) {
					i.HasReferral, i.Version, i.ETag = false, 0, ""
				})
				if err != nil {
					return err
				}
				add(u)
			case bDocs:
				if err := tx.Bucket([]byte(bDocs)).Delete(r.key); err != nil {
					return err
				}
				if len(r.key) < refKeySize {
					add("")
					continue
				}
				ref := r.key[:refKeySize]
				u, err := s.updateRef(tx, ref, func(i *refInfo) {
					i.Docs = slices.DeleteFunc(i.Docs, func(d DocumentMeta) bool {
						return bytes.Equal(docKey(s.keys.index, ref, d.ID), r.key)
					})
				})
				if err != nil {
					return err
				}
				add(u)
			case bWorklists:
				if err := deleteWorklistTx(tx, r.key); err != nil {
					return err
				}
				add("")
			case bRefData:
				if err := tx.Bucket([]byte(r.bucket)).Delete(r.key); err != nil {
					return err
				}
				add("")
			case bMeta:
				if bytes.Equal(r.key, mLastSync) {
					if err := tx.Bucket([]byte(bMeta)).Delete(r.key); err != nil {
						return err
					}
					add("")
				}
			}
		}
		return nil
	})
	return ubrns, err
}

// updateRef changes a referral record's info with fn and returns its UBRN;
// a referral record that is itself damaged is purged whole ("").
func (s *Store) updateRef(tx *bolt.Tx, k []byte, fn func(*refInfo)) (string, error) {
	v := tx.Bucket([]byte(bRefs)).Get(k)
	if v == nil {
		return "", nil
	}
	r, err := s.decodeRef(k, v)
	if err != nil {
		return "", purgeRefTx(tx, k)
	}
	fn(&r.info)
	return r.info.UBRN, s.saveRef(tx, r)
}

// cacheReader checks cache records with the keys only (for doctor).
type cacheReader struct {
	cache, wrap *sealer
	userDir     string
}

func (ks keyset) cacheReader(userDir string) cacheReader {
	c, _ := newSealer(ks.cache, userDir, CacheSchemaVersion)
	w, _ := newSealer(ks.wrap, userDir, CacheSchemaVersion)
	return cacheReader{cache: c, wrap: w, userDir: userDir}
}

// scan returns the cache's records that fail authentication. A
// referral's data and documents are checked under its data key; those of a
// damaged referral record are lost with it and not listed again.
func (c cacheReader) scan(tx *bolt.Tx) recordErrors {
	var bad recordErrors
	refs := map[string]*sealer{}
	each := func(bucket string, fn func(k, v []byte) bool) {
		if b := tx.Bucket([]byte(bucket)); b != nil {
			_ = b.ForEach(func(k, v []byte) error {
				if !fn(k, v) {
					bad = append(bad, &recordError{bucket: bucket, key: bytes.Clone(k), err: errSealBroken})
				}
				return nil
			})
		}
	}
	each(bRefs, func(k, v []byte) bool {
		r, err := decodeRefWith(c.wrap, c.userDir, k, v)
		if err == nil {
			refs[string(k)] = r.seal
		}
		return err == nil
	})
	each(bReferrals, func(k, v []byte) bool {
		se := refs[string(k)]
		if se == nil {
			return true
		}
		_, err := se.open(bReferrals, k, v)
		return err == nil
	})
	each(bDocs, func(k, v []byte) bool {
		if len(k) < refKeySize || refs[string(k[:refKeySize])] == nil {
			return true
		}
		_, err := refs[string(k[:refKeySize])].open(bDocs, k, v)
		return err == nil
	})
	each(bWorklists, func(k, v []byte) bool {
		pt, err := c.cache.open(bWorklists, k, v)
		var snap WorklistSnapshot
		return err == nil && decodeSnapshot(pt, &snap) == nil
	})
	each(bRefData, func(k, v []byte) bool {
		_, err := c.cache.open(bRefData, k, v)
		return err == nil
	})
	if m := tx.Bucket([]byte(bMeta)); m != nil {
		if v := m.Get(mLastSync); v != nil {
			if _, err := c.cache.open(bMeta, mLastSync, v); err != nil {
				bad = append(bad, &recordError{bucket: bMeta, key: bytes.Clone(mLastSync), err: err})
			}
		}
	}
	return bad
}

// CheckCache authenticates every record of the cache (without returning
// any): damaged ones are dropped, with what depends on them, and
// ChangeCacheRecordsDropped is emitted so the engine downloads them again.
// The engine runs it once per run, before its first pull, so a damaged
// record is never left for a later reader to trip over. It returns how
// many records were dropped.
func (s *Store) CheckCache(ctx context.Context) (int, error) {
	dropped := 0
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		bad := cacheReader{cache: s.cacheSeal, wrap: s.wrapSeal, userDir: s.userDir}.scan(tx)
		if len(bad) > 0 {
			dropped += len(bad)
			return bad // dropped by cacheTx, then checked again
		}
		return nil
	})
	if err != nil {
		return dropped, fmt.Errorf("check cache: %w", err)
	}
	return dropped, nil
}
