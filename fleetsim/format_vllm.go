package fleetsim

import (
	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// Bucket layouts of vLLM (and of TensorRT-LLM, whose collector copies
// vLLM's), from testdata/vllm-v1-via-dynamo-2026-01.txt.
var (
	vllmRequestSeconds = []float64{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60,
		120, 240, 480, 960, 1920, 7680}
	vllmTTFTSeconds = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
		1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560}
	vllmTPOTSeconds = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
		1, 2.5, 5, 7.5, 10, 20, 40, 80}
	// vllmTokens is 1-2-5 up to the model's context length (20000 in the
	// capture).
	vllmTokens = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000}
)

var vllmLayout = Layout{
	E2ELatency: vllmRequestSeconds, QueueTime: vllmRequestSeconds, InferenceTime: vllmRequestSeconds,
	PrefillTime: vllmRequestSeconds, DecodeTime: vllmRequestSeconds, TimeToFirstToken: vllmTTFTSeconds,
	PromptTokens: vllmTokens, GenerationTokens: vllmTokens,
}

// engineReading is what a vLLM, SGLang or TensorRT-LLM page shows: gauges, completions, e2e latency,
// tokens and KV use; no processing-time counter.
func engineReading(s Stats, cfg ModelConfig) timeline.Reading {
	return timeline.Reading{
		Running:          float64(s.Running),
		Waiting:          float64(s.Waiting),
		Completed:        float64(s.Completed),
		LatencySum:       secs(s.LatencySum),
		LatencyCount:     float64(s.Completed),
		PromptTokens:     float64(s.PromptTokens),
		GenerationTokens: float64(s.GenerationTokens),
		KVCacheUsage:     s.KVCacheUsage(cfg.KVCapacityTokens),
		Present: timeline.FieldRunning | timeline.FieldWaiting | timeline.FieldCompleted |
			timeline.FieldLatency | timeline.FieldPromptTokens | timeline.FieldGenerationTokens |
			timeline.FieldKVCache,
	}
}

// vLLM V1 engine (v0.13-era metric set, single API server so _created
// series are present), as in testdata/vllm-v1-via-dynamo-2026-01.txt.
var _ = register(&Format{
	Name: "vllm", Server: "vllm", Path: "/metrics", NamesModel: true,
	Layout: vllmLayout, expected: engineReading,
	render: func(p *page, models []*ModelSim) {
		m := models[0]
		s := m.Stats()
		ls := []label{{"engine", "0"}, {"model_name", m.Name()}}
		c := client{p: p, m: m, ls: ls, created: true, order: bucketsCountSum}
		gauge, counter, hist := c.gauge, c.counter, c.hist

		gauge("vllm:num_requests_running", "Number of requests in model execution batches.", float64(s.Running))
		gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", float64(s.Waiting))
		p.family("vllm:engine_sleep_state", "gauge", "Engine sleep state; awake = 0 means engine is sleeping; "+
			"awake = 1 means engine is awake; weights_offloaded = 1 means sleep level 1; "+
			"discard_all = 1 means sleep level 2.")
		for _, st := range []struct {
			state string
			v     float64
		}{{"awake", 1}, {"weights_offloaded", 0}, {"discard_all", 0}} {
			p.sample("vllm:engine_sleep_state", p.withLabel(ls, label{"sleep_state", st.state}), st.v)
		}
		gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.",
			s.KVCacheUsage(m.Config().KVCapacityTokens))
		// Every prompt token is a prefix-cache query; the simulator never hits.
		counter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.",
			float64(s.PromptTokens))
		counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", 0)
		counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", 0)
		counter("vllm:prompt_tokens", "Number of prefill tokens processed.", float64(s.PromptTokens))
		counter("vllm:generation_tokens", "Number of generation tokens processed.", float64(s.GenerationTokens))

		// vLLM pre-creates a series per finish reason; simulated requests all
		// finish at their output length.
		const successHelp = "Count of successfully processed requests."
		p.family("vllm:request_success_total", "counter", successHelp)
		var reasons [][]label
		for _, r := range []string{"stop", "length", "abort", "error"} {
			rl := p.withLabel(ls, label{"finished_reason", r})
			reasons = append(reasons, rl)
			v := 0.0
			if r == "length" {
				v = float64(s.Completed)
			}
			p.sample("vllm:request_success_total", rl, v)
		}
		p.createdFamily("vllm:request_success", successHelp, reasons...)

		hist("vllm:request_prompt_tokens", "Number of prefill tokens processed.", PromptTokens)
		hist("vllm:request_generation_tokens", "Number of generation tokens processed.", GenerationTokens)
		hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TimeToFirstToken)
		hist("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", E2ELatency)
		hist("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", QueueTime)
		hist("vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.",
			InferenceTime)
		hist("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.",
			PrefillTime)
		hist("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", DecodeTime)
	},
})

// vLLM V0 engine (v0.6–v0.10): model_name only, swapped requests, GPU and
// CPU cache gauges, no _created series, as in
// testdata/vllm-v0-aibrix-runtime-doc.txt. Its histograms have the V1
// layout (vLLM V0 engine/metrics.py, as copied by TensorRT-LLM's collector).
var _ = register(&Format{
	Name: "vllm-v0", Server: "vllm", Path: "/metrics", NamesModel: true,
	Layout: vllmLayout, expected: engineReading,
	render: func(p *page, models []*ModelSim) {
		m := models[0]
		s := m.Stats()
		ls := []label{{"model_name", m.Name()}}
		c := client{p: p, m: m, ls: ls, order: sumBucketsCount}
		gauge, counter, hist := c.gauge, c.counter, c.hist

		gauge("vllm:num_requests_running", "Number of requests currently running on GPU.", float64(s.Running))
		gauge("vllm:num_requests_swapped", "Number of requests swapped to CPU.", 0)
		gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", float64(s.Waiting))
		gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.",
			s.KVCacheUsage(m.Config().KVCapacityTokens))
		gauge("vllm:cpu_cache_usage_perc", "CPU KV-cache usage. 1 means 100 percent usage.", 0)
		counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", 0)
		counter("vllm:prompt_tokens", "Number of prefill tokens processed.", float64(s.PromptTokens))
		counter("vllm:generation_tokens", "Number of generation tokens processed.", float64(s.GenerationTokens))
		// V0 creates a finish-reason series on first use.
		p.family("vllm:request_success_total", "counter", "Count of successfully processed requests.")
		if s.Completed > 0 {
			p.sample("vllm:request_success_total", p.withLabel(ls, label{"finished_reason", "length"}),
				float64(s.Completed))
		}
		hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TimeToFirstToken)
		hist("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", E2ELatency)
		hist("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", QueueTime)
		hist("vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.",
			InferenceTime)
		hist("vllm:request_prompt_tokens", "Number of prefill tokens processed.", PromptTokens)
		hist("vllm:request_generation_tokens", "Number of generation tokens processed.", GenerationTokens)
	},
})
