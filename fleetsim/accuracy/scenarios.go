// Package accuracy measures how close the exporter's estimates come to the
// exact truth of a simulated model: duty cycle over one-hour windows, idle
// gaps found and their length, and the serverless bill. It feeds the
// exporter's own estimator from fleetsim on a virtual clock, so hours of
// traffic are checked in seconds, and it measures in the same run what a
// user would get from PromQL over the server's own running gauge.
package accuracy

import (
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/placement-exporter/placement_exporter/fleetsim"
)

// Scenario is one kind of traffic on one simulated model.
type Scenario struct {
	// Name identifies the scenario in the report.
	Name string
	// About says in a few words what the traffic looks like.
	About string
	// Duration is how long the scenario is simulated.
	Duration time.Duration
	// Model is the simulated model's serving configuration.
	Model fleetsim.ModelConfig
	// Source returns the scenario's traffic for a seed.
	Source func(seed uint64) fleetsim.Source
}

// TracePath is the Azure LLM code trace shipped in fleetsim's test data.
func TracePath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "azure-llm-2023-code.csv")
}

// gpuModel serves requests like a mid-size model on one GPU: 8000 prompt
// tokens per second of prefill and 20 ms per output token, the service
// model of research on the Azure trace.
func gpuModel(name string) fleetsim.ModelConfig {
	return fleetsim.ModelConfig{
		Name:                   name,
		MaxConcurrency:         32,
		PrefillTokensPerSecond: 8000,
		TimePerOutputToken:     20 * time.Millisecond,
		KVCapacityTokens:       200000,
	}
}

// chatTokens gives requests of about 3 s: ~800 prompt and ~150 output tokens.
var chatTokens = fleetsim.TokenModel{
	Prompt: fleetsim.LogNormal{Median: 800, Sigma: 0.7}, MaxPrompt: 8000,
	Output: fleetsim.LogNormal{Median: 150, Sigma: 0.6}, MaxOutput: 1000,
}

// shortTokens gives requests of 0.5 to 2 s.
var shortTokens = fleetsim.TokenModel{
	Prompt: fleetsim.Uniform{Min: 100, Max: 400},
	Output: fleetsim.Uniform{Min: 20, Max: 95},
}

// longTokens gives requests of about 10 s.
var longTokens = fleetsim.TokenModel{
	Prompt: fleetsim.LogNormal{Median: 2000, Sigma: 0.5}, MaxPrompt: 16000,
	Output: fleetsim.LogNormal{Median: 500, Sigma: 0.4}, MaxOutput: 2000,
}

// Scenarios returns the benchmark's scenarios. The Azure trace is read from
// tracePath.
func Scenarios(tracePath string) ([]Scenario, error) {
	tr, err := fleetsim.LoadTrace(tracePath)
	if err != nil {
		return nil, fmt.Errorf("loading the replay trace: %w", err)
	}
	hours := func(h int) time.Duration { return time.Duration(h) * time.Hour }
	s := []Scenario{
		{
			Name: "steady-high", About: "Poisson 2 req/s, ~3 s requests",
			Duration: hours(6), Model: gpuModel("steady-high"),
			Source: func(seed uint64) fleetsim.Source {
				return fleetsim.NewPoisson(2, chatTokens, seed, "steady-high")
			},
		},
		{
			Name: "steady-low", About: "Poisson 1 req/20 s, ~3 s requests",
			Duration: hours(6), Model: gpuModel("steady-low"),
			Source: func(seed uint64) fleetsim.Source {
				return fleetsim.NewPoisson(0.05, chatTokens, seed, "steady-low")
			},
		},
		{
			Name: "sparse-short", About: "Poisson 1 req/40 s, 0.5-2 s requests",
			Duration: hours(6), Model: gpuModel("sparse-short"),
			Source: func(seed uint64) fleetsim.Source {
				return fleetsim.NewPoisson(1.0/40, shortTokens, seed, "sparse-short")
			},
		},
		{
			Name: "bursty-short", About: "bursts of 2 req/s for 10-60 s, quiet ~2 min, 0.5-2 s requests",
			Duration: hours(6), Model: gpuModel("bursty-short"),
			Source: func(seed uint64) fleetsim.Source {
				return fleetsim.NewBursts(fleetsim.BurstConfig{
					Rate: 2, On: fleetsim.Uniform{Min: 10, Max: 60}, Off: fleetsim.Exponential{MeanValue: 120},
				}, shortTokens, seed, "bursty-short")
			},
		},
		{
			Name: "bursty-long", About: "bursts of 0.3 req/s for 30-120 s, quiet 1-10 min, ~10 s requests",
			Duration: hours(6), Model: gpuModel("bursty-long"),
			Source: func(seed uint64) fleetsim.Source {
				return fleetsim.NewBursts(fleetsim.BurstConfig{
					Rate: 0.3, On: fleetsim.Uniform{Min: 30, Max: 120}, Off: fleetsim.Uniform{Min: 60, Max: 600},
				}, longTokens, seed, "bursty-long")
			},
		},
		{
			Name: "daily-cycle", About: "Poisson from 0.005 to 1 req/s over 24 h, ~3 s requests",
			Duration: hours(24), Model: gpuModel("daily-cycle"),
			Source: func(seed uint64) fleetsim.Source {
				return fleetsim.NewDaily(fleetsim.DailyConfig{
					Trough: 0.005, Peak: 1, PeakAt: 14 * time.Hour,
				}, chatTokens, seed, "daily-cycle")
			},
		},
	}
	for _, keep := range []float64{1, 0.1, 0.01} {
		keep := keep
		name := fmt.Sprintf("azure-code-p%g", keep)
		s = append(s, Scenario{
			Name:  name,
			About: fmt.Sprintf("Azure 2023 code trace, each request kept with p = %g, looped", keep),
			// A thin replay has few busy periods an hour; simulate longer so
			// that its gap statistics mean something.
			Duration: hours(6), Model: gpuModel(name),
			Source: func(seed uint64) fleetsim.Source {
				return fleetsim.NewReplay(tr, fleetsim.ReplayConfig{Keep: keep, Loop: true}, seed, name)
			},
		})
	}
	return s, nil
}
