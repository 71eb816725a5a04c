package document

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/triagedesk/triagedesk/internal/defaults"
)

// Defaults for Options.
const (
	DefaultMaxPages     = 5000      // PDFs with more pages are refused (KindTooLarge)
	DefaultMaxFileBytes = 256 << 20 // larger files are refused
	// DefaultCacheBytes holds what a clinician scrolls back to: about 8
	// A4 pages at the width a 1600-pixel window gives the viewer (1.8 MB
	// each), beyond the pages in view and two either side that the viewer
	// itself keeps, so scrolling back ten pages draws nothing again. Page
	// 1 of the neighbouring referrals, drawn ahead for "next", is held by
	// the vetting screen, not here (closing a document drops its pages).
	// The cache is live heap, which the app's soft memory limit
	// (internal/memlimit) bounds with everything else: at 192 MB, paging
	// through a 50-page letter kept 88 MB of pages nobody returns to.
	DefaultCacheBytes      = 16 << 20         // page-cache budget in pixel bytes
	DefaultCachePages      = 48               // page-cache entry cap
	DefaultMaxRenderPixels = 24_000_000       // one rendered page at most; the DPI is lowered to fit
	DefaultMemoryLimit     = 320 << 20        // WebAssembly memory per PDFium instance
	DefaultCallDeadline    = 3 * time.Second  // one page drawn, read or searched, or one document opened
	defaultCloseTimeout    = 10 * time.Second // waiting for an in-flight call when closing a document
)

// CompileCacheDir is where the app keeps the engine's compilation cache:
// pass it as Options.CacheDir. The cache holds PDFium compiled to machine
// code, never patient data, so it lives in the OS user's cache folder
// (for example ~/.cache/TriageDesk/pdfium or %LOCALAPPDATA%\TriageDesk\pdfium)
// and is shared by every profile of that user: a new profile, or the demo's
// throwaway one, starts without compiling PDFium again (about two seconds,
// far longer on a slow laptop). Where the OS names no cache folder it is
// kept inside the profile instead.
func CompileCacheDir(profile string) string {
	if dir, err := os.UserCacheDir(); err == nil && dir != "" {
		return filepath.Join(dir, "TriageDesk", "pdfium")
	}
	return filepath.Join(profile, "cache", "pdfium")
}

// Options configure the PDF engine. The zero value works (no compilation
// cache, one instance, the defaults above).
type Options struct {
	// CacheDir is where wazero keeps compiled machine code for the PDFium
	// module, inside the user's profile. With it start-up after the first
	// run takes about a tenth of a second instead of about two seconds.
	// Empty means no cache.
	CacheDir string
	// Instances is the number of PDFium instances (each is single-threaded;
	// documents are spread across them). Default 1; at most NumCPU.
	Instances int
	// CacheBytes and CachePages cap the LRU of rendered pages shared by all
	// documents of the engine.
	CacheBytes int64
	CachePages int
	// MaxPages, MaxFileBytes and MaxRenderPixels bound what is opened and
	// drawn.
	MaxPages        int
	MaxFileBytes    int64
	MaxRenderPixels int
	// MemoryLimit caps each instance's WebAssembly memory in bytes: what
	// PDFium may use to decode a page's streams and images and to draw it.
	MemoryLimit int64
	// CallDeadline bounds one call into PDFium: opening a document, or
	// drawing, reading or searching one page. A call that runs past it, or
	// that needs more memory than MemoryLimit, is stopped, its instance is
	// replaced by a fresh one, and the document is refused as too large to
	// draw safely (KindTooLarge): decompression bombs and huge images end
	// there instead of holding the viewer for minutes.
	CallDeadline time.Duration
	// Logger receives operational logs (never document content). Default
	// slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	defaults.Positive(&o.Instances, 1)
	o.Instances = min(o.Instances, max(1, runtime.NumCPU()))
	defaults.Positive(&o.CacheBytes, DefaultCacheBytes)
	defaults.Positive(&o.CachePages, DefaultCachePages)
	defaults.Positive(&o.MaxPages, DefaultMaxPages)
	defaults.Positive(&o.MaxFileBytes, DefaultMaxFileBytes)
	defaults.Positive(&o.MaxRenderPixels, DefaultMaxRenderPixels)
	defaults.Positive(&o.MemoryLimit, DefaultMemoryLimit)
	defaults.Positive(&o.CallDeadline, DefaultCallDeadline)
	defaults.Zero(&o.Logger, slog.Default())
	return o
}

// Engine is the PDF engine: a small pool of PDFium WebAssembly instances
// plus the cache of rendered pages. Start it once at app start; it is safe
// for concurrent use.
type Engine struct {
	opts   Options
	ready  chan struct{} // closed when start-up finished (err says how)
	err    error
	cancel context.CancelFunc
	runCtx context.Context

	rc        wazero.RuntimeConfig
	compCache wazero.CompilationCache
	workers   []*worker
	startup   time.Duration

	cache  *pageCache
	nextID atomic.Uint64

	mu      sync.Mutex // guards closed and worker.docs
	closed  bool
	closing chan struct{} // closed by Close, before it waits for the instances
}

// worker is one PDFium instance. PDFium is single-threaded, so every call on
// an instance holds its slot; waiting for the slot honours the caller's
// context, so abandoned requests leave the queue at once. Each instance
// has a pool (and WebAssembly runtime) of its own, so one can be stopped
// mid-call (stop) without touching the others.
type worker struct {
	slot    chan struct{}
	closing <-chan struct{} // closed when the engine shuts down
	inst    pdfium.Pdfium
	pool    pdfium.Pool        // guarded by slot
	stop    context.CancelFunc // stops inst, even mid-call; guarded by slot
	mem     *memGuard          // inst's memory; guarded by slot
	docs    int                // open documents, guarded by Engine.mu
	// gen counts instance replacements (guarded by slot): documents opened
	// on an earlier generation are opened again from their bytes.
	gen int

	// A page bitmap kept between renders (guarded by slot): creating and
	// zeroing one inside WebAssembly costs more than drawing a text page.
	bitmap     references.FPDF_BITMAP
	bmW, bmH   int
	haveBitmap bool
}

// maxKeptBitmap is the largest bitmap (bytes) kept between renders.
const maxKeptBitmap = 48 << 20

// pageBitmap returns a w×h bitmap for drawing, reusing the kept one when it
// has the same size. Call with the slot held; pass the result to
// doneBitmap.
func (w *worker) pageBitmap(width, height int) (references.FPDF_BITMAP, error) {
	if w.haveBitmap && w.bmW == width && w.bmH == height {
		return w.bitmap, nil
	}
	w.dropBitmap()
	bm, err := w.inst.FPDFBitmap_Create(&requests.FPDFBitmap_Create{Width: width, Height: height, Alpha: 0})
	if err != nil {
		return "", err
	}
	w.bitmap, w.bmW, w.bmH, w.haveBitmap = bm.Bitmap, width, height, true
	return bm.Bitmap, nil
}

// doneBitmap frees a bitmap too large to keep.
func (w *worker) doneBitmap() {
	if w.haveBitmap && w.bmW*w.bmH*4 > maxKeptBitmap {
		w.dropBitmap()
	}
}

func (w *worker) dropBitmap() {
	if w.haveBitmap {
		_, _ = w.inst.FPDFBitmap_Destroy(&requests.FPDFBitmap_Destroy{Bitmap: w.bitmap})
		w.haveBitmap = false
	}
}

// acquire waits for the worker's slot, ctx or the engine shutting down.
func (w *worker) acquire(ctx context.Context) error {
	select {
	case <-w.closing:
		return &Error{Kind: KindClosed, Reason: "the PDF viewer has been shut down"}
	default:
	}
	select {
	case w.slot <- struct{}{}:
		if err := ctx.Err(); err != nil { // both were ready: prefer giving up
			<-w.slot
			return err
		}
		select {
		case <-w.closing:
			<-w.slot
			return &Error{Kind: KindClosed, Reason: "the PDF viewer has been shut down"}
		default:
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.closing:
		return &Error{Kind: KindClosed, Reason: "the PDF viewer has been shut down"}
	}
}

func (w *worker) release() { <-w.slot }

// Start begins starting the engine in the background and returns at once.
// Use Wait to block until it is ready; Open waits by itself. Cancelling ctx
// abandons a start-up still in progress (Wait then reports the error). Close
// the engine when the app exits.
func Start(ctx context.Context, opts Options) *Engine {
	opts = opts.withDefaults()
	e := &Engine{
		opts:    opts,
		ready:   make(chan struct{}),
		closing: make(chan struct{}),
		cache:   newPageCache(opts.CacheBytes, opts.CachePages),
	}
	var runCtx context.Context
	runCtx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(e.ready)
		begin := time.Now()
		e.err = e.start(ctx, runCtx)
		e.startup = time.Since(begin)
		if e.err != nil {
			opts.Logger.Error("pdf engine start failed", "err", e.err, "duration", e.startup)
			return
		}
		opts.Logger.Info("pdf engine ready", "instances", len(e.workers), "duration", e.startup, "compile_cache", opts.CacheDir != "")
	}()
	return e
}

func (e *Engine) start(startCtx, runCtx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("start pdf engine: panic: %v", r)
		}
	}()
	// Every instance compiles the module through this cache, so replacing
	// one (after a failure or a refused document) takes a fraction of a
	// second, and so does start-up after the first run with CacheDir.
	if e.opts.CacheDir != "" {
		if err := os.MkdirAll(e.opts.CacheDir, 0o700); err != nil {
			return fmt.Errorf("start pdf engine: create compile cache folder: %w", err)
		}
		cc, err := wazero.NewCompilationCacheWithDir(e.opts.CacheDir)
		if err != nil {
			return fmt.Errorf("start pdf engine: open compile cache: %w", err)
		}
		e.compCache = cc
	} else {
		e.compCache = wazero.NewCompilationCache()
	}
	// The memory cap is enforced by each instance's memGuard rather than
	// WithMemoryLimitPages, so that a refused grow is seen and reported.
	e.rc = wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithCompilationCache(e.compCache)
	e.runCtx = runCtx
	if err := startCtx.Err(); err != nil {
		return fmt.Errorf("start pdf engine: %w", err)
	}
	for range e.opts.Instances {
		w := &worker{slot: make(chan struct{}, 1), closing: e.closing}
		if err := e.newInstance(w); err != nil {
			e.closeWorkers()
			return fmt.Errorf("start pdf engine: %w", err)
		}
		e.workers = append(e.workers, w)
		if err := startCtx.Err(); err != nil {
			e.closeWorkers()
			return fmt.Errorf("start pdf engine: %w", err)
		}
	}
	return nil
}

// newInstance starts a PDFium instance for w in a pool of its own, with its
// memory capped by a fresh memGuard and a context that stops it. Call it
// before w is in use, or with w's slot held.
func (e *Engine) newInstance(w *worker) error {
	g := newMemGuard(e.opts.MemoryLimit)
	ctx, stop := context.WithCancel(experimental.WithMemoryAllocator(e.runCtx, g))
	pool, err := webassembly.Init(webassembly.Config{
		Context:  ctx,
		MinIdle:  1,
		MaxIdle:  1,
		MaxTotal: 1,
		// An empty FSConfig: the module sees no host files; documents are
		// handed over as bytes.
		FSConfig:      wazero.NewFSConfig(),
		RuntimeConfig: e.rc,
		Stdout:        discard{},
		Stderr:        discard{},
	})
	if err != nil {
		stop()
		return fmt.Errorf("pdf instance: %w", err)
	}
	gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	inst, err := pool.GetInstanceWithContext(gctx)
	if err != nil {
		_ = pool.Close()
		stop()
		return fmt.Errorf("pdf instance: %w", err)
	}
	w.inst, w.pool, w.stop, w.mem = inst, pool, stop, g
	return nil
}

// dropInstance stops w's instance and releases its pool and memory. Call
// it with w's slot held (or when w is not in use).
func dropInstance(w *worker) {
	if w.pool == nil {
		return
	}
	w.haveBitmap = false // it lived in the instance's memory
	w.stop()
	_ = w.pool.Close()
	w.pool, w.inst = nil, nil
}

// closeWorkers drops every instance started so far (a failed start-up).
func (e *Engine) closeWorkers() {
	for _, w := range e.workers {
		dropInstance(w)
	}
	e.workers = nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Wait blocks until the engine is ready or ctx ends. It returns nil when
// ready, ctx's error if ctx ended first, or an *Error of kind
// KindUnavailable when start-up failed.
func (e *Engine) Wait(ctx context.Context) error {
	select {
	case <-e.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	if e.err != nil {
		return &Error{Kind: KindUnavailable, Reason: "the PDF viewer could not start", Err: e.err}
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return &Error{Kind: KindUnavailable, Reason: "the PDF viewer has been shut down"}
	}
	return nil
}

// Ready reports without blocking whether start-up has finished successfully.
func (e *Engine) Ready() bool {
	select {
	case <-e.ready:
		return e.err == nil
	default:
		return false
	}
}

// StartupDuration is how long start-up took (0 until it finished).
func (e *Engine) StartupDuration() time.Duration {
	select {
	case <-e.ready:
		return e.startup
	default:
		return 0
	}
}

// DropCache empties the rendered-page cache, for example when the session
// locks so no rendered patient pages stay in memory.
func (e *Engine) DropCache() { e.cache.clear() }

// CacheStats reports the page cache's use.
func (e *Engine) CacheStats() CacheStats { return e.cache.stats() }

// Close shuts the engine down: open documents become unusable (KindClosed),
// the PDFium instances are released and the compilation cache is flushed.
// It waits for a start-up in progress. Calling it twice is harmless.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.closing)
	e.mu.Unlock()
	<-e.ready
	var errs []error
	// Take every slot so no call is in flight while the instances close.
	for _, w := range e.workers {
		w.slot <- struct{}{}
		dropInstance(w)
	}
	e.cancel()
	if e.compCache != nil {
		if err := e.compCache.Close(context.Background()); err != nil {
			errs = append(errs, fmt.Errorf("close compile cache: %w", err))
		}
	}
	e.cache.clear()
	return errors.Join(errs...)
}

// pickWorker returns the worker with the fewest open documents and counts a
// new document on it.
func (e *Engine) pickWorker() (*worker, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, &Error{Kind: KindUnavailable, Reason: "the PDF viewer has been shut down"}
	}
	best := e.workers[0]
	for _, w := range e.workers[1:] {
		if w.docs < best.docs {
			best = w
		}
	}
	best.docs++
	return best, nil
}

func (e *Engine) unpick(w *worker) {
	e.mu.Lock()
	w.docs--
	e.mu.Unlock()
}

// retire stops a failed or stopped PDFium instance and releases its
// memory at once; ensureInstance starts a fresh one when the worker is next
// used, and documents on the worker reopen then. Call with the worker's
// slot held.
func (e *Engine) retire(w *worker, cause error) {
	if de, ok := cause.(*Error); ok && de.Err != nil {
		cause = de.Err // the runtime's message (a trap or closed module), not document content
	}
	e.opts.Logger.Warn("pdf instance failed; a fresh one will be started", "err", cause)
	dropInstance(w)
	w.gen++
}

// ensureInstance starts a fresh instance for a worker whose last one was
// retired. Call with the worker's slot held.
func (e *Engine) ensureInstance(w *worker) error {
	if w.inst != nil {
		return nil
	}
	if err := e.newInstance(w); err != nil {
		e.opts.Logger.Error("pdf instance not replaced", "err", err)
		return newError(KindRender, err, "the PDF viewer stopped working; close and reopen Triage Desk")
	}
	return nil
}

// tooLargeToDraw is the reason a document is refused when a call into
// PDFium ran past the deadline or needed more memory than the cap.
const tooLargeToDraw = "too large to draw safely"

// guarded runs f, a call into w's instance, with the slot held and the
// call deadline armed: past the deadline the instance is stopped mid-call.
// It reports whether f met a limit (the deadline, or a refused memory
// grow), in which case the instance has been retired and the result must
// not be used: an allocation PDFium could not make may have left
// something out of the drawing.
func (e *Engine) guarded(w *worker, f func() error) (err error, limited bool) {
	w.mem.refused.Store(false)
	stop := w.stop
	var expired atomic.Bool
	t := time.AfterFunc(e.opts.CallDeadline, func() {
		expired.Store(true)
		stop()
	})
	err = f()
	t.Stop()
	limited = expired.Load() || w.mem.refused.Load()
	if !limited {
		return err, false
	}
	limit := errCallDeadline
	if w.mem.refused.Load() {
		limit = errMemoryCap
	}
	e.opts.Logger.Warn("pdf call stopped at a limit; the document is refused", "limit", limit,
		"deadline", e.opts.CallDeadline, "memory_cap", e.opts.MemoryLimit, "memory_high", w.mem.high.Load())
	e.retire(w, limit)
	return newError(KindTooLarge, errors.Join(limit, err), tooLargeToDraw), true
}

// The limits a call into PDFium can meet, in the chain of its KindTooLarge
// error.
var (
	errCallDeadline = errors.New("stopped at the call deadline")
	errMemoryCap    = errors.New("stopped at the memory cap")
)

// isInstanceFailure reports errors that mean the WebAssembly instance itself
// failed (a trap or a closed module) rather than the document.
func isInstanceFailure(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if _, ok := err.(*Error); ok {
			continue // its Error() leaves the cause out
		}
		s := err.Error()
		if strings.Contains(s, "wasm error") || strings.Contains(s, "module closed") ||
			strings.Contains(s, "instance is closed") || strings.Contains(s, "panic occurred") {
			return true
		}
	}
	return false
}
