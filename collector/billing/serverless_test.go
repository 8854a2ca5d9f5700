package billing

import (
	"math"
	"testing"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// testOffer is a serverless offer with round numbers: $0.001 per GPU-second,
// billed per second with no minimum, warm idle and cold starts billed, a
// 10 s cold start, any window allowed.
func testOffer(change ...func(*Offer)) Offer {
	o := Offer{
		ID: "test/GPU", Provider: "test", Name: "GPU", GPU: "GPU", Mode: ModeServerless,
		Commitment: "none", Price: 0.001, Unit: "usd_per_gpu_second", Currency: "USD",
		GPUsPerUnit: 1, GranularitySeconds: 1,
		Window:        WindowRange{Default: 60, Max: math.Inf(1)},
		BillsIdleWarm: true, BillsColdStart: true, ColdStartSeconds: 10,
		perGPUSecond: 0.001,
	}
	for _, c := range change {
		c(&o)
	}
	return o
}

func busy(s, inFlight float64) timeline.Segment {
	return timeline.Segment{Kind: timeline.Busy, Seconds: s, InFlight: inFlight}
}
func idle(s float64) timeline.Segment { return timeline.Segment{Kind: timeline.Idle, Seconds: s} }
func unobserved(s float64) timeline.Segment {
	return timeline.Segment{Kind: timeline.Unobserved, Seconds: s}
}

func simulate(t testing.TB, o Offer, window float64, opts Options,
	segs ...timeline.Segment) Totals {
	t.Helper()
	s, err := NewServerless(o, window, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range segs {
		s.Add(seg)
	}
	return s.Totals()
}

func checkTotals(t *testing.T, got, want Totals) {
	t.Helper()
	if !near(got.BilledSeconds, want.BilledSeconds) || got.ColdStarts != want.ColdStarts ||
		!near(got.ColdStartDelaySeconds, want.ColdStartDelaySeconds) ||
		!near(got.ObservedSeconds, want.ObservedSeconds) ||
		!near(got.BusySeconds, want.BusySeconds) || !near(got.Dollars, want.Dollars) {
		t.Errorf("totals:\n got %+v\nwant %+v", got, want)
	}
}

func TestServerlessRules(t *testing.T) {
	perMinute := func(o *Offer) { o.GranularitySeconds, o.MinBilledSeconds = 60, 60 }
	tests := []struct {
		name   string
		offer  Offer
		window float64
		opts   Options
		segs   []timeline.Segment
		want   Totals
	}{{
		// Cold start 10 + busy 5 + warm 60, then scale-down: 75 s.
		name: "one request", offer: testOffer(), window: 60,
		segs: []timeline.Segment{idle(100), busy(5, 1), idle(200)},
		want: Totals{ObservedSeconds: 305, BusySeconds: 5, BilledSeconds: 75, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.075},
	}, {
		// 10 cold + 5 + 30 warm (gap < window) + 5 + 60 warm = 110 s, one start.
		name: "two requests closer than the window", offer: testOffer(), window: 60,
		segs: []timeline.Segment{idle(10), busy(5, 1), idle(30), busy(5, 1), idle(100)},
		want: Totals{ObservedSeconds: 150, BusySeconds: 10, BilledSeconds: 110, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.110},
	}, {
		// Each request: 10 cold + 5 + 60 warm = 75 s; 2 × 75 = 150 s.
		name: "two requests farther apart", offer: testOffer(), window: 60,
		segs: []timeline.Segment{idle(10), busy(5, 1), idle(100), busy(5, 1), idle(100)},
		want: Totals{ObservedSeconds: 220, BusySeconds: 10, BilledSeconds: 150, ColdStarts: 2,
			ColdStartDelaySeconds: 20, Dollars: 0.150},
	}, {
		// A gap equal to the window keeps the replica warm:
		// 10 + 5 + 60 + 5 + 60 = 140 s, one start.
		name: "gap equal to the window", offer: testOffer(), window: 60,
		segs: []timeline.Segment{idle(10), busy(5, 1), idle(60), busy(5, 1), idle(100)},
		want: Totals{ObservedSeconds: 180, BusySeconds: 10, BilledSeconds: 140, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.140},
	}, {
		// Busy from the first observed segment: still a cold start, as if
		// the deployment began with observation. 10 + 5 + 60 = 75 s.
		name: "busy at the start of observation", offer: testOffer(), window: 60,
		segs: []timeline.Segment{unobserved(50), busy(5, 1), idle(100)},
		want: Totals{ObservedSeconds: 105, BusySeconds: 5, BilledSeconds: 75, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.075},
	}, {
		// Life 10 + 5 + 20 = 35 s, billed at least 60 s.
		name:  "minimum billed time",
		offer: testOffer(func(o *Offer) { o.MinBilledSeconds = 60 }), window: 20,
		segs: []timeline.Segment{idle(1), busy(5, 1), idle(100)},
		want: Totals{ObservedSeconds: 106, BusySeconds: 5, BilledSeconds: 60, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.060},
	}, {
		// Per started minute: life 10 + 70 + 30 = 110 s → 120 s.
		name: "per-minute rounding", offer: testOffer(perMinute), window: 30,
		segs: []timeline.Segment{idle(1), busy(70, 1), idle(100)},
		want: Totals{ObservedSeconds: 171, BusySeconds: 70, BilledSeconds: 120, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.120},
	}, {
		// Idle time not billed: (10 cold + 5 busy) + (5 busy) = 20 s.
		name:  "warm idle not billed",
		offer: testOffer(func(o *Offer) { o.BillsIdleWarm = false }), window: 60,
		segs: []timeline.Segment{idle(10), busy(5, 1), idle(30), busy(5, 1), idle(100)},
		want: Totals{ObservedSeconds: 150, BusySeconds: 10, BilledSeconds: 20, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.020},
	}, {
		// Cold start counted and delayed but not billed: 5 + 60 = 65 s.
		name:  "cold start not billed",
		offer: testOffer(func(o *Offer) { o.BillsColdStart = false }), window: 60,
		segs: []timeline.Segment{idle(10), busy(5, 1), idle(100)},
		want: Totals{ObservedSeconds: 115, BusySeconds: 5, BilledSeconds: 65, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.065},
	}, {
		// One replica billed for all 205 observed seconds, never cold.
		name: "keep-warm container", offer: testOffer(), window: 60,
		opts: Options{MinContainers: 1},
		segs: []timeline.Segment{idle(100), busy(5, 1), idle(100)},
		want: Totals{ObservedSeconds: 205, BusySeconds: 5, BilledSeconds: 205, Dollars: 0.205},
	}, {
		// 2 in flight, 1 per replica: the kept-warm replica bills 205 s and
		// a second one starts: 10 + 5 + 60 = 75 s. 205 + 75 = 280 s.
		name: "keep-warm container plus one", offer: testOffer(), window: 60,
		opts: Options{MinContainers: 1, MaxConcurrencyPerReplica: 1},
		segs: []timeline.Segment{idle(100), busy(5, 2), idle(100)},
		want: Totals{ObservedSeconds: 205, BusySeconds: 5, BilledSeconds: 280, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.280},
	}, {
		// t=0-10 idle; 10-20: 5 in flight, 2 per replica → 3 replicas start
		// (3 cold starts); 20-40: 2 in flight → replica 1 busy, 2 and 3 warm
		// until 20+60 = 80; replica 1 warm until 40+60 = 100.
		// Lives: replica 1 = 10 cold + (100-10) = 100 s, replicas 2 and 3 =
		// 10 + (80-10) = 80 s. × 2 GPUs: (100 + 80 + 80) × 2 = 520 GPU-s.
		name: "concurrency beyond one replica", offer: testOffer(), window: 60,
		opts: Options{MaxConcurrencyPerReplica: 2, GPUsPerReplica: 2},
		segs: []timeline.Segment{idle(10), busy(10, 5), busy(20, 2), idle(100)},
		want: Totals{ObservedSeconds: 140, BusySeconds: 30, BilledSeconds: 520, ColdStarts: 3,
			ColdStartDelaySeconds: 30, Dollars: 0.520},
	}, {
		// t=0-10 idle; 10-15: 4 replicas start; 15-215: 1 busy, replicas 2-4
		// scale down at 15+60 = 75 in the middle of the busy segment (life
		// 10 + 65 = 75 s each); replica 1 warm to 275 (life 10 + 265 = 275 s).
		// 3 × 75 + 275 = 500 s.
		name: "extra replicas scale down during a busy segment", offer: testOffer(), window: 60,
		opts: Options{MaxConcurrencyPerReplica: 1},
		segs: []timeline.Segment{idle(10), busy(5, 4), busy(200, 1), idle(100)},
		want: Totals{ObservedSeconds: 315, BusySeconds: 205, BilledSeconds: 500, ColdStarts: 4,
			ColdStartDelaySeconds: 40, Dollars: 0.500},
	}, {
		// The 1000 s unobserved are cut out: the gap is 30 observed seconds,
		// shorter than the window. 10 + 5 + 30 + 5 + 60 = 110 s.
		name: "unobserved time cut out", offer: testOffer(), window: 60,
		segs: []timeline.Segment{idle(10), busy(5, 1), unobserved(1000), idle(30), busy(5, 1),
			idle(100)},
		want: Totals{ObservedSeconds: 150, BusySeconds: 10, BilledSeconds: 110, ColdStarts: 1,
			ColdStartDelaySeconds: 10, Dollars: 0.110},
	}, {
		// The gap spans an unobserved stretch: 40 + 40 = 80 observed idle
		// seconds > 60, so the replica scales down 60 s into it and the next
		// request cold-starts. 2 × (10 + 5 + 60) = 150 s.
		name: "gap spanning an unobserved stretch", offer: testOffer(), window: 60,
		segs: []timeline.Segment{idle(10), busy(5, 1), idle(40), unobserved(500), idle(40),
			busy(5, 1), idle(100)},
		want: Totals{ObservedSeconds: 200, BusySeconds: 10, BilledSeconds: 150, ColdStarts: 2,
			ColdStartDelaySeconds: 20, Dollars: 0.150},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := simulate(t, tc.offer, tc.window, tc.opts, tc.segs...)
			checkTotals(t, got, tc.want)
			ref := reference(tc.offer, tc.window, tc.opts, tc.segs)
			checkTotals(t, ref, tc.want)
		})
	}
}

// TestServerlessBaseten checks per-minute billing with the catalog's
// Baseten H100 offer: $0.10833 per GPU-minute, 60 s increments, 60 s minimum.
func TestServerlessBaseten(t *testing.T) {
	o, ok := DefaultCatalog().Offer("baseten/H100")
	if !ok {
		t.Fatal("baseten/H100 missing from the default catalog")
	}
	// Window 30 s, cold start 30 s (the placeholder), billed.
	// Life 1: 30 cold + 5 busy + 30 warm = 65 s → 120 s.
	// Life 2 (the 100 s gap exceeds the window): 30 + 1 + 30 = 61 s → 120 s.
	// 240 s = 4 minutes × $0.10833 = $0.43332.
	got := simulate(t, o, 30, Options{}, idle(1), busy(5, 1), idle(100), busy(1, 1), idle(500))
	checkTotals(t, got, Totals{ObservedSeconds: 607, BusySeconds: 6, BilledSeconds: 240,
		ColdStarts: 2, ColdStartDelaySeconds: 60, Dollars: 4 * 0.10833})
}

// TestServerlessSmallSegments feeds a timeline cut into 0.1 s segments,
// whose float sums are not exact, and checks that totals never fall and
// that rounding neither loses nor adds a billing increment.
func TestServerlessSmallSegments(t *testing.T) {
	// A cold start of 0 s keeps the lives below round.
	o := testOffer(func(o *Offer) {
		o.GranularitySeconds, o.MinBilledSeconds, o.ColdStartSeconds = 60, 60, 0
	})
	type run struct {
		seg timeline.Segment
		n   int
	}
	tests := []struct {
		name string
		runs []run
		want float64
	}{{
		// Life 30 busy + 30 warm = 60 s, billed 60 s, not 120 s for a
		// float sum a hair above 60.
		name: "life of exactly one increment",
		runs: []run{{busy(0.1, 1), 300}, {idle(0.1), 1000}},
		want: 60,
	}, {
		// A gap of exactly 30 s in 0.1 s steps keeps the replica warm, so one
		// life: 30.1 busy + 30 idle + 0.1 busy + 30 warm = 90.2 s → 120 s (a
		// scale-down in the gap would bill 60.1 → 120 s plus a second life
		// 0.1 + 30 = 30.1 → 60 s, and a second cold start).
		name: "gap of exactly the window",
		runs: []run{{busy(0.1, 1), 301}, {idle(0.1), 300}, {busy(0.1, 1), 1}, {idle(0.1), 1000}},
		want: 120,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewServerless(o, 30, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var prev Totals
			for _, r := range tc.runs {
				for range r.n {
					s.Add(r.seg)
					cur := s.Totals()
					if cur.BilledSeconds < prev.BilledSeconds || cur.Dollars < prev.Dollars ||
						cur.ObservedSeconds < prev.ObservedSeconds {
						t.Fatalf("totals fell: %+v after %+v", cur, prev)
					}
					prev = cur
				}
			}
			if got := s.Totals(); !near(got.BilledSeconds, tc.want) || got.ColdStarts != 1 {
				t.Errorf("billed %v s with %d cold starts, want %v s and 1",
					got.BilledSeconds, got.ColdStarts, tc.want)
			}
		})
	}
}

// TestServerlessHugeInFlight checks the replica cap: 1e300 requests in
// flight, 1 per replica, start 65536 replicas, each billed 10 cold + 1 busy
// + 0 warm (window 0) = 11 s: 720896 s.
func TestServerlessHugeInFlight(t *testing.T) {
	got := simulate(t, testOffer(), 0, Options{MaxConcurrencyPerReplica: 1},
		idle(1), busy(1, 1e300), idle(1), busy(1, math.Inf(1)), idle(1))
	checkTotals(t, got, Totals{ObservedSeconds: 5, BusySeconds: 2, BilledSeconds: 2 * 720896,
		ColdStarts: 2 * 65536, ColdStartDelaySeconds: 2 * 655360, Dollars: 2 * 720.896})
}

func TestServerlessNoAllocation(t *testing.T) {
	s, err := NewServerless(testOffer(), 60, Options{MaxConcurrencyPerReplica: 2})
	if err != nil {
		t.Fatal(err)
	}
	segs := []timeline.Segment{busy(1, 7), busy(1, 3), idle(30), busy(2, 1), idle(100),
		unobserved(5)}
	for _, seg := range segs { // warm up: the cohort slice reaches its size
		s.Add(seg)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, seg := range segs {
			s.Add(seg)
		}
	})
	if allocs != 0 {
		t.Errorf("Add allocates %v times per pass in steady state, want 0", allocs)
	}
}

func TestNewServerlessErrors(t *testing.T) {
	modal := testOffer(func(o *Offer) {
		o.ID, o.Window = "modal/H100", WindowRange{Default: 60, Min: 2, Max: 1200}
	})
	aws := testOffer(func(o *Offer) { o.ID, o.Mode = "aws/p5.4xlarge", ModeAlwaysOn })
	tests := []struct {
		offer  Offer
		window float64
		opts   Options
		want   string
	}{
		{modal, 1500, Options{}, `offer "modal/H100": window 1500 s is outside the allowed ` +
			`range 2–1200 s (the provider's default is 60 s)`},
		{modal, math.NaN(), Options{}, `offer "modal/H100": window NaN s is outside the ` +
			`allowed range 2–1200 s (the provider's default is 60 s)`},
		{testOffer(), math.Inf(1), Options{},
			`offer "test/GPU": window must be a finite number of seconds`},
		{aws, 60, Options{}, `offer "aws/p5.4xlarge": a scale-down window applies only to ` +
			`serverless offers, this one is always_on`},
		{modal, 60, Options{MinContainers: -1}, `offer "modal/H100": minimum containers ` +
			`must be between 0 and 65536, got -1`},
		{modal, 60, Options{MaxConcurrencyPerReplica: -2}, `offer "modal/H100": max ` +
			`concurrency per replica must be ≥ 0 (0 = no limit), got -2`},
		{modal, 60, Options{GPUsPerReplica: -1}, `offer "modal/H100": GPUs per replica ` +
			`must be ≥ 1, got -1`},
	}
	for _, tc := range tests {
		_, err := NewServerless(tc.offer, tc.window, tc.opts)
		if err == nil || err.Error() != tc.want {
			t.Errorf("NewServerless(%s, %v, %+v) error:\n got %v\nwant %s", tc.offer.ID,
				tc.window, tc.opts, err, tc.want)
		}
	}
}

// reference is a plain per-replica simulation of the same rules, written
// independently of the cohort bookkeeping, for cross-checking.
func reference(o Offer, window float64, opts Options, segs []timeline.Segment) Totals {
	type replica struct {
		warm                      bool
		start, lastBusy, busy, cb float64
	}
	var (
		tot   Totals
		reps  []replica
		clock float64
	)
	gpus := float64(max(opts.GPUsPerReplica, 1))
	cb := 0.0
	if o.BillsColdStart {
		cb = o.ColdStartSeconds
	}
	end := func(r *replica, at float64) {
		life := r.busy + r.cb
		if o.BillsIdleWarm {
			life = at - r.start + r.cb
		}
		g := o.GranularitySeconds
		rounded := math.Max(math.Ceil((life-timeTolerance)/g)*g, o.MinBilledSeconds)
		tot.BilledSeconds += math.Max(rounded-life, 0) * gpus
		r.warm = false
	}
	for _, seg := range segs {
		if !(seg.Seconds > 0) || math.IsInf(seg.Seconds, 1) ||
			(seg.Kind != timeline.Busy && seg.Kind != timeline.Idle) {
			continue
		}
		n := 0
		if seg.Kind == timeline.Busy {
			n = 1
			if opts.MaxConcurrencyPerReplica > 0 {
				f := seg.InFlight
				if !(f >= 1) {
					f = 1
				}
				n = int(math.Min(math.Ceil(f/opts.MaxConcurrencyPerReplica-1e-9), maxReplicas))
			}
			n -= opts.MinContainers
		}
		for len(reps) < n {
			reps = append(reps, replica{})
		}
		stop := clock + seg.Seconds
		for k := range reps {
			r := &reps[k]
			switch {
			case k < n && !r.warm:
				tot.ColdStarts++
				tot.ColdStartDelaySeconds += o.ColdStartSeconds
				tot.BilledSeconds += cb * gpus
				*r = replica{warm: true, start: clock, cb: cb}
				fallthrough
			case k < n:
				r.busy += seg.Seconds
				r.lastBusy = stop
				tot.BilledSeconds += seg.Seconds * gpus
			case r.warm:
				down := r.lastBusy + window
				warmUntil := stop
				if down < stop-timeTolerance {
					warmUntil = math.Max(down, clock)
				}
				if o.BillsIdleWarm {
					tot.BilledSeconds += (warmUntil - clock) * gpus
				}
				if warmUntil < stop {
					end(r, warmUntil)
				}
			}
		}
		for len(reps) > 0 && !reps[len(reps)-1].warm {
			reps = reps[:len(reps)-1] // keep the loop short after a burst ends
		}
		tot.BilledSeconds += float64(opts.MinContainers) * seg.Seconds * gpus
		tot.ObservedSeconds += seg.Seconds
		if seg.Kind == timeline.Busy {
			tot.BusySeconds += seg.Seconds
		}
		clock = stop
	}
	tot.Dollars = tot.BilledSeconds * o.PricePerGPUSecond()
	return tot
}
