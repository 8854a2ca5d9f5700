package collector

import (
	"maps"
	"slices"
	"testing"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// adapterCase is a hand-written page and the readings one adapter must
// give for it.
type adapterCase struct {
	name    string
	adapter string
	model   string
	page    string
	want    map[string]timeline.Reading
}

var adapterCases = []adapterCase{
	{
		name: "vllm V1 data-parallel engines", adapter: "vllm",
		page: `vllm:num_requests_running{engine="0",model_name="m"} 3
vllm:num_requests_running{engine="1",model_name="m"} 1
vllm:num_requests_waiting{engine="0",model_name="m"} 0
vllm:num_requests_waiting{engine="1",model_name="m"} 2
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.5
vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.25
vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.9
vllm:request_success_total{engine="0",finished_reason="stop",model_name="m"} 10
vllm:request_success_total{engine="0",finished_reason="abort",model_name="m"} 1
vllm:request_success_total{engine="1",finished_reason="stop",model_name="m"} 5
vllm:e2e_request_latency_seconds_sum{engine="0",model_name="m"} 20
vllm:e2e_request_latency_seconds_count{engine="0",model_name="m"} 11
vllm:e2e_request_latency_seconds_sum{engine="1",model_name="m"} 7.5
vllm:e2e_request_latency_seconds_count{engine="1",model_name="m"} 5
vllm:lora_requests_info{max_lora="1",running_lora_adapters="a",waiting_lora_adapters=""} 1.7e9
`,
		want: map[string]timeline.Reading{"m": {
			// running 3+1, waiting 0+2, completed 10+1+5, latency (20+7.5)/(11+5);
			// KV mean of the new gauge (0.5+0.25)/2, the old one ignored.
			Running: 4, Waiting: 2, Completed: 16, LatencySum: 27.5, LatencyCount: 16,
			KVCacheUsage: 0.375,
			Present:      gauges | counters | timeline.FieldKVCache,
		}},
	},
	{
		name: "vllm V0 swapped requests and old KV gauge", adapter: "vllm",
		page: `vllm:num_requests_running{model_name="m"} 2
vllm:num_requests_waiting{model_name="m"} 1
vllm:num_requests_swapped{model_name="m"} 3
vllm:gpu_cache_usage_perc{model_name="m"} 0.8
`,
		want: map[string]timeline.Reading{"m": {
			// waiting 1 + swapped 3.
			Running: 2, Waiting: 4, KVCacheUsage: 0.8,
			Present: gauges | timeline.FieldKVCache,
		}},
	},
	{
		name: "sglang tensor-parallel ranks report one batch", adapter: "sglang",
		page: `sglang:num_running_reqs{engine_type="unified",model_name="m",pp_rank="0",tp_rank="0"} 5
sglang:num_running_reqs{engine_type="unified",model_name="m",pp_rank="0",tp_rank="1"} 5
sglang:num_queue_reqs{engine_type="unified",model_name="m",pp_rank="0",tp_rank="0"} 2
sglang:num_queue_reqs{engine_type="unified",model_name="m",pp_rank="0",tp_rank="1"} 3
sglang:num_grammar_queue_reqs{engine_type="unified",model_name="m",pp_rank="0",tp_rank="0"} 1
sglang:token_usage{engine_type="unified",model_name="m",pp_rank="0",tp_rank="0"} 0.4
sglang:token_usage{engine_type="unified",model_name="m",pp_rank="0",tp_rank="1"} 0.5
sglang:num_requests_total{model_name="m"} 7
`,
		want: map[string]timeline.Reading{"m": {
			// running max(5,5); waiting max(2,3) + grammar queue 1; KV max(0.4,0.5).
			Running: 5, Waiting: 4, Completed: 7, KVCacheUsage: 0.5,
			Present: gauges | timeline.FieldCompleted | timeline.FieldKVCache,
		}},
	},
	{
		name: "sglang data-parallel ranks are summed", adapter: "sglang",
		page: `sglang:num_running_reqs{dp_rank="0",model_name="m",tp_rank="0"} 4
sglang:num_running_reqs{dp_rank="0",model_name="m",tp_rank="1"} 4
sglang:num_running_reqs{dp_rank="1",model_name="m",tp_rank="2"} 1
sglang:num_running_reqs{dp_rank="1",model_name="m",tp_rank="3"} 1
sglang:num_queue_reqs{dp_rank="0",model_name="m",tp_rank="0"} 0
sglang:num_queue_reqs{dp_rank="1",model_name="m",tp_rank="2"} 6
sglang:token_usage{dp_rank="0",model_name="m",tp_rank="0"} 0.2
sglang:token_usage{dp_rank="1",model_name="m",tp_rank="2"} 0.6
`,
		want: map[string]timeline.Reading{"m": {
			// running max(4,4) + max(1,1); waiting 0 + 6; KV mean of 0.2 and 0.6.
			Running: 5, Waiting: 6, KVCacheUsage: 0.4,
			Present: gauges | timeline.FieldKVCache,
		}},
	},
	{
		name: "tgi failures and token histograms", adapter: "tgi", model: "bigscience/bloom",
		page: `tgi_batch_current_size 3
tgi_queue_size 1
tgi_request_success 100
tgi_request_failure{err="validation"} 40
tgi_request_failure{err="template"} 2
tgi_request_failure{err="generation"} 3
tgi_request_failure{err="overloaded"} 1
tgi_request_duration_sum 250
tgi_request_duration_count 100
tgi_request_input_length_sum 12000
tgi_request_input_length_count 140
tgi_request_generated_tokens_sum 9000
`,
		want: map[string]timeline.Reading{"bigscience/bloom": {
			// completed: success 100 + generation 3 + overloaded 1; validation
			// and template failures never reached the queue.
			Running: 3, Waiting: 1, Completed: 104, LatencySum: 250, LatencyCount: 100,
			PromptTokens: 12000, GenerationTokens: 9000,
			Present: gauges | counters | tokens,
		}},
	},
	{
		name: "triton versions, TensorRT-LLM gauges and block ratio", adapter: "triton",
		page: `nv_inference_request_success{model="llm",version="1"} 10
nv_inference_request_success{model="llm",version="2"} 5
nv_inference_request_failure{model="llm",reason="BACKEND",version="2"} 1
nv_inference_request_failure{model="llm",reason="REJECTED",version="2"} 2
nv_inference_request_duration_us{model="llm",version="1"} 2500000
nv_inference_request_duration_us{model="llm",version="2"} 500000
nv_inference_compute_infer_duration_us{model="llm",version="1"} 1500000
nv_inference_pending_request_count{model="llm",version="1"} 2
nv_trt_llm_request_metrics{model="llm",request_type="active",version="1"} 3
nv_trt_llm_request_metrics{model="llm",request_type="max",version="1"} 512
nv_trt_llm_request_metrics{model="llm",request_type="waiting",version="1"} 1
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="used",model="llm",version="1"} 25
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",model="llm",version="1"} 100
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="free",model="llm",version="1"} 75
nv_llm_input_token_len_sum{model="llm",response_metric_type="total_input_tokens",version="1"} 300
nv_llm_output_token_len_sum{model="llm",response_metric_type="total_output_tokens",version="1"} 700
nv_inference_request_success{model="other",version="1"} 4
`,
		want: map[string]timeline.Reading{
			"llm": {
				// completed 10+5+1+2; latency (2.5e6+0.5e6) µs over the 15
				// successes; waiting pending 2 + backend 1; KV 25/100 blocks.
				Running: 3, Waiting: 3, Completed: 18, LatencySum: 3, LatencyCount: 15,
				ProcessingSeconds: 1.5, PromptTokens: 300, GenerationTokens: 700, KVCacheUsage: 0.25,
				Present: tritonCore | timeline.FieldRunning | tokens | timeline.FieldKVCache,
			},
			"other": {Completed: 4, Present: timeline.FieldCompleted},
		},
	},
	{
		name: "triton with a model restriction", adapter: "triton", model: "other",
		page: `nv_inference_request_success{model="llm",version="1"} 10
nv_inference_request_success{model="other",version="1"} 4
`,
		want: map[string]timeline.Reading{"other": {Completed: 4, Present: timeline.FieldCompleted}},
	},
	{
		name: "trtllm undefined model name and recent gauges", adapter: "trtllm", model: "llama",
		page: `trtllm_num_requests_running{engine_type="undefined",model_name="undefined"} 2
trtllm_num_requests_waiting{engine_type="undefined",model_name="undefined"} 0
trtllm_num_requests_completed_total{engine_type="undefined",model_name="undefined"} 9
trtllm_kv_cache_utilization{engine_type="undefined",model_name="undefined"} 0.125
trtllm_prompt_tokens_total{engine_type="undefined",model_name="undefined"} 50
trtllm_generation_tokens_total{engine_type="undefined",model_name="undefined"} 80
`,
		want: map[string]timeline.Reading{"llama": {
			// No request_success_total: the completed counter stands in.
			Running: 2, Completed: 9, KVCacheUsage: 0.125, PromptTokens: 50, GenerationTokens: 80,
			Present: gauges | timeline.FieldCompleted | tokens | timeline.FieldKVCache,
		}},
	},
	{
		name: "trtllm colon prefix", adapter: "trtllm",
		page: `trtllm:request_success_total{engine_type="trtllm",finished_reason="stop",model_name="q"} 3
trtllm:request_success_total{engine_type="trtllm",finished_reason="length",model_name="q"} 4
trtllm:num_requests_completed_total{engine_type="trtllm",model_name="q"} 99
`,
		want: map[string]timeline.Reading{"q": {
			// success 3+4; the completed counter is ignored when success is present.
			Completed: 7, Present: timeline.FieldCompleted,
		}},
	},
	{
		name: "llamacpp processing seconds", adapter: "llamacpp",
		page: `llamacpp:requests_processing 2
llamacpp:requests_deferred 1
llamacpp:prompt_seconds_total 1.25
llamacpp:tokens_predicted_seconds_total 10.5
llamacpp:prompt_tokens_total 400
llamacpp:tokens_predicted_total 900
llamacpp:n_busy_slots_per_decode 1.5
`,
		want: map[string]timeline.Reading{UnknownModel: {
			// processing 1.25 + 10.5.
			Running: 2, Waiting: 1, ProcessingSeconds: 11.75, PromptTokens: 400, GenerationTokens: 900,
			Present: gauges | timeline.FieldProcessing | tokens,
		}},
	},
}

func TestAdapters(t *testing.T) {
	for _, tc := range adapterCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePage([]byte(tc.page), "")
			if err != nil {
				t.Fatal(err)
			}
			a, ok := AdapterFor(tc.adapter)
			if !ok {
				t.Fatalf("no adapter %q", tc.adapter)
			}
			if d, err := Detect(p); err != nil || d.Name() != tc.adapter {
				t.Errorf("Detect: %v, %v; want %s", d, err, tc.adapter)
			}
			got, err := a.Models(p, tc.model)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("Models:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestInvalidValues(t *testing.T) {
	const suffix = ", want a finite number >= 0 (the server reported an invalid value; this poll is skipped)"
	cases := []struct {
		name, adapter, model, page, msg string
	}{
		{
			"NaN gauge", "vllm", "",
			"vllm:num_requests_running{engine=\"0\",model_name=\"m\"} NaN\n",
			`vllm:num_requests_running{engine="0", model_name="m"} has value NaN` + suffix,
		},
		{
			"negative counter", "tgi", "",
			"tgi_queue_size 0\ntgi_request_success -3\n",
			"tgi_request_success has value -3" + suffix,
		},
		{
			"infinite duration", "triton", "",
			"nv_inference_request_duration_us{model=\"a\",version=\"1\"} +Inf\n",
			`nv_inference_request_duration_us{model="a", version="1"} has value +Inf` + suffix,
		},
		{
			// Each value is finite; their sum is not.
			"overflowing sum", "vllm", "",
			"vllm:num_requests_running{engine=\"0\",model_name=\"m\"} 1e308\n" +
				"vllm:num_requests_running{engine=\"1\",model_name=\"m\"} 1e308\n",
			`the sum of the vllm:num_requests_running series of model "m" overflows ` +
				"(the server reported an invalid value; this poll is skipped)",
		},
		{
			// Each data-parallel group is finite; the model's sum is not.
			"overflowing sum over groups", "sglang", "",
			"sglang:num_running_reqs{dp_rank=\"0\",model_name=\"m\"} 1e308\n" +
				"sglang:num_running_reqs{dp_rank=\"1\",model_name=\"m\"} 1e308\n",
			`the sum of the series of model "m" overflows ` +
				"(the server reported an invalid value; this poll is skipped)",
		},
		{
			"negative infinity", "llamacpp", "",
			"llamacpp:requests_deferred -Inf\n",
			"llamacpp:requests_deferred has value -Inf" + suffix,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePage([]byte(tc.page), "")
			if err != nil {
				t.Fatal(err)
			}
			a, _ := AdapterFor(tc.adapter)
			_, err = a.Models(p, tc.model)
			if err == nil || err.Error() != tc.msg {
				t.Fatalf("error:\n got %v\nwant %s", err, tc.msg)
			}
			if r, _ := ErrorReason(err); r != ReasonInvalidValue {
				t.Errorf("reason %q, want %q", r, ReasonInvalidValue)
			}
		})
	}
}

// TestInvalidValuesUnused checks that bad values in series an adapter does
// not use are ignored: another model's series, or a label value not read.
func TestInvalidValuesUnused(t *testing.T) {
	page := `nv_inference_request_success{model="a",version="1"} 2
nv_inference_request_success{model="b",version="1"} NaN
nv_trt_llm_request_metrics{model="a",request_type="max",version="1"} -1
`
	p, err := ParsePage([]byte(page), "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := triton{}.Models(p, "a")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]timeline.Reading{"a": {Completed: 2, Present: timeline.FieldCompleted}}
	if !maps.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestDetectOrder(t *testing.T) {
	cases := []struct{ name, page, want string }{
		{
			// Triton with its vLLM backend: vllm: families labelled model.
			"triton hosting vllm",
			"nv_inference_request_success{model=\"v\",version=\"1\"} 1\n" +
				"vllm:prompt_tokens_total{model=\"v\",version=\"1\"} 10\n",
			"triton",
		},
		{
			// A Dynamo worker page: Dynamo's own families with a model
			// label, and the engine's passed through.
			"dynamo worker with vllm",
			"dynamo_component_inflight_requests{dynamo_component=\"backend\",model=\"q\"} 0\n" +
				"vllm:num_requests_running{engine=\"0\",model_name=\"q\"} 0\n",
			"vllm",
		},
		{
			"dynamo worker with trtllm",
			"dynamo_component_requests_total{model=\"q\"} 4\n" +
				"trtllm_request_success_total{engine_type=\"trtllm\",finished_reason=\"stop\",model_name=\"q\"} 4\n",
			"trtllm",
		},
	}
	for _, tc := range cases {
		p, err := ParsePage([]byte(tc.page), "")
		if err != nil {
			t.Fatal(err)
		}
		a, err := Detect(p)
		if err != nil || a.Name() != tc.want {
			t.Errorf("%s: detected %v (err %v), want %s", tc.name, a, err, tc.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	want := []string{"vllm", "sglang", "tgi", "triton", "llamacpp", "trtllm"}
	if got := AdapterNames(); !slices.Equal(got, want) {
		t.Errorf("AdapterNames() = %q, want %q", got, want)
	}
	for _, name := range want {
		if a, ok := AdapterFor(name); !ok || a.Name() != name {
			t.Errorf("AdapterFor(%q) = %v, %v", name, a, ok)
		}
	}
	if _, ok := AdapterFor("ollama"); ok {
		t.Error(`AdapterFor("ollama") found an adapter`)
	}
	// Every adapter is tried by Detect.
	var order []string
	for _, a := range detectOrder {
		order = append(order, a.Name())
	}
	slices.Sort(order)
	sorted := slices.Sorted(slices.Values(want))
	if !slices.Equal(order, sorted) {
		t.Errorf("detection order has %q, want every adapter once", order)
	}
}
