package timeline

import (
	"testing"
	"time"
)

// readings returns n polls of a model that is busy about a third of the
// time in short runs, with its counters advancing.
func readings(n int) []Reading {
	out := make([]Reading, n)
	var completed, latency float64
	for i := range out {
		running := float64((i / 3) % 3 % 2 * (1 + i%2))
		if i%7 == 0 {
			completed++
			latency += 0.8
		}
		out[i] = vllmLike(running, 0, completed, latency)
	}
	return out
}

// BenchmarkEstimatorObserve is the estimator's cost per poll of one model.
// Compare with BenchmarkBaselineDeltas, the least any estimator must do
// per poll (classify the reading and take its counter differences).
func BenchmarkEstimatorObserve(b *testing.B) {
	rs := readings(4096)
	e := NewEstimator(Options{}, &GapRecorder{})
	t := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t = t.Add(time.Second)
		e.Observe(t, rs[i%len(rs)])
	}
}

var sink float64

func BenchmarkBaselineDeltas(b *testing.B) {
	rs := readings(4096)
	prev := rs[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := rs[i%len(rs)]
		if r.Busy() {
			sink++
		}
		sink += r.Completed - prev.Completed + r.LatencySum - prev.LatencySum
		prev = r
	}
}
