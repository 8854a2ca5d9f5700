package timeline

import (
	"math"
	"time"
)

// Options tune an Estimator.
type Options struct {
	// ScaleToZero says that the target scales to zero when idle, so a poll
	// that cannot reach it means "no replica running": idle time rather than
	// unobserved time.
	ScaleToZero bool
}

// Totals are an Estimator's cumulative figures. Every field but the gauges
// (Last, HaveReading) only grows.
type Totals struct {
	// ObservedSeconds is the time classified as busy or idle.
	ObservedSeconds float64
	// BusySeconds is the part of ObservedSeconds with at least one request
	// running or waiting.
	BusySeconds float64
	// UnobservedSeconds is the time the model could not be seen.
	UnobservedSeconds float64
	// RequestSeconds is the integral of running requests over busy time.
	RequestSeconds float64
	// Requests is the number of completed requests, summed across restarts.
	Requests float64
	// PromptTokens and GenerationTokens are token counts summed across restarts.
	PromptTokens, GenerationTokens float64
	// Restarts counts the counter resets seen.
	Restarts uint64
	// LastBusy is the estimated last moment the model was busy; zero if never.
	LastBusy time.Time
	// Last is the most recent successful reading.
	Last Reading
	// HaveReading says whether Last holds a reading.
	HaveReading bool
	// Gaps is the histogram of completed idle gaps.
	Gaps GapHistogram
}

// Estimator builds the busy/idle timeline of one model on one target from
// successive polls. Between two polls it uses more than the two gauge
// readings: the completed-request, latency and processing-time counters tell
// whether, and for how long, the model worked while neither reading showed a
// request in flight, and they bound the busy time of a short busy run.
//
// An Estimator is not safe for concurrent use.
type Estimator struct {
	opts  Options
	sinks []Sink
	gaps  GapRecorder

	have   bool      // lastT and last hold a successful reading
	broken bool      // a poll failed since lastT: the next interval is unobserved
	lastT  time.Time // time of the last poll, successful or not
	last   Reading   // the last successful reading

	inRun bool // the last successful poll showed requests in flight
	run   run  // the busy run in progress, held until it is settled

	// A server without a running gauge is read from its counters alone: its
	// timeline is rebuilt backwards from completions and held for a while.
	countersOnly bool
	fill         backfill
	origin       time.Time // time 0 of fill's seconds

	// Busy polls and the sum of their in-flight counts: the model's mean
	// concurrency while busy, as sampled. It sizes work hidden between two
	// idle polls, and steadies the estimate of a short run's concurrency.
	polls, pollInFlight, pollInFlight2 float64

	lastEmitted Kind // kind of the last segment emitted, to keep hidden work contiguous

	t Totals
}

// NewEstimator returns an Estimator that sends every segment it emits to
// the given sinks as well as to its own idle-gap recorder.
func NewEstimator(opts Options, sinks ...Sink) *Estimator {
	return &Estimator{opts: opts, sinks: sinks, lastEmitted: Unobserved}
}

// Totals returns the cumulative figures so far.
func (e *Estimator) Totals() Totals {
	t := e.t
	t.Gaps = e.gaps.Histogram()
	return t
}

// Observe feeds the reading of a successful poll taken at t. Readings must
// come in time order; one not later than the previous poll is ignored.
func (e *Estimator) Observe(t time.Time, r Reading) {
	if !e.have && !e.broken {
		e.first(t, r)
		return
	}
	dt := t.Sub(e.lastT).Seconds()
	if dt <= 0 {
		return
	}
	e.setMode(!r.Present.Has(FieldRunning))
	d := e.deltas(r)
	e.account(d)
	if e.broken {
		// The interval since the failed poll has no reading at its start.
		e.unobserved(t, dt)
		e.broken = false
		e.lastT, e.last, e.have = t, r, true
		e.t.Last, e.t.HaveReading = r, true
		if r.Busy() && !e.countersOnly {
			e.beginRun(t, r)
		}
		return
	}
	e.step(t, dt, r, d)
	e.lastT, e.last = t, r
	e.t.Last, e.t.HaveReading = r, true
}

// Miss records a poll at t that could not reach the target or could not
// read its page. For a scale-to-zero target the model is idle; otherwise the
// time since the previous poll is unobserved.
func (e *Estimator) Miss(t time.Time) {
	switch {
	case !e.opts.ScaleToZero || e.broken:
		e.Absent(t)
	case !e.have:
		// Scaled to zero before the first poll: idle, with no counters yet.
		e.first(t, Reading{Present: FieldRunning | FieldWaiting})
	default:
		// Scaled to zero: nothing in flight, counters as last seen.
		idle := e.last
		idle.Running, idle.Waiting = 0, 0
		e.Observe(t, idle)
	}
}

// Absent records a successful poll at t whose page did not list the model.
// The time since the previous poll is unobserved.
func (e *Estimator) Absent(t time.Time) {
	if !e.have && !e.broken {
		e.lastT, e.broken = t, true
		return
	}
	dt := t.Sub(e.lastT).Seconds()
	if dt <= 0 {
		return
	}
	if e.inRun {
		// The run's end is lost in the unobserved interval.
		e.settle(true, false)
		e.inRun = false
	}
	e.unobserved(t, dt)
	e.lastT, e.broken = t, true
}

// unobserved records the interval of length dt that ends at t as unobserved.
func (e *Estimator) unobserved(t time.Time, dt float64) {
	if !e.countersOnly {
		e.emit(Segment{Kind: Unobserved, Seconds: dt})
		return
	}
	end := t.Sub(e.origin).Seconds()
	e.fill.addUnobserved(end-dt, end)
	e.fill.emit(end-e.fill.hold(), e)
}

// setMode switches between reading a server with a running gauge and one
// without, emitting what the other mode held.
func (e *Estimator) setMode(countersOnly bool) {
	if countersOnly == e.countersOnly {
		return
	}
	if e.countersOnly {
		e.fill.emit(math.Inf(1), e)
	} else if e.inRun {
		e.settle(true, false)
		e.inRun = false
	}
	e.countersOnly = countersOnly
	if countersOnly {
		e.fill = backfill{}
		e.origin = e.lastT
	}
}

func (e *Estimator) first(t time.Time, r Reading) {
	e.lastT, e.last, e.have = t, r, true
	e.t.Last, e.t.HaveReading = r, true
	e.countersOnly = !r.Present.Has(FieldRunning)
	e.origin = t
	if r.Busy() && !e.countersOnly {
		// The run started before observation began: nothing before t is known.
		e.beginRun(t, r)
	}
}

// delta holds the growth of the counters over one interval.
type delta struct {
	completed, latSum, latCount, processing, prompt, generation float64
	reset                                                       bool
}

// work reports whether the counters show that requests finished in the interval.
func (d delta) work() bool { return d.completed > 0 || d.latCount > 0 || d.processing > 0 }

// deltas returns counter growth from the last successful reading to r. A
// counter that went down was reset by a server restart: its growth is its
// new value, counted from zero.
func (e *Estimator) deltas(r Reading) delta {
	var d delta
	p := e.last
	grow := func(f Field, prev, cur float64) float64 {
		if !r.Present.Has(f) || !p.Present.Has(f) {
			return 0
		}
		if cur < prev {
			d.reset = true
			return cur
		}
		return cur - prev
	}
	d.completed = grow(FieldCompleted, p.Completed, r.Completed)
	d.latSum = grow(FieldLatency, p.LatencySum, r.LatencySum)
	d.latCount = grow(FieldLatency, p.LatencyCount, r.LatencyCount)
	d.processing = grow(FieldProcessing, p.ProcessingSeconds, r.ProcessingSeconds)
	d.prompt = grow(FieldPromptTokens, p.PromptTokens, r.PromptTokens)
	d.generation = grow(FieldGenerationTokens, p.GenerationTokens, r.GenerationTokens)
	return d
}

func (e *Estimator) account(d delta) {
	if d.reset {
		e.t.Restarts++
	}
	if e.last.Present.Has(FieldCompleted) {
		e.t.Requests += d.completed
	} else {
		// Servers without a completion counter count requests in the latency histogram.
		e.t.Requests += d.latCount
	}
	e.t.PromptTokens += d.prompt
	e.t.GenerationTokens += d.generation
}

// workSeconds returns the seconds of request time the counters show for an
// interval, and whether they show any. The latency sum is the best measure:
// it covers every finished request from arrival to last token. A processing
// counter comes next; a bare completion count is converted with the mean
// latency seen so far.
func (e *Estimator) workSeconds(d delta) (float64, bool) {
	switch {
	case d.latCount > 0 && d.latSum > 0:
		return d.latSum, true
	case d.processing > 0:
		return d.processing, true
	case d.completed > 0 && e.last.LatencyCount > 0:
		return d.completed * e.last.LatencySum / e.last.LatencyCount, true
	}
	return 0, false
}

// step classifies the interval (e.lastT, t] between two successful polls.
func (e *Estimator) step(t time.Time, dt float64, r Reading, d delta) {
	if e.countersOnly {
		e.stepCounters(t, dt, r, d)
		return
	}
	prevBusy, curBusy := e.last.Busy(), r.Busy()
	switch {
	case !prevBusy && !curBusy:
		e.quiet(t, dt, d)
	case !prevBusy && curBusy:
		e.beginRun(t, r)
		e.addPiece(piece{kind: startEdge, dt: dt, inFlight: r.InFlight(), running: r.Running}, d)
	case prevBusy && curBusy:
		n, _ := completions(d)
		e.addPiece(piece{
			kind: interior, dt: dt,
			// Fewer completions than requests in flight at the start: one of
			// them is still running, so the interval was busy throughout.
			sure:     n < e.last.InFlight(),
			inFlight: math.Max(e.last.InFlight(), r.InFlight()),
			running:  (e.last.Running + r.Running) / 2,
		}, d)
		e.sample(r)
		e.t.LastBusy = t
		if e.run.heldSeconds >= runHold {
			e.settle(false, false)
		}
	default:
		e.addPiece(piece{kind: endEdge, dt: dt, inFlight: e.last.InFlight(), running: e.last.Running}, d)
		e.settle(true, true)
		e.inRun = false
	}
}

// stepCounters adds an interval of a server without a running gauge to
// the backfill, and emits what is older than the hold.
func (e *Estimator) stepCounters(t time.Time, dt float64, r Reading, d delta) {
	end := t.Sub(e.origin).Seconds()
	n, _ := completions(d)
	w, ok := e.workSeconds(d)
	if !ok && n > 0 {
		w = n * dt / 2
	}
	e.fill.add(end-dt, end, e.last.Waiting > 0, r.Waiting > 0, n, w)
	e.fill.emit(end-e.fill.hold(), e)
	if last, ok := e.fill.lastBusy(); ok {
		e.t.LastBusy = e.origin.Add(seconds(last))
	}
}

// quiet handles an interval with nothing in flight at either poll. If the
// counters show finished requests, the work happened inside the interval:
// its length is estimated from the counters and capped at the interval.
func (e *Estimator) quiet(t time.Time, dt float64, d delta) {
	if !d.work() {
		e.emit(Segment{Kind: Idle, Seconds: dt})
		return
	}
	w, ok := e.workSeconds(d)
	if !ok {
		w = dt / 2
	}
	latency := w
	if n, known := completions(d); known && n >= 2 {
		// Several requests overlapped by as much as the model's requests
		// usually do; they lasted at least their mean latency.
		w = clamp(w/e.concurrency(), w/n, w)
	}
	w = math.Min(w, dt)
	inFlight := math.Max(1, math.Ceil(latency/math.Max(w, 1e-9)-1e-9))
	// Place the work next to earlier work if the previous interval ended
	// busy, so that continuous work is not split by made-up gaps; otherwise
	// in the middle of the interval, the unbiased guess.
	before := (dt - w) / 2
	if e.lastEmitted == Busy {
		before = 0
	}
	e.emit(Segment{Kind: Idle, Seconds: before})
	e.emitBusy(w, inFlight, latency)
	e.emit(Segment{Kind: Idle, Seconds: dt - w - before})
	e.t.LastBusy = t.Add(-seconds(dt - w - before))
}

// concurrency returns the mean number of requests in flight at the busy
// polls so far; 1 before any.
func (e *Estimator) concurrency() float64 {
	if e.polls == 0 {
		return 1
	}
	return math.Max(1, e.pollInFlight/e.polls)
}

// completions returns how many requests the counters show finished, and
// whether that count is exact; a bare processing-time counter only tells
// that at least one did.
func completions(d delta) (float64, bool) {
	switch {
	case d.latCount > 0:
		return d.latCount, true
	case d.completed > 0:
		return d.completed, true
	case d.processing > 0:
		return 1, false
	}
	return 0, true
}

// addPiece adds an interval, and what the counters show for it, to the run.
func (e *Estimator) addPiece(p piece, d delta) {
	w, ok := e.workSeconds(d)
	if !ok {
		w = -1
	}
	n, exact := completions(d)
	e.run.add(p, w, n, exact)
}

// sample records a busy poll in the run and in the model's long-run
// concurrency.
func (e *Estimator) sample(r Reading) {
	e.run.sample(r)
	c := r.InFlight()
	e.polls++
	e.pollInFlight += c
	e.pollInFlight2 += c * c
}

// beginRun starts a busy run at the poll t.
func (e *Estimator) beginRun(t time.Time, r Reading) {
	e.inRun = true
	e.run.reset()
	e.sample(r)
	e.t.LastBusy = t
}

// settle emits the part of the run held so far. last says no more of the
// run follows; final that it ended with an idle poll.
func (e *Estimator) settle(last, final bool) {
	e.run.settle(last, final, e.concurrencyCV2())
	for _, p := range e.run.pieces {
		switch p.kind {
		case startEdge:
			e.emit(Segment{Kind: Idle, Seconds: p.dt - p.busy})
			e.emitBusy(p.busy, p.inFlight, p.busy*p.running)
		default:
			e.emitBusy(p.busy, p.inFlight, p.busy*p.running)
			e.emit(Segment{Kind: Idle, Seconds: p.dt - p.busy})
		}
	}
	if n := len(e.run.pieces); n > 0 && e.run.pieces[n-1].kind == endEdge {
		p := e.run.pieces[n-1]
		e.t.LastBusy = e.lastT.Add(seconds(p.busy))
	}
	e.run.dropSettled()
}

// concurrencyCV2 returns the squared coefficient of variation of the
// in-flight count at the busy polls so far, 0 before there are two.
func (e *Estimator) concurrencyCV2() float64 {
	if e.polls < 2 {
		return 0
	}
	mean := e.pollInFlight / e.polls
	v := math.Max(0, e.pollInFlight2/e.polls-mean*mean) * e.polls / (e.polls - 1)
	return v / (mean * mean)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// emitBusy emits a busy segment and the request-seconds that go with it.
func (e *Estimator) emitBusy(seconds, inFlight, requestSeconds float64) {
	if seconds <= 0 {
		return
	}
	e.t.RequestSeconds += requestSeconds
	e.emit(Segment{Kind: Busy, Seconds: seconds, InFlight: math.Max(inFlight, 1)})
}

func (e *Estimator) emit(s Segment) {
	if s.Seconds <= 0 {
		return
	}
	switch s.Kind {
	case Busy:
		e.t.BusySeconds += s.Seconds
		e.t.ObservedSeconds += s.Seconds
	case Idle:
		e.t.ObservedSeconds += s.Seconds
	case Unobserved:
		e.t.UnobservedSeconds += s.Seconds
	}
	e.lastEmitted = s.Kind
	e.gaps.Add(s)
	for _, k := range e.sinks {
		k.Add(s)
	}
}

func clamp(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, v))
}

// SetOptions changes the estimator's options from the next poll on.
func (e *Estimator) SetOptions(opts Options) { e.opts = opts }
