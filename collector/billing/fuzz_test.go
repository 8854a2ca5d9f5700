package billing

import (
	"math"
	"testing"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// fuzzSegments turns bytes into an offer variant, options and a segment
// stream: a header of 4 bytes, then 3 bytes per segment (kind, length, in
// flight). Lengths include 0, tiny, NaN, ±Inf and negative values.
func fuzzSegments(data []byte) (Offer, float64, Options, []timeline.Segment) {
	for len(data) < 4 {
		data = append(data, 0)
	}
	h := data[:4]
	o := testOffer(func(o *Offer) {
		o.GranularitySeconds = []float64{1, 0.1, 60, 7}[h[0]&3]
		o.MinBilledSeconds = []float64{0, 60, 5, 0}[h[0]>>2&3]
		o.BillsIdleWarm = h[0]&16 == 0
		o.BillsColdStart = h[0]&32 == 0
		o.ColdStartSeconds = float64(h[1] & 31)
	})
	window := []float64{0, 1, 5, 60, 300, 900, 2.5, 3600}[h[1]>>5]
	opts := Options{
		MinContainers:            int(h[2] & 3),
		MaxConcurrencyPerReplica: []float64{0, 1, 2, 0.5, 8, 3, 1, 4}[h[2]>>2&7],
		GPUsPerReplica:           int(h[3] & 7),
	}
	lengths := []float64{0, 1e-9, 0.1, 0.5, 1, 2.5, 5, 30, 59.999999, 60, 60.0000001, 61,
		300, 899, 900, 3600, 86400, -1, math.NaN(), math.Inf(1), math.Inf(-1), 1e-3}
	var segs []timeline.Segment
	const most = 2000 // segments; enough to reach every state
	for p := data[4:]; len(p) >= 3 && len(segs) < most; p = p[3:] {
		seg := timeline.Segment{Kind: timeline.Kind(p[0] % 4), Seconds: lengths[int(p[1])%len(lengths)]}
		if seg.Kind == timeline.Busy {
			seg.InFlight = []float64{1, 2, 3, 7, 64, 0, math.NaN(), 100}[p[2]&7]
		}
		segs = append(segs, seg)
	}
	return o, window, opts, segs
}

func FuzzServerless(f *testing.F) {
	f.Add([]byte{0, 0x60, 0x04, 1, 1, 6, 1, 0, 10, 0, 1, 7, 0})
	f.Add([]byte{3, 0xe7, 0x0f, 2, 1, 4, 3, 1, 4, 4, 2, 3, 0, 0, 13, 0, 1, 12, 7})
	f.Add([]byte{0x3f, 0x20, 0x1c, 7, 1, 2, 4, 0, 2, 0, 1, 2, 1, 1, 2, 2, 0, 18, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		o, window, opts, segs := fuzzSegments(data)
		s, err := NewServerless(o, window, opts)
		if err != nil {
			t.Fatal(err)
		}
		var prev Totals
		for i, seg := range segs {
			s.Add(seg)
			cur := s.Totals()
			for _, v := range []float64{cur.ObservedSeconds, cur.BusySeconds, cur.BilledSeconds,
				cur.ColdStartDelaySeconds, cur.Dollars} {
				if !(v >= 0) || math.IsInf(v, 0) {
					t.Fatalf("segment %d (%+v): a total is negative or not finite: %+v", i, seg, cur)
				}
			}
			if cur.ObservedSeconds < prev.ObservedSeconds || cur.BusySeconds < prev.BusySeconds ||
				cur.BilledSeconds < prev.BilledSeconds || cur.ColdStarts < prev.ColdStarts ||
				cur.ColdStartDelaySeconds < prev.ColdStartDelaySeconds || cur.Dollars < prev.Dollars {
				t.Fatalf("segment %d (%+v): totals fell:\n%+v\nafter\n%+v", i, seg, cur, prev)
			}
			prev = cur
		}
		// The reference adds each replica's seconds one by one, so with
		// thousands of replicas its float sum drifts by about 1e-9 relative.
		ref := reference(o, window, opts, segs)
		close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-7*math.Max(1, b) }
		if !close(prev.BilledSeconds, ref.BilledSeconds) || prev.ColdStarts != ref.ColdStarts ||
			!close(prev.ObservedSeconds, ref.ObservedSeconds) {
			t.Fatalf("simulation and per-replica reference disagree:\n got %+v\nwant %+v",
				prev, ref)
		}
	})
}

// benchSegments returns a repeatable mix of busy and idle segments of 0.2
// to 30 s, with 1 to 16 requests in flight.
func benchSegments(n int) []timeline.Segment {
	segs := make([]timeline.Segment, n)
	x := uint32(12345)
	for i := range segs {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		secs := 0.2 + float64(x%300)/10
		if i%2 == 0 {
			segs[i] = timeline.Segment{Kind: timeline.Busy, Seconds: secs, InFlight: float64(1 + x>>8%16)}
		} else {
			segs[i] = timeline.Segment{Kind: timeline.Idle, Seconds: secs * 4}
		}
	}
	return segs
}

var sink float64

// BenchmarkServerlessAdd times Add over a million segments against a loop
// that only sums busy seconds over the same slice, in the same run, and
// reports the ratio as "x-baseline".
func BenchmarkServerlessAdd(b *testing.B) {
	segs := benchSegments(1_000_000)
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"one-replica", Options{}},
		{"up-to-8-replicas", Options{MaxConcurrencyPerReplica: 2, GPUsPerReplica: 2}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := testOffer(func(o *Offer) { o.GranularitySeconds, o.MinBilledSeconds = 60, 60 })
			s, err := NewServerless(o, 60, bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var base, sim time.Duration
			for b.Loop() {
				t0 := time.Now()
				var sum float64
				for _, seg := range segs {
					if seg.Kind == timeline.Busy {
						sum += seg.Seconds
					}
				}
				sink += sum
				t1 := time.Now()
				for _, seg := range segs {
					s.Add(seg)
				}
				t2 := time.Now()
				base += t1.Sub(t0)
				sim += t2.Sub(t1)
			}
			n := float64(b.N) * float64(len(segs))
			b.ReportMetric(float64(sim.Nanoseconds())/n, "ns/segment")
			b.ReportMetric(float64(sim)/float64(base), "x-baseline")
		})
	}
}
