package erssandbox

import (
	"crypto/rand"
	"net/http"
	"sync"
	"time"
)

// downloadPath is where the download host serves files.
const downloadPath = "/objectstore/"

// download is a file waiting behind a single-use, short-lived URL.
type download struct {
	data        []byte
	contentType string
	fileName    string
	expires     time.Time
}

// downloadStore stands in for the temporary object-store URLs A042 redirects
// to: each token works once, until it expires.
type downloadStore struct {
	mu    sync.Mutex
	items map[string]download
	now   func() time.Time
	ttl   time.Duration
}

func newDownloadStore(now func() time.Time, ttl time.Duration) *downloadStore {
	return &downloadStore{items: map[string]download{}, now: now, ttl: ttl}
}

func (d *downloadStore) add(dl download) string {
	tok := rand.Text()
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for k, v := range d.items { // drop expired ones
		if now.After(v.expires) {
			delete(d.items, k)
		}
	}
	dl.expires = now.Add(d.ttl)
	d.items[tok] = dl
	return tok
}

// take returns the download and forgets it; ok is false for an unknown,
// used or expired token.
func (d *downloadStore) take(tok string) (download, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dl, ok := d.items[tok]
	delete(d.items, tok)
	if !ok || d.now().After(dl.expires) {
		return download{}, false
	}
	return dl, true
}

// downloadRoutes serve the second listener. Like a pre-signed object-store
// URL, a request carrying an Authorization header is refused (a client that
// forwards its bearer token across hosts is caught here).
func (s *Sandbox) downloadRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+downloadPath+"{token}", func(w http.ResponseWriter, r *http.Request) {
		infoOf(r).op = "download"
		s.stats.request("download")
		if r.Header.Get("Authorization") != "" {
			s.stats.downloadAuth()
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("InvalidArgument: Only one auth mechanism allowed; the URL is already signed, so do not send an Authorization header."))
			return
		}
		dl, ok := s.downloads.take(r.PathValue("token"))
		if !ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("AccessDenied: Request has expired or the URL was already used. Request the attachment again."))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		serveFile(w, dl.data, dl.contentType, dl.fileName)
	})
	return mux
}
