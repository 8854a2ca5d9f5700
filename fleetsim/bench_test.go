package fleetsim

import (
	"testing"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// busyHour is one simulated hour of a busy model: Poisson 4 req/s of about
// 4.5 s each on 32 slots, about 14 400 requests.
func busyHourSource() Source {
	tm := TokenModel{Prompt: LogNormal{Median: 800, Sigma: 0.7}, Output: LogNormal{Median: 200, Sigma: 0.6}}
	return NewPoisson(4, tm, 1, "bench")
}

// BenchmarkArrivalsOnly is the baseline: drawing one hour of arrivals.
func BenchmarkArrivalsOnly(b *testing.B) {
	for b.Loop() {
		count(busyHourSource(), time.Hour)
	}
}

// BenchmarkSimulateBusyHour simulates the same hour through the engine in
// one-second steps, reading the stats at every step as a poller would, and
// then derives the hour's ground truth.
func BenchmarkSimulateBusyHour(b *testing.B) {
	cfg := ModelConfig{Name: "m", MaxConcurrency: 32, PrefillTokensPerSecond: 8000,
		TimePerOutputToken: 20 * time.Millisecond, KVCapacityTokens: 120000}
	for b.Loop() {
		m, err := NewModelSim(cfg, busyHourSource(), vllmLayout)
		if err != nil {
			b.Fatal(err)
		}
		for t := time.Second; t <= time.Hour; t += time.Second {
			m.AdvanceTo(t)
			m.Stats()
		}
		var gaps timeline.GapRecorder
		m.Truth().Feed(0, time.Hour, &gaps)
	}
}
