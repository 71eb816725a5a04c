package engine

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// jobKind is what a prefetch job downloads.
type jobKind int

const (
	jobReferral   jobKind = iota // A005
	jobPatient                   // PDS read of the referral's patient
	jobCRI                       // A007
	jobAttachment                // A042
)

func (k jobKind) String() string {
	switch k {
	case jobReferral:
		return "A005"
	case jobPatient:
		return "PDS"
	case jobCRI:
		return "A007"
	}
	return "A042"
}

// rank orders referrals clinically: priority class (0 2WW, 1 urgent, 2
// routine, 3 unknown), then oldest pathway start, then UBRN.
type rank struct {
	class int
	start time.Time
	ubrn  string
}

const numClasses = 4

func rankOf(p triage.Priority, start time.Time, ubrn string) rank {
	return rank{class: p.Rank(), start: start, ubrn: ubrn}
}

func (a rank) less(b rank) bool {
	if a.class != b.class {
		return a.class < b.class
	}
	if !a.start.Equal(b.start) {
		if a.start.IsZero() || b.start.IsZero() {
			return !a.start.IsZero()
		}
		return a.start.Before(b.start)
	}
	return a.ubrn < b.ubrn
}

// job is one download.
type job struct {
	kind jobKind
	// owner is the worklist referral the job is done for (its rank).
	owner string
	// target is the referral whose details or CRI are fetched, the
	// attachment's document id, or the patient's NHS number.
	target string
	// since is when the pull (or the opening of the referral) that queued
	// an A005 began: a PDS answer had since then is fresh for it.
	since     time.Time
	doc       triage.Document
	rank      rank
	notBefore time.Time
	tries     int
	index     int // position in its heap
}

func (j *job) key() string {
	switch j.kind {
	case jobReferral:
		return "ref:" + j.target
	case jobCRI:
		return "cri:" + j.target
	case jobPatient:
		return "pds:" + j.target
	}
	return "att:" + j.owner + ":" + j.target
}

// blocking reports whether the job holds back lower-class CRIs and PDS
// reads.
func (j *job) blocking() bool { return j.kind != jobAttachment }

// barriered reports whether the job waits for higher-class work: CRIs and
// PDS reads are fetched strictly in clinical order.
func (j *job) barriered() bool { return j.kind == jobCRI || j.kind == jobPatient }

// jobHeap is a priority queue of ready jobs.
type jobHeap struct {
	jobs  []*job
	focus *string
}

func (h *jobHeap) Len() int { return len(h.jobs) }
func (h *jobHeap) Less(i, k int) bool {
	return jobLess(h.jobs[i], h.jobs[k], *h.focus)
}
func (h *jobHeap) Swap(i, k int) {
	h.jobs[i], h.jobs[k] = h.jobs[k], h.jobs[i]
	h.jobs[i].index, h.jobs[k].index = i, k
}
func (h *jobHeap) Push(x any) { j := x.(*job); j.index = len(h.jobs); h.jobs = append(h.jobs, j) }
func (h *jobHeap) Pop() any {
	n := len(h.jobs)
	j := h.jobs[n-1]
	h.jobs[n-1] = nil
	h.jobs = h.jobs[:n-1]
	j.index = -1
	return j
}
func (h *jobHeap) top() *job {
	if len(h.jobs) == 0 {
		return nil
	}
	return h.jobs[0]
}

func jobLess(a, b *job, focus string) bool {
	fa, fb := focus != "" && a.owner == focus, focus != "" && b.owner == focus
	if fa != fb {
		return fa
	}
	if a.rank != b.rank {
		return a.rank.less(b.rank)
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return a.target < b.target
}

// jobQueue holds the prefetch work: ready jobs in two heaps (CRIs apart, so
// the class barrier can be checked at the top), delayed jobs, and jobs in
// flight. Every job is counted from add to finish for the progress events.
type jobQueue struct {
	e        *Engine
	mu       sync.Mutex
	focus    string
	cri      jobHeap
	other    jobHeap
	delayed  []*job
	keys     map[string]*job // queued or delayed
	inflight map[string]*job
	block    [numClasses]int
	owners   map[string]*ownerState
	changed  chan struct{}
	total    int // jobs added since the queue was last empty
	done     int
	addedAll int
}

// ownerState tracks a referral's outstanding downloads, to know when all
// its documents are cached.
type ownerState struct {
	outstanding int
	version     int
	planned     bool
}

func newJobQueue(e *Engine) *jobQueue {
	q := &jobQueue{e: e, keys: map[string]*job{},
		inflight: map[string]*job{}, owners: map[string]*ownerState{}, changed: make(chan struct{})}
	q.cri.focus, q.other.focus = &q.focus, &q.focus
	return q
}

// broadcast wakes every waiting worker. Call with the lock held.
func (q *jobQueue) broadcast() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// add queues a job unless the same download is already queued or in
// flight. It reports whether the job was added.
func (q *jobQueue) add(j job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.addLocked(&j)
}

func (q *jobQueue) addLocked(j *job) bool {
	k := j.key()
	if _, ok := q.keys[k]; ok {
		return false
	}
	if _, ok := q.inflight[k]; ok {
		return false
	}
	q.keys[k] = j
	if j.blocking() {
		q.block[j.rank.class]++
	}
	o := q.owners[j.owner]
	if o == nil {
		o = &ownerState{}
		q.owners[j.owner] = o
	}
	o.outstanding++
	q.total++
	q.addedAll++
	q.place(j)
	q.broadcast()
	return true
}

// place puts a job in its heap, or among the delayed ones.
func (q *jobQueue) place(j *job) {
	if !j.notBefore.IsZero() && j.notBefore.After(q.e.now()) {
		q.delayed = append(q.delayed, j)
		return
	}
	if j.barriered() {
		heap.Push(&q.cri, j)
	} else {
		heap.Push(&q.other, j)
	}
}

// added returns how many jobs were ever added.
func (q *jobQueue) added() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.addedAll
}

// pending returns how many jobs are queued or in flight.
func (q *jobQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.keys) + len(q.inflight)
}

// idle returns a channel closed at the next change, and whether the queue
// is empty now.
func (q *jobQueue) idle() (bool, chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.keys)+len(q.inflight) == 0, q.changed
}

// criBlocked reports whether a CRI job must wait for higher-class work.
func (q *jobQueue) criBlocked(j *job) bool {
	if q.focus != "" && j.owner == q.focus {
		return false
	}
	for c := 0; c < j.rank.class; c++ {
		if q.block[c] > 0 {
			return true
		}
	}
	return false
}

// next returns the most urgent job that may start, waiting for one if
// none can.
func (q *jobQueue) next(ctx context.Context) (*job, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.mu.Lock()
		now := q.e.now()
		var wake time.Time
		kept := q.delayed[:0]
		for _, j := range q.delayed {
			if j.notBefore.After(now) {
				kept = append(kept, j)
				if wake.IsZero() || j.notBefore.Before(wake) {
					wake = j.notBefore
				}
				continue
			}
			j.notBefore = time.Time{}
			q.place(j)
		}
		clear(q.delayed[len(kept):])
		q.delayed = kept
		var pick *job
		if c := q.cri.top(); c != nil && !q.criBlocked(c) {
			pick = c
		}
		if o := q.other.top(); o != nil && (pick == nil || jobLess(o, pick, q.focus)) {
			pick = o
		}
		if pick != nil {
			if pick.barriered() {
				heap.Remove(&q.cri, pick.index)
			} else {
				heap.Remove(&q.other, pick.index)
			}
			k := pick.key()
			delete(q.keys, k)
			q.inflight[k] = pick
			q.mu.Unlock()
			return pick, nil
		}
		ch := q.changed
		q.mu.Unlock()
		var tc <-chan time.Time
		var t *time.Timer
		if !wake.IsZero() {
			t = time.NewTimer(wake.Sub(now) + time.Millisecond)
			tc = t.C
		}
		select {
		case <-ctx.Done():
		case <-ch:
		case <-tc:
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// finish ends a job taken with next: requeued (after notBefore) or done.
// When the queue empties, the progress counters start again.
func (q *jobQueue) finish(j *job, requeue bool, notBefore time.Time) {
	q.mu.Lock()
	k := j.key()
	delete(q.inflight, k)
	var progress PrefetchProgress
	markOwner, ownerVersion := false, 0
	if requeue {
		j.tries++
		j.notBefore = notBefore
		q.keys[k] = j
		q.place(j)
	} else {
		if j.blocking() {
			q.block[j.rank.class]--
		}
		q.done++
		if o := q.owners[j.owner]; o != nil {
			o.outstanding--
			if o.outstanding <= 0 {
				if o.planned {
					markOwner, ownerVersion = true, o.version
				}
				delete(q.owners, j.owner)
			}
		}
	}
	progress = PrefetchProgress{Done: q.done, Total: q.total}
	if len(q.keys)+len(q.inflight) == 0 {
		q.done, q.total = 0, 0
	}
	q.broadcast()
	q.mu.Unlock()
	if markOwner {
		q.e.markComplete(j.owner, ownerVersion)
	}
	if !requeue {
		q.e.emit(progress)
	}
}

// planned records that a referral's downloads at version have all been
// queued; it reports whether none is outstanding (so it is complete now).
func (q *jobQueue) planned(owner string, version int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	o := q.owners[owner]
	if o == nil || o.outstanding <= 0 {
		delete(q.owners, owner)
		return true
	}
	o.planned, o.version = true, version
	return false
}

// setFocus moves the referral's jobs to the front.
func (q *jobQueue) setFocus(ubrn string) {
	q.mu.Lock()
	q.focus = ubrn
	heap.Init(&q.cri)
	heap.Init(&q.other)
	q.broadcast()
	q.mu.Unlock()
	if ubrn == "" {
		return
	}
	if q.e.isCompleteAny(ubrn) {
		q.e.refreshPatientOnFocus(ubrn)
		return
	}
	rk := rank{class: 0, ubrn: ubrn}
	if it, ok := q.e.prevItem(ubrn); ok {
		rk = rankOf(it.Priority, it.PathwayStart, ubrn)
	}
	q.add(job{kind: jobReferral, owner: ubrn, target: ubrn, rank: rk, since: q.e.now()})
}

func (q *jobQueue) isFocus(ubrn string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.focus != "" && q.focus == ubrn
}
