package fleetsim

import (
	"math"
	"strings"
	"testing"
	"time"
)

var fixedTokens = TokenModel{Prompt: Fixed(100), Output: Fixed(10)}

// count returns the number of requests src yields before until.
func count(src Source, until time.Duration) (n int, last time.Duration) {
	for {
		r, ok := src.Next()
		if !ok || r.Arrival >= until {
			return n, last
		}
		if r.Arrival < last {
			panic("arrivals out of order")
		}
		n, last = n+1, r.Arrival
	}
}

func TestPoissonRate(t *testing.T) {
	// 2 req/s over 10 000 s: mean 20 000, standard deviation sqrt(20 000) ≈ 141;
	// ±4 sigma is ±566.
	n, _ := count(NewPoisson(2, fixedTokens, 1, "p"), 10000*time.Second)
	if math.Abs(float64(n)-20000) > 566 {
		t.Errorf("%d arrivals, want 20000 ± 566", n)
	}
}

func TestBurstsRateAndSilence(t *testing.T) {
	// Bursts of 10 s at 5 req/s, then 90 s of silence: 50 requests per
	// 100 s, 0.5 req/s on average; over 20 000 s about 10 000 ± 4·100.
	cfg := BurstConfig{Rate: 5, On: Fixed(10), Off: Fixed(90)}
	src := NewBursts(cfg, fixedTokens, 1, "b")
	n := 0
	for {
		r, ok := src.Next()
		if !ok || r.Arrival >= 20000*time.Second {
			break
		}
		n++
		if phase := math.Mod(r.Arrival.Seconds(), 100); phase >= 10 {
			t.Fatalf("request at %v falls in a quiet period", r.Arrival)
		}
	}
	if math.Abs(float64(n)-10000) > 400 {
		t.Errorf("%d arrivals, want 10000 ± 400", n)
	}
	// Starting quiet: nothing in the first 90 s.
	first, _ := NewBursts(BurstConfig{Rate: 5, On: Fixed(10), Off: Fixed(90), StartQuiet: true},
		fixedTokens, 1, "b").Next()
	if first.Arrival < 90*time.Second {
		t.Errorf("first request at %v, want after the 90 s quiet start", first.Arrival)
	}
}

func TestDailyCycle(t *testing.T) {
	// A day compressed 144× lasts 600 s; the rate runs from 0.5 at the
	// trough to 4.5 at the peak (peak at 12:00, 300 s into each short day).
	cfg := DailyConfig{Trough: 0.5, Peak: 4.5, PeakAt: 12 * time.Hour, Compression: 144}
	if r := cfg.RateAt(300 * time.Second); math.Abs(r-4.5) > 1e-9 {
		t.Errorf("rate at the peak %v, want 4.5", r)
	}
	if r := cfg.RateAt(0); math.Abs(r-0.5) > 1e-9 {
		t.Errorf("rate at the trough %v, want 0.5", r)
	}
	// Over 100 short days the mean rate is 2.5 req/s: 150 000 ± 4·387.
	src := NewDaily(cfg, fixedTokens, 1, "d")
	n, _ := count(src, 60000*time.Second)
	if math.Abs(float64(n)-150000) > 1550 {
		t.Errorf("%d arrivals, want 150000 ± 1550", n)
	}
	// Busy hour against quiet hour: the 60 s around the peak see far more.
	var peak, trough int
	src = NewDaily(cfg, fixedTokens, 1, "d")
	for {
		r, ok := src.Next()
		if !ok || r.Arrival >= 6000*time.Second {
			break
		}
		switch p := math.Mod(r.Arrival.Seconds(), 600); {
		case p >= 270 && p < 330:
			peak++
		case p < 30 || p >= 570:
			trough++
		}
	}
	if peak < 5*trough {
		t.Errorf("%d arrivals near the peak against %d near the trough", peak, trough)
	}
}

func TestTokenDraws(t *testing.T) {
	tm := TokenModel{Prompt: LogNormal{Median: 500, Sigma: 0.8}, Output: Uniform{Min: 0, Max: 3}, MaxPrompt: 2000}
	src := NewPoisson(1, tm, 1, "t")
	var above, n int
	for range 5000 {
		r, _ := src.Next()
		if r.PromptTokens < 1 || r.PromptTokens > 2000 || r.OutputTokens < 1 || r.OutputTokens > 3 {
			t.Fatalf("draw out of range: %+v", r)
		}
		if r.PromptTokens > 500 {
			above++
		}
		n++
	}
	// Half the draws lie above the median: 2500 ± 4·35.
	if math.Abs(float64(above)-2500) > 140 {
		t.Errorf("%d of %d prompts above the median, want 2500 ± 140", above, n)
	}
}

func TestAzureTraceReplays(t *testing.T) {
	tr, err := LoadTrace("testdata/azure-llm-2023-code.csv")
	if err != nil {
		t.Fatal(err)
	}
	// 8819 data rows after the header; the last has no newline, so
	// wc -l counts 8819 lines in all.
	if len(tr.Requests) != 8819 {
		t.Fatalf("%d requests, want 8819", len(tr.Requests))
	}
	// First rows: 18:17:03.9799600 (4808, 10), then 18:17:04.0319600 (3180, 8).
	if r := tr.Requests[1]; r.Arrival != 52*time.Millisecond || r.PromptTokens != 3180 || r.OutputTokens != 8 {
		t.Errorf("second request %+v, want arrival 52ms, 3180 and 8 tokens", r)
	}
	// Last row 19:14:19.9280160: 57 min 15.94806 s after the first.
	if got := tr.Requests[8818].Arrival; got != 57*time.Minute+15*time.Second+948056*time.Microsecond {
		t.Errorf("last arrival %v", got)
	}

	n, _ := count(NewReplay(tr, ReplayConfig{}, 1, "a"), time.Duration(math.MaxInt64))
	if n != 8819 {
		t.Errorf("replay yields %d requests, want 8819", n)
	}
	// Thinning to p = 0.1: 881.9 expected, σ ≈ 28; ±4σ.
	n, _ = count(NewReplay(tr, ReplayConfig{Keep: 0.1}, 1, "a"), time.Duration(math.MaxInt64))
	if math.Abs(float64(n)-881.9) > 113 {
		t.Errorf("thinned replay yields %d requests, want about 882", n)
	}
	// Time scale 2 and a loop: three passes fit in 3 × 2 × one period.
	src := NewReplay(tr, ReplayConfig{TimeScale: 2, Loop: true}, 1, "a")
	n, last := count(src, 3*2*tr.Period())
	if n != 3*8819 || last < 2*2*tr.Period() {
		t.Errorf("looped replay: %d requests, last at %v", n, last)
	}
}

func TestTraceErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", `trace "t.csv": empty file (want a header row with TIMESTAMP, ContextTokens and GeneratedTokens)`},
		{"TIMESTAMP,ContextTokens\n", `trace "t.csv": header has no GeneratedTokens column ` +
			`(accepted names: GeneratedTokens, output_tokens, generation_tokens)`},
		{"arrival_seconds,prompt_tokens,output_tokens\n1.5,10,x\n",
			`trace "t.csv": line 2: output_tokens "x" is not a whole number of tokens`},
		{"TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,1\n",
			`trace "t.csv": line 2: TIMESTAMP "yesterday": want a timestamp like 2023-11-16 18:17:03.97996 ` +
				`or a number of seconds`},
	} {
		_, err := ParseTrace("t.csv", strings.NewReader(tc.text))
		if err == nil || err.Error() != tc.want {
			t.Errorf("error:\n got %v\nwant %s", err, tc.want)
		}
	}
}
