package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestSealBindsBucketKeySchemaAndUser(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 32)
	se, err := newSealer(key, "user-a", 1)
	mustNoErr(t, err, "sealer")
	pt := []byte("Rapidly enlarging lesion")
	ct := se.seal("docs", []byte("k1"), pt)
	if bytes.Contains(ct, pt) {
		t.Fatal("plaintext visible in sealed value")
	}
	if len(ct) != len(pt)+sealOverhead {
		t.Errorf("overhead %d", len(ct)-len(pt))
	}
	got, err := se.open("docs", []byte("k1"), ct)
	mustNoErr(t, err, "open")
	if !bytes.Equal(got, pt) {
		t.Fatal("round trip")
	}
	// Sealing twice gives different bytes (random nonce).
	if bytes.Equal(ct, se.seal("docs", []byte("k1"), pt)) {
		t.Error("nonce reused")
	}
	otherUser, _ := newSealer(key, "user-b", 1)
	otherSchema, _ := newSealer(key, "user-a", 2)
	otherKey, _ := newSealer(bytes.Repeat([]byte{4}, 32), "user-a", 1)
	flipped := append([]byte{}, ct...)
	flipped[len(flipped)-1] ^= 0x80
	cases := []struct {
		name   string
		se     *sealer
		bucket string
		key    []byte
		ct     []byte
	}{
		{"other record key", se, "docs", []byte("k2"), ct},
		{"other bucket", se, "referrals", []byte("k1"), ct},
		{"other user", otherUser, "docs", []byte("k1"), ct},
		{"other schema version", otherSchema, "docs", []byte("k1"), ct},
		{"other master key", otherKey, "docs", []byte("k1"), ct},
		{"bit flipped", se, "docs", []byte("k1"), flipped},
		{"truncated", se, "docs", []byte("k1"), ct[:10]},
		{"empty", se, "docs", []byte("k1"), nil},
		// Length prefixes keep bucket and key apart: "do"+"csk1" is not "docs"+"k1".
		{"shifted boundary", se, "do", []byte("csk1"), ct},
	}
	for _, c := range cases {
		if _, err := c.se.open(c.bucket, c.key, c.ct); !errors.Is(err, errSealBroken) {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
}

func TestDerivedKeysAndRecordKeys(t *testing.T) {
	ks, err := deriveKeys(bytes.Repeat([]byte{9}, 32))
	mustNoErr(t, err, "derive")
	all := [][]byte{ks.outbox, ks.cache, ks.wrap, ks.index}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if bytes.Equal(all[i], all[j]) {
				t.Errorf("derived keys %d and %d are equal", i, j)
			}
		}
	}
	if _, err := deriveKeys([]byte("short")); err == nil {
		t.Error("short master key accepted")
	}
	a := refKey(ks.index, "000000070000")
	if !bytes.Equal(a, refKey(ks.index, "0000 0007 0000")) {
		t.Error("spaces change the key")
	}
	if bytes.Contains(a, []byte("070000")) || len(a) != refKeySize {
		t.Errorf("record key %x", a)
	}
	ks2, _ := deriveKeys(bytes.Repeat([]byte{8}, 32))
	if bytes.Equal(a, refKey(ks2.index, "000000070000")) {
		t.Error("record key does not depend on the master key")
	}
	if validID("") || validID("a/b") || validID(string(make([]byte, 65))) || !validID("01HZX-abc_9") {
		t.Error("validID")
	}
}

// TestRecordKeyOfUBRNUnchanged pins the record key of a UBRN to the HMAC of
// its twelve digits, the form caches were written with, however the UBRN
// is written: existing caches keep working.
func TestRecordKeyOfUBRNUnchanged(t *testing.T) {
	ks, err := deriveKeys(bytes.Repeat([]byte{9}, 32))
	mustNoErr(t, err, "derive")
	m := hmac.New(sha256.New, ks.index)
	m.Write([]byte("ubrn\x00100000000001"))
	want := m.Sum(nil)[:refKeySize]
	for _, u := range []string{"100000000001", "1000 0000 0001", "1000-0000-0001", "1000\u00a00000\u00a00001", "1000\t0000\t0001"} {
		if got := refKey(ks.index, u); !bytes.Equal(got, want) {
			t.Errorf("refKey(%q) = %x, want %x", u, got, want)
		}
	}
}
