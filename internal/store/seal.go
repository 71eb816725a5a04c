package store

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// sealVersion is the first byte of every sealed value: the envelope format.
const sealVersion byte = 1

// sealOverhead is how many bytes sealing adds to a value.
const sealOverhead = 1 + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// errSealBroken means a sealed value failed authentication: it was changed,
// moved to another record or file, or sealed under another key.
var errSealBroken = errors.New("sealed value failed authentication")

// sealer seals values with XChaCha20-Poly1305 (random 24-byte nonces), with
// associated data binding bucket, key, schema version and user.
type sealer struct {
	aead   cipher.AEAD
	user   string
	schema uint32
}

func newSealer(key []byte, user string, schema uint32) (*sealer, error) {
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	return &sealer{aead: a, user: user, schema: schema}, nil
}

// aad is the associated data: a format tag, then length-prefixed bucket,
// key and user, and the schema version, so no two records share it.
func aad(bucket string, key []byte, schema uint32, user string) []byte {
	b := make([]byte, 0, 16+len(bucket)+len(key)+len(user))
	b = append(b, "TDS1"...)
	b = binary.AppendUvarint(b, uint64(len(bucket)))
	b = append(b, bucket...)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.BigEndian.AppendUint32(b, schema)
	b = binary.AppendUvarint(b, uint64(len(user)))
	b = append(b, user...)
	return b
}

// seal encrypts pt for bucket/key. It never fails: the nonce comes from
// crypto/rand, which panics only if the OS has no randomness at all.
func (s *sealer) seal(bucket string, key, pt []byte) []byte {
	out := make([]byte, 1+chacha20poly1305.NonceSizeX, sealOverhead+len(pt))
	out[0] = sealVersion
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		panic("store: no randomness for nonce: " + err.Error())
	}
	return s.aead.Seal(out, out[1:], pt, aad(bucket, key, s.schema, s.user))
}

// open authenticates and decrypts a sealed value. It returns errSealBroken
// for anything that does not authenticate.
func (s *sealer) open(bucket string, key, sealed []byte) ([]byte, error) {
	if len(sealed) < sealOverhead || sealed[0] != sealVersion {
		return nil, errSealBroken
	}
	nonce := sealed[1 : 1+chacha20poly1305.NonceSizeX]
	pt, err := s.aead.Open(nil, nonce, sealed[1+chacha20poly1305.NonceSizeX:], aad(bucket, key, s.schema, s.user))
	if err != nil {
		return nil, errSealBroken
	}
	return pt, nil
}

// openJSON authenticates and decrypts a sealed value and decodes its JSON
// into dst. It returns errSealBroken for a value that does not
// authenticate, or the decoding error.
func (s *sealer) openJSON(bucket string, key, sealed []byte, dst any) error {
	pt, err := s.open(bucket, key, sealed)
	if err != nil {
		return err
	}
	return json.Unmarshal(pt, dst)
}

// keyset holds the keys derived from a user's master key with HKDF-SHA256:
// one per purpose, so a key is never used for two things.
type keyset struct {
	outbox []byte // seals outbox.db values
	cache  []byte // seals cache.db values that are not per-referral
	wrap   []byte // seals the per-referral data keys
	index  []byte // HMAC key for record keys derived from UBRNs
}

func deriveKeys(master []byte) (keyset, error) {
	if len(master) != MasterKeySize {
		return keyset{}, fmt.Errorf("master key must be %d bytes, got %d", MasterKeySize, len(master))
	}
	derive := func(label string) ([]byte, error) {
		k := make([]byte, 32)
		if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte("triagedesk "+label)), k); err != nil {
			return nil, fmt.Errorf("derive %s key: %w", label, err)
		}
		return k, nil
	}
	var ks keyset
	var err error
	for _, p := range []struct {
		dst   *[]byte
		label string
	}{{&ks.outbox, "outbox v1"}, {&ks.cache, "cache v1"}, {&ks.wrap, "wrap v1"}, {&ks.index, "index v1"}} {
		if *p.dst, err = derive(p.label); err != nil {
			return keyset{}, err
		}
	}
	return ks, nil
}

// refKeySize is the length of a referral's record key.
const refKeySize = 16

// refKey is the record key of a referral: a truncated HMAC-SHA256 of its
// canonical UBRN (triage.NormalizeUBRN: the twelve digits) under the index key. It reveals nothing about the
// UBRN without the master key.
func refKey(indexKey []byte, ubrn string) []byte {
	m := hmac.New(sha256.New, indexKey)
	m.Write([]byte("ubrn\x00"))
	m.Write([]byte(triage.NormalizeUBRN(ubrn)))
	return m.Sum(nil)[:refKeySize]
}

// docKey is the record key of a document: the referral's key followed by a
// truncated HMAC of the document id.
func docKey(indexKey, ref []byte, docID string) []byte {
	m := hmac.New(sha256.New, indexKey)
	m.Write([]byte("doc\x00"))
	m.Write([]byte(docID))
	return append(append(make([]byte, 0, 2*refKeySize), ref...), m.Sum(nil)[:refKeySize]...)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("store: no randomness: " + err.Error())
	}
	return b
}

// newID returns a time-ordered random id: 6 bytes of Unix milliseconds and
// 10 random bytes, in hex.
func newID(now time.Time) string {
	b := make([]byte, 16)
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	copy(b[6:], randomBytes(10))
	return hex.EncodeToString(b)
}

// validID reports whether id is safe as a record key: 1–64 characters of
// letters, digits, '-' and '_'.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
