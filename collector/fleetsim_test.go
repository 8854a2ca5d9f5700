package collector

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
	"github.com/placement-exporter/placement_exporter/fleetsim"
)

// TestSimulatedPagesReadBack renders every fleetsim format after some
// traffic and checks that the adapter reads back exactly the reading the
// simulator says the page holds, so the end-to-end test and the demo
// exercise the same code paths as real servers.
func TestSimulatedPagesReadBack(t *testing.T) {
	for _, name := range fleetsim.FormatNames() {
		t.Run(name, func(t *testing.T) {
			f, err := fleetsim.LookupFormat(name)
			if err != nil {
				t.Fatal(err)
			}
			n := 1
			if f.MultiModel {
				n = 2
			}
			var models []*fleetsim.ModelSim
			for i := 0; i < n; i++ {
				cfg := fleetsim.ModelConfig{
					Name: []string{"alpha", "beta"}[i], MaxConcurrency: 2,
					PrefillTokensPerSecond: 4000, TimePerOutputToken: 20 * time.Millisecond,
					KVCapacityTokens: 20000,
				}
				tokens := fleetsim.TokenModel{Prompt: fleetsim.Uniform{Min: 100, Max: 900}, Output: fleetsim.Uniform{Min: 10, Max: 200}}
				m, err := fleetsim.NewModelSim(cfg, fleetsim.NewPoisson(1.5, tokens, uint64(i+1), name), f.Layout)
				if err != nil {
					t.Fatal(err)
				}
				models = append(models, m)
			}
			// Read at several moments, so that some pages show requests in
			// flight and queued.
			for _, at := range []time.Duration{7 * time.Second, 61 * time.Second, 183 * time.Second} {
				for _, m := range models {
					m.AdvanceTo(at)
				}
				var page bytes.Buffer
				if err := f.Render(&page, models, time.Unix(1_700_000_000, 0)); err != nil {
					t.Fatal(err)
				}
				p, err := ParsePage(page.Bytes(), "text/plain; version=0.0.4")
				if err != nil {
					t.Fatalf("%s page at %s: %v", name, at, err)
				}
				a, err := Detect(p)
				if err != nil || a.Name() != f.Server {
					t.Fatalf("detected %v (%v), want %s", a, err, f.Server)
				}
				for _, m := range models {
					model := ""
					if !f.NamesModel {
						model = m.Name()
					}
					got, err := a.Models(p, model)
					if err != nil {
						t.Fatal(err)
					}
					if !sameReading(got[m.Name()], f.Expected(m)) {
						t.Errorf("%s at %s, model %s:\n got %+v\nwant %+v", name, at, m.Name(), got[m.Name()], f.Expected(m))
					}
				}
			}
		})
	}
}

func sameReading(a, b timeline.Reading) bool {
	if a.Present != b.Present {
		return false
	}
	for _, p := range [][2]float64{
		{a.Running, b.Running}, {a.Waiting, b.Waiting}, {a.Completed, b.Completed},
		{a.LatencySum, b.LatencySum}, {a.LatencyCount, b.LatencyCount},
		{a.ProcessingSeconds, b.ProcessingSeconds}, {a.PromptTokens, b.PromptTokens},
		{a.GenerationTokens, b.GenerationTokens}, {a.KVCacheUsage, b.KVCacheUsage},
	} {
		if math.Abs(p[0]-p[1]) > 1e-9*math.Max(1, math.Abs(p[1])) {
			return false
		}
	}
	return true
}
