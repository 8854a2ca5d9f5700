package fleetsim

import (
	"testing"
	"time"
)

func TestDemoFleetKeepsItsPromises(t *testing.T) {
	eps, err := LoadDemoFleet().Build(1, ".")
	if err != nil {
		t.Fatal(err)
	}
	// Deployment class of each model: what its duty cycle must look like.
	want := map[string][2]float64{
		"llama-3.1-8b-instruct":      {0.9, 1},
		"qwen2.5-coder-32b-instruct": {0.9, 1},
		"mistral-7b-instruct":        {0.9, 1},
		"ticket-summarizer":          {0.01, 0.10},
		"phi-3-mini-4k-instruct":     {0.05, 0.15},
		"gemma-2-2b-it":              {0.05, 0.15},
	}
	const horizon = 6 * time.Hour
	n := 0
	for _, ep := range eps {
		for _, m := range ep.Models {
			n++
			m.AdvanceTo(30 * time.Second)
			if m.Stats().Arrived == 0 {
				t.Errorf("%s: no request in the first 30 s", m.Name())
			}
			m.AdvanceTo(horizon)
			w := m.Truth().Window(0, horizon)
			r, ok := want[m.Name()]
			if !ok || w.DutyCycle < r[0] || w.DutyCycle > r[1] {
				t.Errorf("%s: duty cycle %.3f over 6 h, want %v", m.Name(), w.DutyCycle, r)
			}
			if r[1] <= 0.15 && (w.Gaps.Count < 50 || w.Gaps.Sum/float64(w.Gaps.Count) < 30) {
				t.Errorf("%s: %d gaps averaging %.0f s, want many quiet periods of tens of seconds or more",
					m.Name(), w.Gaps.Count, w.Gaps.Sum/float64(max(1, w.Gaps.Count)))
			}
		}
	}
	if n != 6 {
		t.Errorf("%d models in the demo fleet, want 6", n)
	}
}

func TestFleetFileErrors(t *testing.T) {
	const valid = `servers:
  - name: a
    format: vllm
    strategy: always_on
    models:
      - name: m
        max_concurrency: 4
        prefill_tokens_per_second: 1000
        time_per_output_token: 20ms
        kv_capacity_tokens: 1000
        traffic:
          kind: poisson
          rate: 1
          prompt_tokens: {dist: fixed, value: 100}
          output_tokens: {dist: fixed, value: 10}
`
	if _, err := ParseFleet("fleet.yaml", []byte(valid)); err != nil {
		t.Fatalf("valid file rejected: %v", err)
	}
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"unknown key with a typo", "          rate: 1", "          rat: 1",
			`fleet.yaml:13: unknown key "rat" in traffic (did you mean "rate"?); known keys: kind, rate, on, off, ` +
				`start_quiet, trough, peak, peak_at, compression, path, keep, time_scale, loop, prompt_tokens, output_tokens`},
		{"unknown top-level key", "servers:", "server:",
			`fleet.yaml:1: unknown key "server" in the fleet file (did you mean "servers"?); known keys: servers`},
		{"bad duration", "20ms", "20 parsecs",
			`fleet.yaml:9: time_per_output_token: "20 parsecs" is not a duration (write it like 250ms, 20s or 3m)`},
		{"wrong type", "max_concurrency: 4", "max_concurrency: four",
			"fleet.yaml:7: max_concurrency: cannot unmarshal !!str `four` into int"},
		{"unknown format", "format: vllm", "format: vlm",
			`fleet.yaml:2: server "a": format "vlm" is not known (use one of llamacpp, sglang, tgi, triton, ` +
				`trtllm, vllm, vllm-v0)`},
		{"unknown strategy", "always_on", "always-on",
			`fleet.yaml:2: server "a": strategy "always-on" is not known (use one of always_on, serverless, unknown)`},
		{"impossible setting", "max_concurrency: 4", "max_concurrency: 0",
			`fleet.yaml:6: model "m": max_concurrency must be at least 1, got 0`},
		{"unknown traffic kind", "kind: poisson", "kind: steady",
			`fleet.yaml:12: model "m": traffic: kind "steady" is not known (use poisson, bursts, daily or trace)`},
		{"unknown distribution", "{dist: fixed, value: 100}", "{dist: normal, value: 100}",
			`fleet.yaml:12: model "m": traffic: dist "normal" is not known ` +
				`(use fixed, uniform, exponential or lognormal)`},
		{"labels not a mapping", "    strategy: always_on", "    strategy: always_on\n    labels: [a, b]",
			"fleet.yaml:5: labels: cannot unmarshal !!seq into map[string]string"},
		{"broken YAML", "      - name: m", "      name: m",
			"fleet.yaml:7: mapping values are not allowed in this context (the file is not valid YAML)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := replaceOnce(t, valid, tc.from, tc.to)
			_, err := ParseFleet("fleet.yaml", []byte(text))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error:\n got %v\nwant %s", err, tc.want)
			}
		})
	}
}

func replaceOnce(t *testing.T, s, from, to string) string {
	t.Helper()
	for i := 0; i+len(from) <= len(s); i++ {
		if s[i:i+len(from)] == from {
			return s[:i] + to + s[i+len(from):]
		}
	}
	t.Fatalf("%q not in the file", from)
	return ""
}
