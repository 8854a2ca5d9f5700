package timeline

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at returns t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// recorder keeps every segment it is given.
type recorder struct{ segs []Segment }

func (r *recorder) Add(s Segment) { r.segs = append(r.segs, s) }

// vllmLike returns a reading with running/waiting gauges and the completion
// and latency counters of a vLLM-like server.
func vllmLike(running, waiting, completed, latSum float64) Reading {
	return Reading{
		Running: running, Waiting: waiting,
		Completed: completed, LatencySum: latSum, LatencyCount: completed,
		Present: FieldRunning | FieldWaiting | FieldCompleted | FieldLatency,
	}
}

// poll is one step of a scripted timeline: a reading at a time, or a
// failed poll (miss) or a page without the model (absent).
type poll struct {
	t      float64
	r      Reading
	miss   bool
	absent bool
}

func script(opts Options, polls []poll) (*Estimator, *recorder) {
	rec := &recorder{}
	e := NewEstimator(opts, rec)
	for _, p := range polls {
		switch {
		case p.miss:
			e.Miss(at(p.t))
		case p.absent:
			e.Absent(at(p.t))
		default:
			e.Observe(at(p.t), p.r)
		}
	}
	return e, rec
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestEstimator(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       Options
		polls      []poll
		observed   float64
		busy       float64
		unobserved float64
		requests   float64
		restarts   uint64
		segments   []Segment // checked when not nil
	}{
		{
			name: "idle throughout",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(0, 0, 0, 0)},
				{t: 2, r: vllmLike(0, 0, 0, 0)},
			},
			observed: 2,
			segments: []Segment{{Kind: Idle, Seconds: 1}, {Kind: Idle, Seconds: 1}},
		},
		{
			// One 0.4 s request started and finished between two polls that
			// both saw nothing running: the latency sum gives its length,
			// placed in the middle of the interval: 0.3 idle, 0.4 busy, 0.3 idle.
			name: "work hidden between two idle polls",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(0, 0, 1, 0.4)},
			},
			observed: 1, busy: 0.4, requests: 1,
			segments: []Segment{
				{Kind: Idle, Seconds: 0.3},
				{Kind: Busy, Seconds: 0.4, InFlight: 1},
				{Kind: Idle, Seconds: 0.3},
			},
		},
		{
			// Three overlapping requests of 2.5 s latency in total finished
			// inside a 1 s interval: busy time is capped at the interval and
			// ceil(2.5/1) = 3 requests were in flight.
			name: "overlapping hidden work capped at the interval",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(0, 0, 3, 2.5)},
			},
			observed: 1, busy: 1, requests: 3,
			segments: []Segment{{Kind: Busy, Seconds: 1, InFlight: 3}},
		},
		{
			// One request seen running at a single poll, 0.7 s long: the run's
			// window is (0, 2]; both edges are 1 s, so 0.35 s each.
			name: "single-poll run bounded by the latency sum",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(1, 0, 0, 0)},
				{t: 2, r: vllmLike(0, 0, 1, 0.7)},
			},
			observed: 2, busy: 0.7, requests: 1,
			segments: []Segment{
				{Kind: Idle, Seconds: 0.65},
				{Kind: Busy, Seconds: 0.35, InFlight: 1},
				{Kind: Busy, Seconds: 0.35, InFlight: 1},
				{Kind: Idle, Seconds: 0.65},
			},
		},
		{
			// One 3.4 s request seen at polls 1, 2 and 3. The start edge is
			// settled at poll 2 as half of (0, 1] = 0.5; the interior adds 2;
			// the end edge takes what the latency sum leaves: 3.4 - 2.5 = 0.9.
			name: "long single request: end edge from the latency sum",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(1, 0, 0, 0)},
				{t: 2, r: vllmLike(1, 0, 0, 0)},
				{t: 3, r: vllmLike(1, 0, 0, 0)},
				{t: 4, r: vllmLike(0, 0, 1, 3.4)},
			},
			observed: 4, busy: 3.4, requests: 1,
		},
		{
			// Two requests overlap (two in flight at polls 1 and 2), 5 s of
			// latency in total. Two in flight on average while busy makes the
			// run 5 / 2 = 2.5 s long: (1, 2] is surely busy (no request
			// finished), the edges share the other 1.5 s: 0.75 each.
			name: "overlapping run: latency over mean concurrency",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(2, 0, 0, 0)},
				{t: 2, r: vllmLike(1, 1, 0, 0)},
				{t: 3, r: vllmLike(0, 0, 2, 5)},
			},
			observed: 3, busy: 2.5, requests: 2,
			segments: []Segment{
				{Kind: Idle, Seconds: 0.25},
				{Kind: Busy, Seconds: 0.75, InFlight: 2},
				{Kind: Busy, Seconds: 1, InFlight: 2},
				{Kind: Busy, Seconds: 0.75, InFlight: 2},
				{Kind: Idle, Seconds: 0.25},
			},
		},
		{
			// Polls 1 and 2 each saw one request, but the first finished in
			// (1, 2] and the second began after it: 1.2 + 0.9 = 2.1 s of
			// latency over a 3 s window means 0.9 s of idle that the gauges
			// alone would have counted as busy.
			name: "idle dip between two busy polls",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(1, 0, 0, 0)},
				{t: 2, r: vllmLike(1, 0, 1, 1.2)},
				{t: 3, r: vllmLike(0, 0, 2, 2.1)},
			},
			observed: 3, busy: 2.1, requests: 2,
		},
		{
			// A busy run is held until an idle poll settles it.
			name: "run held until it ends",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(3, 0, 0, 0)},
				{t: 2, r: vllmLike(3, 0, 0, 0)},
			},
			observed: 0, busy: 0,
		},
		{
			// A waiting request counts as busy even with nothing running:
			// (0, 1] is busy (it did not finish), and its 1.6 s latency ends
			// it 0.6 s into (1, 2].
			name: "waiting counts as busy",
			polls: []poll{
				{t: 0, r: vllmLike(0, 1, 0, 0)},
				{t: 1, r: vllmLike(0, 1, 0, 0)},
				{t: 2, r: vllmLike(0, 0, 1, 1.6)},
			},
			observed: 2, busy: 1.6, requests: 1,
		},
		{
			// The server restarted: the counters fell from 10 to 1. The growth
			// is the new value, 1 request of 0.5 s, and not -9.
			name: "counter reset is a restart, not negative work",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 10, 20)},
				{t: 1, r: vllmLike(0, 0, 1, 0.5)},
			},
			observed: 1, busy: 0.5, requests: 1, restarts: 1,
		},
		{
			// A failed poll at 1 leaves (0, 1] and (1, 2] unobserved.
			name: "failed poll leaves its intervals unobserved",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, miss: true},
				{t: 2, r: vllmLike(0, 0, 0, 0)},
				{t: 3, r: vllmLike(0, 0, 0, 0)},
			},
			observed: 1, unobserved: 2,
			segments: []Segment{
				{Kind: Unobserved, Seconds: 1},
				{Kind: Unobserved, Seconds: 1},
				{Kind: Idle, Seconds: 1},
			},
		},
		{
			// The run's end is lost in the failed poll: its start edge is
			// settled at half an interval, the rest is unobserved.
			name: "failed poll during a run",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(1, 0, 0, 0)},
				{t: 2, miss: true},
				{t: 3, r: vllmLike(0, 0, 1, 1.2)},
			},
			observed: 1, busy: 0.5, unobserved: 2, requests: 1,
		},
		{
			// Unreachable means scaled to zero: idle. The server came back
			// with its counters at zero, which is a restart.
			name: "scale to zero: unreachable is idle",
			opts: Options{ScaleToZero: true},
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 5, 10)},
				{t: 1, miss: true},
				{t: 2, miss: true},
				{t: 3, r: vllmLike(0, 0, 0, 0)},
			},
			observed: 3, requests: 0, restarts: 1,
		},
		{
			// Scaled to zero while a request was running at poll 1; the
			// request's 0.8 s is known only from the latency sum, which the
			// restarted server no longer has, so the end edge is half of (1, 2].
			name: "scale to zero during a run",
			opts: Options{ScaleToZero: true},
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(1, 0, 0, 0)},
				{t: 2, miss: true},
			},
			observed: 2, busy: 1,
		},
		{
			name: "scale to zero before the first poll",
			opts: Options{ScaleToZero: true},
			polls: []poll{
				{t: 0, miss: true},
				{t: 1, miss: true},
				{t: 2, r: vllmLike(0, 0, 0, 0)},
			},
			observed: 2,
		},
		{
			// The model vanished from the page at 2 and came back at 4.
			name: "model missing from the page is unobserved",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(0, 0, 0, 0)},
				{t: 2, absent: true},
				{t: 3, absent: true},
				{t: 4, r: vllmLike(0, 0, 0, 0)},
				{t: 5, r: vllmLike(0, 0, 0, 0)},
			},
			observed: 2, unobserved: 3,
		},
		{
			// The model appears busy at its first poll: nothing before is known,
			// so the run starts at that poll: (1, 2] busy, (2, 3] end edge
			// bounded by 1.5 s of latency minus 1 s emitted = 0.5.
			name: "model appears busy",
			polls: []poll{
				{t: 1, r: vllmLike(1, 0, 0, 0)},
				{t: 2, r: vllmLike(1, 0, 0, 0)},
				{t: 3, r: vllmLike(0, 0, 1, 1.5)},
			},
			observed: 2, busy: 1.5, requests: 1,
		},
		{
			name: "time going backwards is ignored",
			polls: []poll{
				{t: 0, r: vllmLike(0, 0, 0, 0)},
				{t: 2, r: vllmLike(0, 0, 0, 0)},
				{t: 1, r: vllmLike(0, 0, 0, 0)},
				{t: 2, r: vllmLike(0, 0, 0, 0)},
			},
			observed: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := script(tc.opts, tc.polls)
			got := e.Totals()
			if !near(got.ObservedSeconds, tc.observed) || !near(got.BusySeconds, tc.busy) ||
				!near(got.UnobservedSeconds, tc.unobserved) {
				t.Errorf("observed/busy/unobserved = %v/%v/%v, want %v/%v/%v\nsegments: %+v",
					got.ObservedSeconds, got.BusySeconds, got.UnobservedSeconds,
					tc.observed, tc.busy, tc.unobserved, rec.segs)
			}
			if !near(got.Requests, tc.requests) || got.Restarts != tc.restarts {
				t.Errorf("requests/restarts = %v/%v, want %v/%v",
					got.Requests, got.Restarts, tc.requests, tc.restarts)
			}
			if tc.segments != nil && !sameSegments(rec.segs, tc.segments) {
				t.Errorf("segments = %+v, want %+v", rec.segs, tc.segments)
			}
		})
	}
}

func sameSegments(a, b []Segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || !near(a[i].Seconds, b[i].Seconds) || !near(a[i].InFlight, b[i].InFlight) {
			return false
		}
	}
	return true
}

func TestEstimatorIdleGaps(t *testing.T) {
	// Hidden 0.4 s requests in (0, 1] and (10, 11], each placed mid-interval:
	// the gap between them is 0.3 + 9 + 0.3 = 9.6 s. A later 0.2 s request in
	// (20, 21] closes a second gap of 0.3 + 9 + 0.4 = 9.7 s. The gap still
	// open at the end is not recorded.
	polls := []poll{{t: 0, r: vllmLike(0, 0, 0, 0)}}
	completed, latency := 0.0, 0.0
	for s := 1; s <= 25; s++ {
		switch s {
		case 1, 11:
			completed, latency = completed+1, latency+0.4
		case 21:
			completed, latency = completed+1, latency+0.2
		}
		polls = append(polls, poll{t: float64(s), r: vllmLike(0, 0, completed, latency)})
	}
	e, _ := script(Options{}, polls)
	h := e.Totals().Gaps
	if h.Count != 2 || !near(h.Sum, 9.6+9.7) {
		t.Fatalf("gaps count/sum = %d/%v, want 2/19.3", h.Count, h.Sum)
	}
	// Both gaps fall in the (5, 10] bucket, index 3 of GapBuckets.
	if h.Counts[2] != 0 || h.Counts[3] != 2 || h.Counts[len(h.Counts)-1] != 2 {
		t.Errorf("cumulative counts = %v", h.Counts)
	}
}

func TestEstimatorGapInterruptedByFailedPoll(t *testing.T) {
	// A gap that a failed poll interrupts has no known length: not recorded.
	e, _ := script(Options{}, []poll{
		{t: 0, r: vllmLike(1, 0, 0, 0)},
		{t: 1, r: vllmLike(0, 0, 1, 1.5)},
		{t: 5, miss: true},
		{t: 9, r: vllmLike(1, 0, 1, 1.5)},
		{t: 10, r: vllmLike(0, 0, 2, 2)},
	})
	if h := e.Totals().Gaps; h.Count != 0 {
		t.Errorf("gap count = %d, want 0", h.Count)
	}
}

func TestEstimatorProcessingCounter(t *testing.T) {
	// llama.cpp has no completion counter: its processing seconds reveal
	// 0.3 s of hidden work, and the request count stays 0.
	r := func(processing float64) Reading {
		return Reading{ProcessingSeconds: processing, Present: FieldRunning | FieldWaiting | FieldProcessing}
	}
	e, _ := script(Options{}, []poll{{t: 0, r: r(2)}, {t: 1, r: r(2.3)}})
	got := e.Totals()
	if !near(got.BusySeconds, 0.3) || got.Requests != 0 {
		t.Errorf("busy/requests = %v/%v, want 0.3/0", got.BusySeconds, got.Requests)
	}
}

func TestEstimatorLastBusyAndRequestSeconds(t *testing.T) {
	// Two requests run through (1, 3], 7 s of latency with two in flight:
	// 3.5 s busy, 2 s of it between the busy polls, 0.75 s on each edge.
	// Request-seconds are 2 per busy second; the last busy moment is the end
	// of the end edge: 3 + 0.75 s.
	e, _ := script(Options{}, []poll{
		{t: 0, r: vllmLike(0, 0, 0, 0)},
		{t: 1, r: vllmLike(2, 0, 0, 0)},
		{t: 2, r: vllmLike(2, 0, 0, 0)},
		{t: 3, r: vllmLike(2, 0, 0, 0)},
		{t: 4, r: vllmLike(0, 0, 2, 7)},
		{t: 5, r: vllmLike(0, 0, 2, 7)},
	})
	got := e.Totals()
	if !near(got.RequestSeconds, 7) {
		t.Errorf("request seconds = %v, want 7", got.RequestSeconds)
	}
	if want := at(3.75); !got.LastBusy.Equal(want) {
		t.Errorf("last busy = %v, want %v", got.LastBusy, want)
	}
	if !got.HaveReading || got.Last.Completed != 2 {
		t.Errorf("last reading = %+v", got.Last)
	}
}

func TestEstimatorTotalsAreMonotonic(t *testing.T) {
	// A long random-looking script never makes a total go down, and busy
	// plus idle always equals observed.
	e := NewEstimator(Options{})
	var prev Totals
	completed, latency := 0.0, 0.0
	for i := 0; i < 2000; i++ {
		running := float64((i * 7919) % 5 % 3)
		if i%97 == 0 {
			completed, latency = 0, 0 // restart
		}
		if i%3 == 0 {
			completed++
			latency += float64(i%11) / 10
		}
		switch {
		case i%53 == 0:
			e.Miss(at(float64(i)))
		case i%61 == 0:
			e.Absent(at(float64(i)))
		default:
			e.Observe(at(float64(i)), vllmLike(running, 0, completed, latency))
		}
		got := e.Totals()
		if got.ObservedSeconds < prev.ObservedSeconds || got.BusySeconds < prev.BusySeconds ||
			got.UnobservedSeconds < prev.UnobservedSeconds || got.Requests < prev.Requests ||
			got.RequestSeconds < prev.RequestSeconds || got.Gaps.Count < prev.Gaps.Count {
			t.Fatalf("poll %d: totals went down: %+v after %+v", i, got, prev)
		}
		if got.BusySeconds > got.ObservedSeconds+1e-9 {
			t.Fatalf("poll %d: busy %v > observed %v", i, got.BusySeconds, got.ObservedSeconds)
		}
		if s := got.ObservedSeconds + got.UnobservedSeconds; s > float64(i)+1e-6 {
			t.Fatalf("poll %d: accounted %v s of %d", i, s, i)
		}
		prev = got
	}
}
