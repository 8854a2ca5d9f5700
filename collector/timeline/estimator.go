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

	// The run in progress: consecutive polls that showed requests in flight.
	inRun        bool
	startPending bool    // the interval before the run's first busy poll is not emitted yet
	startEdge    float64 // that interval's length
	startInFl    float64 // in-flight count at the run's first busy poll
	startRun     float64 // running count at the run's first busy poll
	runEmitted   float64 // busy seconds emitted for the run so far
	runWork      float64 // latency (or processing) seconds of requests finished in the run
	runWorkOK    bool    // runWork is known
	runMaxInFl   float64 // largest in-flight count seen at the run's polls

	lastEmitted Kind // kind of the last segment emitted, to keep hidden work contiguous

	t Totals
}

// NewEstimator returns an Estimator that sends every segment it emits to
// the given sinks as well as to its own idle-gap recorder.
func NewEstimator(opts Options, sinks ...Sink) *Estimator {
	return &Estimator{opts: opts, sinks: sinks, lastEmitted: Unobserved}
}

// AddSink adds a consumer of the segments emitted from now on.
func (e *Estimator) AddSink(s Sink) { e.sinks = append(e.sinks, s) }

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
	d := e.deltas(r)
	e.account(d)
	if e.broken {
		// The interval since the failed poll has no reading at its start.
		e.emit(Segment{Kind: Unobserved, Seconds: dt})
		e.broken = false
		e.lastT, e.last, e.have = t, r, true
		e.t.Last, e.t.HaveReading = r, true
		if r.Busy() {
			e.beginRun(t, 0, r, delta{})
			e.startPending = false
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
		e.first(t, Reading{})
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
		// The run's end is lost in the unobserved interval; settle its start.
		if e.startPending {
			e.emitStart(e.edgeGuess(e.startEdge, 0))
		}
		e.inRun = false
	}
	e.emit(Segment{Kind: Unobserved, Seconds: dt})
	e.lastT, e.broken = t, true
}

func (e *Estimator) first(t time.Time, r Reading) {
	e.lastT, e.last, e.have = t, r, true
	e.t.Last, e.t.HaveReading = r, true
	if r.Busy() {
		// The run started before observation began: nothing before t is known.
		e.beginRun(t, 0, r, delta{})
		e.startPending = false
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
	prevBusy, curBusy := e.last.Busy(), r.Busy()
	switch {
	case !prevBusy && !curBusy:
		e.quiet(t, dt, d)
	case !prevBusy && curBusy:
		e.beginRun(t, dt, r, d)
	case prevBusy && curBusy:
		e.addRunWork(d)
		e.runMaxInFl = math.Max(e.runMaxInFl, r.InFlight())
		if e.startPending {
			e.emitStart(e.startGuess())
		}
		running := (e.last.Running + r.Running) / 2
		e.emitBusy(dt, math.Max(e.last.InFlight(), r.InFlight()), running*dt)
		e.runEmitted += dt
		e.t.LastBusy = t
	default:
		e.addRunWork(d)
		e.endRun(t, dt)
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
	w = math.Min(w, dt)
	// Requests that overlapped show more latency than the interval holds.
	inFlight, requestSeconds := 1.0, w
	if d.latSum > dt {
		inFlight = math.Ceil(d.latSum / dt)
	}
	if d.latSum > 0 {
		requestSeconds = d.latSum
	}
	// Place the work next to earlier work if the previous interval ended
	// busy, so that continuous work is not split by made-up gaps; otherwise
	// in the middle of the interval, the unbiased guess.
	before := (dt - w) / 2
	if e.lastEmitted == Busy {
		before = 0
	}
	e.emit(Segment{Kind: Idle, Seconds: before})
	e.emitBusy(w, inFlight, requestSeconds)
	e.emit(Segment{Kind: Idle, Seconds: dt - w - before})
	e.t.LastBusy = t.Add(-time.Duration((dt - w - before) * float64(time.Second)))
}

// beginRun starts a busy run at the poll t, dt after an idle poll.
func (e *Estimator) beginRun(t time.Time, dt float64, r Reading, d delta) {
	e.inRun = true
	e.startPending = true
	e.startEdge = dt
	e.startInFl = r.InFlight()
	e.startRun = r.Running
	e.runEmitted = 0
	e.runWork, e.runWorkOK = 0, false
	e.runMaxInFl = r.InFlight()
	e.addRunWork(d)
	e.t.LastBusy = t
}

func (e *Estimator) addRunWork(d delta) {
	if w, ok := e.workSeconds(d); ok {
		e.runWork += w
		e.runWorkOK = true
	}
}

// tight reports whether the run's finished-request seconds measure its busy
// time: true when the polls never saw two requests in flight at once, so
// that the requests most likely ran one after another.
func (e *Estimator) tight() bool { return e.runWorkOK && e.runMaxInFl <= 1 }

// edgeGuess returns the busy part of an edge interval of length dt when
// nothing better is known: half of it (the busy period began or ended at a
// uniformly random moment), but no more than the finished work left over.
func (e *Estimator) edgeGuess(dt, left float64) float64 {
	g := dt / 2
	if e.runWorkOK && left >= 0 && left < g {
		g = left
	}
	return g
}

// startGuess settles the start edge of a run that has lasted past its first
// busy poll, before its work is fully known.
func (e *Estimator) startGuess() float64 {
	return e.edgeGuess(e.startEdge, math.Inf(1))
}

func (e *Estimator) emitStart(busy float64) {
	busy = clamp(busy, 0, e.startEdge)
	e.emit(Segment{Kind: Idle, Seconds: e.startEdge - busy})
	e.emitBusy(busy, e.startInFl, busy*e.startRun)
	e.runEmitted += busy
	e.startPending = false
}

// endRun closes the run: the poll at t shows nothing in flight, dt after
// the run's last busy poll.
func (e *Estimator) endRun(t time.Time, dt float64) {
	lastInFl, lastRun := e.last.InFlight(), e.last.Running
	var start, end float64
	switch {
	case e.startPending && e.tight():
		// One busy poll: the finished work is the whole run, spread over
		// both edges in proportion to their length.
		total := clamp(e.runWork, 0, e.startEdge+dt)
		if e.startEdge+dt > 0 {
			start = total * e.startEdge / (e.startEdge + dt)
		}
		end = total - start
	case e.startPending:
		start = e.edgeGuess(e.startEdge, e.runWork)
		end = e.edgeGuess(dt, e.runWork-start)
	case e.tight():
		end = clamp(e.runWork-e.runEmitted, 0, dt)
	default:
		end = e.edgeGuess(dt, e.runWork-e.runEmitted)
	}
	if e.startPending {
		e.emitStart(start)
	}
	end = clamp(end, 0, dt)
	e.emitBusy(end, lastInFl, end*lastRun)
	e.emit(Segment{Kind: Idle, Seconds: dt - end})
	e.t.LastBusy = e.lastT.Add(time.Duration(end * float64(time.Second)))
	e.inRun = false
}

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
