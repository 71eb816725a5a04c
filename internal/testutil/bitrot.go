package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// StoredValue reads bucket/key from a closed bbolt file; an empty key means
// the bucket's first record. It returns the key and the value.
func StoredValue(t testing.TB, path, bucket string, key []byte) ([]byte, []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s: %v", filepath.Base(path), err)
	}
	defer db.Close()
	var k, v []byte
	_ = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		if len(key) == 0 {
			key, v = b.Cursor().First()
		} else {
			v = b.Get(key)
		}
		k, v = bytes.Clone(key), bytes.Clone(v)
		return nil
	})
	if v == nil {
		t.Fatalf("no %s record %x in %s", bucket, key, filepath.Base(path))
	}
	return k, v
}

// FlipStoredValue flips one byte in the middle of bucket/key's value (an
// empty key: the bucket's first record) in every copy of it the closed
// bbolt file holds, as bit rot inside one record would, and returns the
// key and the damaged value.
func FlipStoredValue(t testing.TB, path, bucket string, key []byte) ([]byte, []byte) {
	t.Helper()
	key, v := StoredValue(t, path, bucket, key)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for at := 0; ; {
		i := bytes.Index(b[at:], v)
		if i < 0 {
			break
		}
		b[at+i+len(v)/2] ^= 0x20
		at += i + len(v)
		n++
	}
	if n == 0 {
		t.Fatalf("the %s record is not in %s", bucket, filepath.Base(path))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(v)
	bad[len(v)/2] ^= 0x20
	return key, bad
}
