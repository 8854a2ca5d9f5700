package collector

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// sglang reads SGLang's /metrics page (server started with
// --enable-metrics). Two kinds of series share it:
//
//   - tokenizer-manager counters and histograms (requests, tokens, latency)
//     carry model_name only and are summed;
//   - scheduler gauges (running and queued requests, token usage) also carry
//     engine_type, tp_rank, pp_rank, moe_ep_rank, and dp_rank when data
//     parallelism is on. Every tensor-parallel rank of a data-parallel group
//     schedules the same batch: by default only its first rank reports, with
//     --enable-metrics-for-all-schedulers each rank reports the same numbers.
//     Summing over tp_rank would count a batch once per rank, so within a
//     dp_rank the largest value over the other labels is kept, and the
//     dp_rank groups, which schedule requests of their own, are then summed
//     (the token usage is averaged over them).
//
// Early versions (v0.4) label everything with model_name only, which reads
// the same way.
type sglang struct{}

// The SGLang metrics read. Source: python/sglang/srt/metrics/collector.py.
const (
	sglangRunning = "sglang:num_running_reqs"
	sglangQueue   = "sglang:num_queue_reqs"
	// Requests queued for grammar compilation, and in prefill-decode
	// disaggregation the requests waiting for KV memory or a KV transfer:
	// all in flight on this server, so counted as waiting.
	sglangGrammarQueue    = "sglang:num_grammar_queue_reqs"
	sglangPrefillPrealloc = "sglang:num_prefill_prealloc_queue_reqs"
	sglangPrefillInflight = "sglang:num_prefill_inflight_queue_reqs"
	sglangDecodePrealloc  = "sglang:num_decode_prealloc_queue_reqs"
	sglangDecodeTransfer  = "sglang:num_decode_transfer_queue_reqs"
	// sglangTokenUsage is the share of the KV token pool in use, 0 to 1.
	sglangTokenUsage = "sglang:token_usage"
	// sglangRequests counts finished requests. Aborted requests also have
	// their own counter, which is not added: it would count them twice.
	// v0.4 has neither, and then the latency count stands in.
	sglangRequests     = "sglang:num_requests_total"
	sglangLatencySum   = "sglang:e2e_request_latency_seconds_sum"
	sglangLatencyCount = "sglang:e2e_request_latency_seconds_count"
	sglangPrompt       = "sglang:prompt_tokens_total"
	sglangGeneration   = "sglang:generation_tokens_total"
)

// Name returns "sglang".
func (sglang) Name() string { return "sglang" }

// Detect reports whether the page has sglang: families.
func (sglang) Detect(p *Page) bool { return p.hasFamilyPrefix("sglang:") }

func (sglang) reads() []string {
	return []string{sglangRunning, sglangQueue, sglangGrammarQueue, sglangPrefillPrealloc,
		sglangPrefillInflight, sglangDecodePrealloc, sglangDecodeTransfer, sglangTokenUsage,
		sglangRequests, sglangLatencySum, sglangLatencyCount, sglangPrompt, sglangGeneration}
}

// Models returns a reading per model_name.
func (sglang) Models(p *Page, model string) (map[string]timeline.Reading, error) {
	return collect(p, model, sglangRoute, sglangKey)
}

func sglangKey(ls labels.Labels) (groupKey, bool) {
	m := ls.Get("model_name")
	return groupKey{model: m, group: ls.Get("dp_rank")}, m != ""
}

func sglangRoute(name string, _ labels.Labels) route {
	switch name {
	case sglangRunning:
		return route{to: slotRunning, keepMax: true}
	case sglangQueue, sglangGrammarQueue, sglangPrefillPrealloc, sglangPrefillInflight,
		sglangDecodePrealloc, sglangDecodeTransfer:
		return route{to: slotWaiting, keepMax: true}
	case sglangTokenUsage:
		return route{to: slotKV, keepMax: true}
	case sglangRequests:
		return route{to: slotCompleted}
	case sglangLatencySum:
		return route{to: slotLatencySum}
	case sglangLatencyCount:
		return route{to: slotLatencyCount}
	case sglangPrompt:
		return route{to: slotPrompt}
	case sglangGeneration:
		return route{to: slotGeneration}
	}
	return route{}
}
