package collector

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// Present sets used in the expectations below.
const (
	gauges   = timeline.FieldRunning | timeline.FieldWaiting
	tokens   = timeline.FieldPromptTokens | timeline.FieldGenerationTokens
	counters = timeline.FieldCompleted | timeline.FieldLatency
)

// fixtureCase is what one captured page must give. Values were read off
// the files by hand; sums are written out.
type fixtureCase struct {
	file   string
	server string // "" when the page must not be detected
	model  string // configured model name passed to Models
	want   map[string]timeline.Reading
	errMsg string // the detection error, when server is ""
}

var fixtureCases = []fixtureCase{
	{
		file:   "vllm-v1-via-dynamo-2026-01.txt",
		server: "vllm",
		want: map[string]timeline.Reading{"Qwen/Qwen3-0.6B": {
			// request_success_total over finished_reason: stop 0 + length 2 + abort 0 + error 0.
			Completed:  2,
			LatencySum: 3.5736520290374756, LatencyCount: 2,
			PromptTokens: 66, GenerationTokens: 600,
			// kv_cache_usage_perc{engine="0"} 0.0; the page has no gpu_cache_usage_perc.
			KVCacheUsage: 0,
			Present:      gauges | counters | tokens | timeline.FieldKVCache,
		}},
	},
	{
		// Cut in its source inside vllm:iteration_tokens_total: every
		// family before the cut is complete. No e2e latency family.
		file:   "vllm-v0-aibrix-runtime-doc.txt",
		server: "vllm",
		want: map[string]timeline.Reading{"Qwen/Qwen2.5-Coder-1.5B-Instruct": {
			// running 0; waiting 0 + swapped 0; success{stop} 4; gpu_cache_usage_perc 0.
			Completed:    4,
			PromptTokens: 148, GenerationTokens: 955,
			Present: gauges | timeline.FieldCompleted | tokens | timeline.FieldKVCache,
		}},
	},
	{
		file:   "sglang-via-dynamo-2026-01.txt",
		server: "sglang",
		want: map[string]timeline.Reading{"Qwen/Qwen3-0.6B": {
			Completed:  1,
			LatencySum: 2.171226978302002, LatencyCount: 1,
			PromptTokens: 33, GenerationTokens: 300,
			Present: gauges | counters | tokens | timeline.FieldKVCache,
		}},
	},
	{
		// v0.4 has no request counter: Completed is absent.
		file:   "sglang-v0.4-docs-production-metrics.txt",
		server: "sglang",
		want: map[string]timeline.Reading{"meta-llama/Llama-3.1-8B-Instruct": {
			Running: 162, Waiting: 2826,
			LatencySum: 3.116093850019932e+06, LatencyCount: 11228,
			PromptTokens: 8.128902e+06, GenerationTokens: 7.557572e+06,
			KVCacheUsage: 0.28,
			Present:      gauges | timeline.FieldLatency | tokens | timeline.FieldKVCache,
		}},
	},
	{
		// tgi_request_success 109; the only failure series is
		// err="validation" (2), which is not counted: 109 + 0.
		file:   "tgi-datadog-fixture-excerpt.txt",
		server: "tgi",
		want: map[string]timeline.Reading{UnknownModel: {
			Completed:  109,
			LatencySum: 541.2140316159999, LatencyCount: 109,
			// tgi_request_inference_duration_sum
			ProcessingSeconds: 245.91743839099996,
			Present:           gauges | counters | timeline.FieldProcessing,
		}},
	},
	{
		file:   "tgi-datadog-fixture-excerpt.txt",
		server: "tgi",
		model:  "HuggingFaceTB/SmolLM2-135M",
		want: map[string]timeline.Reading{"HuggingFaceTB/SmolLM2-135M": {
			Completed:  109,
			LatencySum: 541.2140316159999, LatencyCount: 109,
			// tgi_request_inference_duration_sum
			ProcessingSeconds: 245.91743839099996,
			Present:           gauges | counters | timeline.FieldProcessing,
		}},
	},
	{
		// Eight models, one version each; only densenet_onnx served requests.
		file:   "triton-core-datadog-fixture.txt",
		server: "triton",
		want: map[string]timeline.Reading{
			"densenet_onnx": {
				// success 3 + failure 0; request_duration_us 1327965 / 1e6;
				// compute_infer_duration_us 1326831 / 1e6.
				Completed:  3,
				LatencySum: 1.327965, LatencyCount: 3,
				ProcessingSeconds: 1.326831,
				Present:           tritonCore,
			},
			"simple_string":        {Present: tritonCore},
			"simple_sequence":      {Present: tritonCore},
			"simple_int8":          {Present: tritonCore},
			"simple_identity":      {Present: tritonCore},
			"simple_dyna_sequence": {Present: tritonCore},
			"inception_graphdef":   {Present: tritonCore},
			"simple":               {Present: tritonCore},
		},
	},
	{
		file:   "triton-trtllm-backend-readme.txt",
		server: "triton",
		want: map[string]timeline.Reading{"tensorrt_llm": {
			// request_type active 0; waiting 1 + pending_request_count 0.
			Running: 0, Waiting: 1,
			KVCacheUsage: 0.4875,
			Present:      tritonCore | timeline.FieldRunning | timeline.FieldKVCache,
		}},
	},
	{
		// Only nv_trt_llm_v1_metrics, which no adapter reads: detected, no model.
		file:   "triton-trtllm-backend-readme-v1model-fragment.txt",
		server: "triton",
		want:   map[string]timeline.Reading{},
	},
	{
		// The vLLM backend alone (the README omits the core families):
		// tokens and the e2e histogram, no gauges.
		file:   "triton-vllm-backend-readme.txt",
		server: "triton",
		want: map[string]timeline.Reading{"vllm_model": {
			LatencySum: 0.08686184883117676, LatencyCount: 1,
			PromptTokens: 10, GenerationTokens: 16,
			Present: timeline.FieldLatency | tokens,
		}},
	},
	{
		// A build with five families: no running or waiting gauge.
		file:   "trtllm-via-dynamo-2026-01.txt",
		server: "trtllm",
		want: map[string]timeline.Reading{"Qwen/Qwen3-0.6B": {
			Completed:  2,
			LatencySum: 1.7300310004502535, LatencyCount: 2,
			Present: counters,
		}},
	},
	{
		file:   "llamacpp-a2df2787-commit-msg-fragment.txt",
		server: "llamacpp",
		want:   map[string]timeline.Reading{UnknownModel: {Present: gauges}},
	},
	{
		file:   "llamacpp-a2df2787-commit-msg-fragment.txt",
		server: "llamacpp",
		model:  "qwen2.5-0.5b",
		want:   map[string]timeline.Reading{"qwen2.5-0.5b": {Present: gauges}},
	},
	{
		file: "dynamo-frontend-2026-01.txt",
		errMsg: "no known inference server metrics found (families seen: " +
			"dynamo_frontend_disconnected_clients, dynamo_frontend_inflight_requests, " +
			"dynamo_frontend_input_sequence_tokens, dynamo_frontend_inter_token_latency_seconds, " +
			"dynamo_frontend_model_context_length, … 11 more; " +
			"set server: explicitly, one of vllm, sglang, tgi, triton, llamacpp, trtllm)",
	},
}

// tritonCore is what Triton's core families give every model.
const tritonCore = timeline.FieldWaiting | counters | timeline.FieldProcessing

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestFixtures(t *testing.T) {
	for _, tc := range fixtureCases {
		t.Run(tc.file+"/"+tc.model, func(t *testing.T) {
			p, err := ParsePage(readFixture(t, tc.file), "text/plain; version=0.0.4; charset=utf-8")
			if err != nil {
				t.Fatalf("ParsePage: %v", err)
			}
			a, err := Detect(p)
			if tc.server == "" {
				if err == nil || err.Error() != tc.errMsg {
					t.Fatalf("Detect error:\n got %v\nwant %s", err, tc.errMsg)
				}
				if r, _ := ErrorReason(err); r != ReasonUnknownServer {
					t.Errorf("reason %q, want %q", r, ReasonUnknownServer)
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			if a.Name() != tc.server {
				t.Fatalf("detected %s, want %s", a.Name(), tc.server)
			}
			got, err := a.Models(p, tc.model)
			if err != nil {
				t.Fatalf("Models: %v", err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("Models:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestFixturesAllCovered fails when a fixture file has no expectation, so
// that a page added to testdata is always checked.
func TestFixturesAllCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	covered := make(map[string]bool)
	for _, tc := range fixtureCases {
		covered[tc.file] = true
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("fixture %s has no case in fixtureCases", filepath.Base(f))
		}
	}
	if len(files) != len(covered) {
		t.Errorf("%d fixture files, %d covered", len(files), len(covered))
	}
}

// TestModelFilter checks that a configured model restricts the result for
// servers that label their series, and names the reading for those that do not.
func TestModelFilter(t *testing.T) {
	cases := []struct {
		file, model string
		want        []string
	}{
		{"triton-core-datadog-fixture.txt", "densenet_onnx", []string{"densenet_onnx"}},
		{"triton-core-datadog-fixture.txt", "absent", nil},
		{"vllm-v1-via-dynamo-2026-01.txt", "Qwen/Qwen3-0.6B", []string{"Qwen/Qwen3-0.6B"}},
		// Model names are compared exactly.
		{"vllm-v1-via-dynamo-2026-01.txt", "qwen/qwen3-0.6b", nil},
		{"sglang-via-dynamo-2026-01.txt", "other", nil},
		{"trtllm-via-dynamo-2026-01.txt", "other", nil},
		{"tgi-datadog-fixture-excerpt.txt", "any", []string{"any"}},
	}
	for _, tc := range cases {
		p, err := ParsePage(readFixture(t, tc.file), "")
		if err != nil {
			t.Fatal(err)
		}
		a, err := Detect(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Models(p, tc.model)
		if err != nil {
			t.Fatal(err)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tc.want) {
			t.Errorf("%s with model %q: got models %q, want %q", tc.file, tc.model, keys, tc.want)
		}
	}
}
