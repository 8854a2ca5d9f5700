package timeline

import (
	"math"
	"sort"
)

// The timeline of a server without a running gauge is held before it is
// emitted, since a request's busy time is only known when it finishes and it
// covers the polls before: for twice the longest mean latency seen, between
// these bounds in seconds. A request longer than the hold is counted busy
// for the hold only.
const (
	minHold = 10.0
	maxHold = 300.0
)

// maxBlocks bounds the busy blocks one poll interval's completions add.
const maxBlocks = 32

// backfill rebuilds the timeline of a server that exposes no running gauge
// (Triton without the TensorRT-LLM backend, older trtllm-serve builds) from
// its completions: a request that finished was in flight for its latency
// before it finished, so the polls before its completion were busy too,
// even though no poll saw it. The waiting gauge, where there is one, marks
// busy instants as it does with a running gauge.
type backfill struct {
	pending []slot    // poll intervals not emitted yet, in time order
	spans   []busyRun // busy time known so far, sorted and merged
	cursor  float64   // seconds since the estimator's origin emitted up to
	longest float64   // longest mean latency of an interval's requests seen
}

// hold returns how long the backfill holds the timeline, in seconds.
func (b *backfill) hold() float64 {
	return math.Min(maxHold, math.Max(minHold, 2*b.longest))
}

// slot is one poll interval held by a backfill.
type slot struct {
	start, end float64 // seconds since the origin
	observed   bool
	inFlight   float64 // requests in flight while busy, estimated
	work       float64 // request-seconds of the requests finished in it
}

// busyRun is a stretch known to be busy.
type busyRun struct{ start, end float64 }

// add records the interval [start, end] and what its polls and counters
// show: waiting requests at either poll, and n requests finished with
// latency seconds between them (n 0 when none did).
func (b *backfill) add(start, end float64, waitStart, waitEnd bool, n, latency float64) {
	dt := end - start
	s := slot{start: start, end: end, observed: true, inFlight: 1, work: latency}
	if latency > dt && dt > 0 {
		s.inFlight = math.Ceil(latency / dt)
	}
	b.pending = append(b.pending, s)
	switch {
	case waitStart && waitEnd:
		b.cover(start, end)
	case waitStart:
		b.cover(start, start+dt/2)
	case waitEnd:
		b.cover(end-dt/2, end)
	}
	if n <= 0 || latency <= 0 {
		return
	}
	// The requests finished at moments spread evenly over the interval, each
	// after the mean latency; with many, one block from the earliest start
	// to the last finish stands for them all.
	mean := latency / n
	b.longest = math.Max(b.longest, mean)
	blocks := int(math.Min(n, maxBlocks))
	if blocks < int(n) {
		b.cover(start+dt/(2*n)-mean, end-dt/(2*n))
		return
	}
	for k := 0; k < blocks; k++ {
		done := start + dt*(float64(k)+0.5)/float64(blocks)
		b.cover(done-mean, done)
	}
}

// addUnobserved records an interval the exporter could not see; no busy
// time is ever placed in it.
func (b *backfill) addUnobserved(start, end float64) {
	b.pending = append(b.pending, slot{start: start, end: end})
}

// cover marks [start, end] busy, from the emitted cursor on.
func (b *backfill) cover(start, end float64) {
	start = math.Max(start, b.cursor)
	if end <= start {
		return
	}
	i := sort.Search(len(b.spans), func(i int) bool { return b.spans[i].end >= start })
	j := i
	for j < len(b.spans) && b.spans[j].start <= end {
		start = math.Min(start, b.spans[j].start)
		end = math.Max(end, b.spans[j].end)
		j++
	}
	b.spans = append(b.spans[:i], append([]busyRun{{start, end}}, b.spans[j:]...)...)
}

// emit sends the segments of every held interval that ends at or before
// until, and forgets them.
func (b *backfill) emit(until float64, e *Estimator) {
	n := 0
	for _, s := range b.pending {
		if s.end > until {
			break
		}
		b.emitSlot(s, e)
		b.cursor = s.end
		n++
	}
	b.pending = append(b.pending[:0], b.pending[n:]...)
	k := 0
	for k < len(b.spans) && b.spans[k].end <= b.cursor {
		k++
	}
	b.spans = append(b.spans[:0], b.spans[k:]...)
}

func (b *backfill) emitSlot(s slot, e *Estimator) {
	if !s.observed {
		e.emit(Segment{Kind: Unobserved, Seconds: s.end - s.start})
		return
	}
	e.t.RequestSeconds += s.work
	at := s.start
	for _, r := range b.spans {
		if r.end <= at {
			continue
		}
		if r.start >= s.end {
			break
		}
		lo, hi := math.Max(r.start, at), math.Min(r.end, s.end)
		e.emit(Segment{Kind: Idle, Seconds: lo - at})
		e.emit(Segment{Kind: Busy, Seconds: hi - lo, InFlight: s.inFlight})
		at = hi
	}
	e.emit(Segment{Kind: Idle, Seconds: s.end - at})
}

// lastBusy returns the end of the last busy stretch, in seconds since the
// origin, and whether there is one not emitted yet.
func (b *backfill) lastBusy() (float64, bool) {
	if len(b.spans) == 0 {
		return 0, false
	}
	return b.spans[len(b.spans)-1].end, true
}
