package collector

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// trtllm reads TensorRT-LLM's Prometheus metrics: trtllm-serve's
// /prometheus/metrics page, or a Dynamo worker page passing them through.
// Names carry the trtllm_ prefix (Dynamo's older releases wrote trtllm:,
// read as well); labels are model_name and engine_type. Builds before the
// scheduler gauges (such as 1.1.0rc5, five families) expose only the
// completion counter and the latency histograms, so their readings have
// no running or waiting requests; busy time then comes from the counters.
type trtllm struct{}

// The TensorRT-LLM metric names read, without their prefix
// ("trtllm_" or "trtllm:"). Source: tensorrt_llm/metrics/collector.py.
const (
	trtllmRunning = "num_requests_running"
	trtllmWaiting = "num_requests_waiting"
	// trtllmSuccess has one series per finished_reason. trtllmCompleted, a
	// later addition, is read only when it is absent.
	trtllmSuccess      = "request_success_total"
	trtllmCompleted    = "num_requests_completed_total"
	trtllmLatencySum   = "e2e_request_latency_seconds_sum"
	trtllmLatencyCount = "e2e_request_latency_seconds_count"
	trtllmPrompt       = "prompt_tokens_total"
	trtllmGeneration   = "generation_tokens_total"
	trtllmKV           = "kv_cache_utilization"
)

// trtllmPrefixes are the two spellings of the prefix, of the same length.
var trtllmPrefixes = [...]string{"trtllm_", "trtllm:"}

const trtllmPrefixLen = len("trtllm_")

// trtllmUndefined is the model_name of builds that do not know it.
const trtllmUndefined = "undefined"

// Name returns "trtllm".
func (trtllm) Name() string { return "trtllm" }

// Detect reports whether the page has trtllm_ or trtllm: families.
func (trtllm) Detect(p *Page) bool {
	return p.hasFamilyPrefix(trtllmPrefixes[0]) || p.hasFamilyPrefix(trtllmPrefixes[1])
}

func (trtllm) reads() []string {
	var names []string
	for _, prefix := range trtllmPrefixes {
		for _, n := range []string{trtllmRunning, trtllmWaiting, trtllmSuccess, trtllmCompleted,
			trtllmLatencySum, trtllmLatencyCount, trtllmPrompt, trtllmGeneration, trtllmKV} {
			names = append(names, prefix+n)
		}
	}
	return names
}

// Models returns a reading per model_name. A series whose model_name is
// missing or "undefined" goes under model, or UnknownModel.
func (trtllm) Models(p *Page, model string) (map[string]timeline.Reading, error) {
	fallback := model
	if fallback == "" {
		fallback = UnknownModel
	}
	key := func(ls labels.Labels) (groupKey, bool) {
		m := ls.Get("model_name")
		if m == "" || m == trtllmUndefined {
			m = fallback
		}
		return groupKey{model: m}, true
	}
	return collect(p, model, trtllmRoute, key)
}

func trtllmRoute(name string, _ labels.Labels) route {
	if len(name) <= trtllmPrefixLen {
		return route{}
	}
	prefix := name[:trtllmPrefixLen]
	if prefix != trtllmPrefixes[0] && prefix != trtllmPrefixes[1] {
		return route{}
	}
	switch name[trtllmPrefixLen:] {
	case trtllmRunning:
		return route{to: slotRunning}
	case trtllmWaiting:
		return route{to: slotWaiting}
	case trtllmSuccess:
		return route{to: slotCompleted}
	case trtllmCompleted:
		return route{to: slotCompletedAlt}
	case trtllmLatencySum:
		return route{to: slotLatencySum}
	case trtllmLatencyCount:
		return route{to: slotLatencyCount}
	case trtllmPrompt:
		return route{to: slotPrompt}
	case trtllmGeneration:
		return route{to: slotGeneration}
	case trtllmKV:
		return route{to: slotKV}
	}
	return route{}
}
