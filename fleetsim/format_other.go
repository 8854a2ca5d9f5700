package fleetsim

import (
	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// NVIDIA Triton core metrics (23.09–24.06), several models on one endpoint,
// labels model and version, cumulative microsecond counters without _total,
// as in testdata/triton-core-datadog-fixture.txt. Requests are not batched:
// every request is one execution.
var _ = register(&Format{
	Name: "triton", Server: "triton", Path: "/metrics", MultiModel: true, NamesModel: true,
	// Triton core has no running gauge and no tokens; its durations are
	// whole microseconds added when a request finishes.
	expected: func(s Stats, _ ModelConfig) timeline.Reading {
		return timeline.Reading{
			Waiting:           float64(s.Waiting),
			Completed:         float64(s.Completed),
			LatencySum:        micros(s.LatencySum) / 1e6,
			LatencyCount:      float64(s.Completed),
			ProcessingSeconds: micros(s.PrefillSum+s.DecodeSum) / 1e6,
			Present: timeline.FieldWaiting | timeline.FieldCompleted | timeline.FieldLatency |
				timeline.FieldProcessing,
		}
	},
	render: func(p *page, models []*ModelSim) {
		stats := make([]Stats, len(models))
		for i, m := range models {
			stats[i] = m.Stats()
		}
		family := func(name, typ, help string, value func(Stats) float64) {
			p.family(name, typ, help)
			for i, m := range models {
				p.sample(name, []label{{"model", m.Name()}, {"version", "1"}}, value(stats[i]))
			}
		}
		completed := func(s Stats) float64 { return float64(s.Completed) }
		zero := func(Stats) float64 { return 0 }
		family("nv_inference_request_success", "counter",
			"Number of successful inference requests, all batch sizes", completed)
		family("nv_inference_request_failure", "counter", "Number of failed inference requests, all batch sizes", zero)
		family("nv_inference_count", "counter",
			"Number of inferences performed (does not include cached requests)", completed)
		family("nv_inference_exec_count", "counter",
			"Number of model executions performed (does not include cached requests)", completed)
		family("nv_inference_request_duration_us", "counter",
			"Cumulative inference request duration in microseconds (includes cached requests)",
			func(s Stats) float64 { return micros(s.LatencySum) })
		family("nv_inference_queue_duration_us", "counter",
			"Cumulative inference queuing duration in microseconds (includes cached requests)",
			func(s Stats) float64 { return micros(s.QueueSum) })
		family("nv_inference_compute_input_duration_us", "counter",
			"Cumulative compute input duration in microseconds (does not include cached requests)", zero)
		family("nv_inference_compute_infer_duration_us", "counter",
			"Cumulative compute inference duration in microseconds (does not include cached requests)",
			func(s Stats) float64 { return micros(s.PrefillSum + s.DecodeSum) })
		family("nv_inference_compute_output_duration_us", "counter",
			"Cumulative inference compute output duration in microseconds (does not include cached requests)", zero)
		family("nv_inference_pending_request_count", "gauge",
			"Instantaneous number of pending requests awaiting execution per-model.",
			func(s Stats) float64 { return float64(s.Waiting) })
	},
})

// llama.cpp llama-server --metrics: llamacpp: prefix, no labels. Tokens and
// seconds of a request are added when it finishes, except prompt tokens,
// which count when the prompt has been processed.
var _ = register(&Format{
	Name: "llamacpp", Server: "llamacpp", Path: "/metrics",
	expected: func(s Stats, _ ModelConfig) timeline.Reading {
		return timeline.Reading{
			Running:           float64(s.Running),
			Waiting:           float64(s.Waiting),
			ProcessingSeconds: secs(s.PrefillSum + s.DecodeSum),
			PromptTokens:      float64(s.PromptTokens),
			GenerationTokens:  float64(s.CompletedGenerationTokens),
			Present: timeline.FieldRunning | timeline.FieldWaiting | timeline.FieldProcessing |
				timeline.FieldPromptTokens | timeline.FieldGenerationTokens,
		}
	},
	render: func(p *page, models []*ModelSim) {
		s := models[0].Stats()
		busySlots := 0.0 // average running requests per decode call
		if s.DecodeSteps > 0 {
			busySlots = float64(s.CompletedGenerationTokens) / float64(s.DecodeSteps)
		}
		promptRate, predictRate := 0.0, 0.0
		if s.PrefillSum > 0 {
			promptRate = float64(s.CompletedPromptTokens) / secs(s.PrefillSum)
		}
		if s.DecodeSum > 0 {
			predictRate = float64(s.CompletedGenerationTokens) / secs(s.DecodeSum)
		}
		for _, f := range []struct {
			name, typ, help string
			v               float64
		}{
			{"prompt_tokens_total", "counter", "Number of prompt tokens processed.", float64(s.PromptTokens)},
			{"prompt_seconds_total", "counter", "Prompt process time", secs(s.PrefillSum)},
			{"tokens_predicted_total", "counter", "Number of generation tokens processed.",
				float64(s.CompletedGenerationTokens)},
			{"tokens_predicted_seconds_total", "counter", "Predict process time", secs(s.DecodeSum)},
			{"n_decode_total", "counter", "Total number of llama_decode() calls", float64(s.DecodeSteps)},
			{"n_busy_slots_per_decode", "counter", "Average number of busy slots per llama_decode() call", busySlots},
			{"prompt_tokens_seconds", "gauge", "Average prompt throughput in tokens/s.", promptRate},
			{"predicted_tokens_seconds", "gauge", "Average generation throughput in tokens/s.", predictRate},
			{"requests_processing", "gauge", "Number of requests processing.", float64(s.Running)},
			{"requests_deferred", "gauge", "Number of requests deferred.", float64(s.Waiting)},
		} {
			p.family("llamacpp:"+f.name, f.typ, f.help)
			p.sample("llamacpp:"+f.name, nil, f.v)
		}
	},
})

// TensorRT-LLM trtllm-serve (/prometheus/metrics): trtllm_ prefix, labels
// engine_type and model_name, prometheus_client with _created series. The
// five families of testdata/trtllm-via-dynamo-2026-01.txt plus the queue,
// token and KV families of the current MetricsCollector.
var _ = register(&Format{
	Name: "trtllm", Server: "trtllm", Path: "/prometheus/metrics", NamesModel: true,
	Layout: Layout{
		E2ELatency: vllmRequestSeconds, TimeToFirstToken: vllmTTFTSeconds,
		TimePerOutputToken: vllmTPOTSeconds, QueueTime: vllmRequestSeconds,
	},
	expected: engineReading,
	render: func(p *page, models []*ModelSim) {
		m := models[0]
		s := m.Stats()
		ls := []label{{"engine_type", "trtllm"}, {"model_name", m.Name()}}
		c := client{p: p, m: m, ls: ls, created: true, order: bucketsCountSum}
		gauge, counter, hist := c.gauge, c.counter, c.hist

		const successHelp = "Count of successfully processed requests."
		success := p.withLabel(ls, label{"finished_reason", "length"})
		p.family("trtllm_request_success_total", "counter", successHelp)
		p.sample("trtllm_request_success_total", success, float64(s.Completed))
		p.createdFamily("trtllm_request_success", successHelp, success)
		hist("trtllm_e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", E2ELatency)
		hist("trtllm_time_to_first_token_seconds", "Histogram of time to first token in seconds.", TimeToFirstToken)
		hist("trtllm_time_per_output_token_seconds", "Histogram of time per output token in seconds.",
			TimePerOutputToken)
		hist("trtllm_request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", QueueTime)
		counter("trtllm_prompt_tokens", "Cumulative number of prompt (input) tokens processed.",
			float64(s.PromptTokens))
		counter("trtllm_generation_tokens", "Cumulative number of generation (output) tokens produced.",
			float64(s.GenerationTokens))
		gauge("trtllm_kv_cache_utilization", "KV cache utilization", s.KVCacheUsage(m.Config().KVCapacityTokens))
		gauge("trtllm_num_requests_running", "Number of active requests", float64(s.Running))
		gauge("trtllm_num_requests_waiting", "Number of queued requests", float64(s.Waiting))
		counter("trtllm_num_requests_completed", "Total number of completed requests across iterations",
			float64(s.Completed))
	},
})
