package timeline

import "testing"

// tritonLike returns a reading of a server without a running gauge: a
// waiting gauge and completion and latency counters, as Triton core.
func tritonLike(waiting, completed, latSum float64) Reading {
	return Reading{
		Waiting: waiting, Completed: completed, LatencySum: latSum, LatencyCount: completed,
		Present: FieldWaiting | FieldCompleted | FieldLatency,
	}
}

func TestBackfill(t *testing.T) {
	for _, tc := range []struct {
		name           string
		polls          []poll
		observed, busy float64
		unobserved     float64
		requestSeconds float64
	}{
		{
			// One 2.5 s request finished in (10, 11]: taken as finishing mid
			// interval, at 10.5, it ran from 8 to 10.5. Polls run to 40 s and
			// the hold is 10 s, so the timeline up to 30 s is emitted.
			name: "one request rebuilt backwards from its completion",
			polls: func() []poll {
				var p []poll
				for s := 0; s <= 40; s++ {
					r := tritonLike(0, 0, 0)
					if s >= 11 {
						r = tritonLike(0, 1, 2.5)
					}
					p = append(p, poll{t: float64(s), r: r})
				}
				return p
			}(),
			observed: 30, busy: 2.5, requestSeconds: 2.5,
		},
		{
			// Two requests of 1.5 s each finished in (10, 11], taken at 10.25
			// and 10.75: [8.75, 10.25] and [9.25, 10.75] make 2 s busy.
			name: "two requests spread over the interval",
			polls: func() []poll {
				var p []poll
				for s := 0; s <= 40; s++ {
					r := tritonLike(0, 0, 0)
					if s >= 11 {
						r = tritonLike(0, 2, 3)
					}
					p = append(p, poll{t: float64(s), r: r})
				}
				return p
			}(),
			observed: 30, busy: 2, requestSeconds: 3,
		},
		{
			// A request waiting at the poll at 5 (none at 4 or 6) is busy for
			// half of each interval around it: 4.5 to 5.5.
			name: "waiting gauge marks the polls busy",
			polls: func() []poll {
				var p []poll
				for s := 0; s <= 30; s++ {
					w := 0.0
					if s == 5 {
						w = 1
					}
					p = append(p, poll{t: float64(s), r: tritonLike(w, 0, 0)})
				}
				return p
			}(),
			observed: 20, busy: 1,
		},
		{
			// A 5 s request finished in (11, 12], so ran from 6.5 to 11.5;
			// the poll at 10 failed, leaving (9, 11] unobserved: only 6.5 to
			// 9 and 11 to 11.5 count busy.
			name: "no busy time in unobserved intervals",
			polls: func() []poll {
				var p []poll
				for s := 0; s <= 40; s++ {
					r := tritonLike(0, 0, 0)
					if s >= 12 {
						r = tritonLike(0, 1, 5)
					}
					if s == 10 {
						p = append(p, poll{t: 10, miss: true})
						continue
					}
					p = append(p, poll{t: float64(s), r: r})
				}
				return p
			}(),
			observed: 28, unobserved: 2, busy: 3, requestSeconds: 5,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := script(Options{}, tc.polls)
			got := e.Totals()
			if !near(got.ObservedSeconds, tc.observed) || !near(got.BusySeconds, tc.busy) ||
				!near(got.UnobservedSeconds, tc.unobserved) || !near(got.RequestSeconds, tc.requestSeconds) {
				t.Errorf("observed/busy/unobserved/request-seconds = %v/%v/%v/%v, want %v/%v/%v/%v\nsegments %+v",
					got.ObservedSeconds, got.BusySeconds, got.UnobservedSeconds, got.RequestSeconds,
					tc.observed, tc.busy, tc.unobserved, tc.requestSeconds, rec.segs)
			}
		})
	}
}

func TestBackfillHoldFollowsLatency(t *testing.T) {
	// Two 30 s requests finish in (34, 35] and (134, 135]. When the first
	// finishes the hold is still 10 s and the timeline up to 24 s is out, so
	// only 24 to 34.5 of it counts busy (10.5 s). It raises the hold to 60 s,
	// so the second, 104.5 to 134.5, counts whole. Polls to 200 s emit up to
	// 140 s: busy 10.5 + 30.
	var polls []poll
	for s := 0; s <= 200; s++ {
		r := tritonLike(0, 0, 0)
		switch {
		case s >= 135:
			r = tritonLike(0, 2, 60)
		case s >= 35:
			r = tritonLike(0, 1, 30)
		}
		polls = append(polls, poll{t: float64(s), r: r})
	}
	e, _ := script(Options{}, polls)
	got := e.Totals()
	if !near(got.ObservedSeconds, 140) || !near(got.BusySeconds, 40.5) {
		t.Errorf("observed/busy = %v/%v, want 140/40.5", got.ObservedSeconds, got.BusySeconds)
	}
}

func TestModeSwitch(t *testing.T) {
	// The server gains a running gauge at 30 s (a backend was added): the
	// backfill is emitted whole and the gauges take over.
	var polls []poll
	for s := 0; s <= 40; s++ {
		r := tritonLike(0, 0, 0)
		if s >= 30 {
			r = vllmLike(0, 0, 0, 0)
		}
		polls = append(polls, poll{t: float64(s), r: r})
	}
	e, _ := script(Options{}, polls)
	if got := e.Totals(); !near(got.ObservedSeconds, 40) {
		t.Errorf("observed = %v, want 40", got.ObservedSeconds)
	}
}
