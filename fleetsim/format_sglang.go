package fleetsim

// SGLang bucket layouts, from testdata/sglang-via-dynamo-2026-01.txt.
var (
	sglangE2ESeconds = []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400,
		600, 1200, 1800, 2400}
	sglangTTFTSeconds = []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400}
	sglangQueueTime   = []float64{0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100,
		200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000}
)

// SGLang (January 2026 metric set, multiprocess collector: no _created
// series, _sum before the buckets). Scheduler gauges carry the engine and
// rank labels; tokenizer counters and histograms carry model_name only.
var _ = register(&Format{
	Name: "sglang", Server: "sglang", Path: "/metrics", NamesModel: true,
	Layout:   Layout{E2ELatency: sglangE2ESeconds, TimeToFirstToken: sglangTTFTSeconds, QueueTime: sglangQueueTime},
	expected: engineReading,
	render: func(p *page, models []*ModelSim) {
		m := models[0]
		s := m.Stats()
		sched := []label{{"engine_type", "unified"}, {"model_name", m.Name()}, {"moe_ep_rank", "0"},
			{"pp_rank", "0"}, {"tp_rank", "0"}}
		tok := []label{{"model_name", m.Name()}}
		kv := m.Config().KVCapacityTokens

		p.family("sglang:queue_time_seconds", "histogram", "Histogram of queueing time in seconds.")
		p.histogram("sglang:queue_time_seconds", sched, m.Histogram(QueueTime), sumBucketsCount)
		p.family("sglang:realtime_tokens_total", "counter",
			"Total number of tokens processed (updated on each log interval).")
		for _, t := range []struct {
			mode string
			v    uint64
		}{{"prefill_compute", s.PromptTokens}, {"prefill_cache", 0}, {"decode", s.GenerationTokens}} {
			p.sample("sglang:realtime_tokens_total", p.withLabel(sched, label{"mode", t.mode}), float64(t.v))
		}
		p.family("sglang:cuda_graph_passes_total", "counter",
			"Total number of forward passes categorized by CUDA graph.")
		p.sample("sglang:cuda_graph_passes_total", p.withLabel(sched, label{"mode", "decode_cuda_graph"}),
			float64(s.DecodeSteps))
		gauges := []struct {
			name, help string
			v          float64
		}{
			{"sglang:num_running_reqs", "The number of running requests.", float64(s.Running)},
			{"sglang:num_used_tokens", "The number of used tokens.", float64(min(s.KVTokens, uint64(kv)))},
			{"sglang:token_usage", "The token usage.", s.KVCacheUsage(kv)},
			{"sglang:num_queue_reqs", "The number of requests in the waiting queue.", float64(s.Waiting)},
			{"sglang:cache_hit_rate", "The prefix cache hit rate.", 0},
			{"sglang:max_total_num_tokens", "Maximum total number of tokens in the KV cache pool.", float64(kv)},
		}
		for _, g := range gauges {
			p.family(g.name, "gauge", g.help)
			p.sample(g.name, sched, g.v)
		}
		p.family("sglang:time_to_first_token_seconds", "histogram", "Histogram of time to first token in seconds.")
		p.histogram("sglang:time_to_first_token_seconds", tok, m.Histogram(TimeToFirstToken), sumBucketsCount)
		p.family("sglang:e2e_request_latency_seconds", "histogram",
			"Histogram of End-to-end request latency in seconds")
		p.histogram("sglang:e2e_request_latency_seconds", tok, m.Histogram(E2ELatency), sumBucketsCount)
		for _, c := range []struct {
			name, help string
			v          uint64
		}{
			{"sglang:prompt_tokens_total", "Number of prefill tokens processed.", s.PromptTokens},
			{"sglang:generation_tokens_total", "Number of generation tokens processed.", s.GenerationTokens},
			{"sglang:num_requests_total", "Number of requests processed.", s.Completed},
		} {
			p.family(c.name, "counter", c.help)
			p.sample(c.name, tok, float64(c.v))
		}
	},
})
