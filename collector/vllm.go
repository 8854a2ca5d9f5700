package collector

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// vllm reads vLLM's /metrics page, V0 engine (up to v0.10) and V1 engine
// (v0.8 on). Series carry model_name, the served model name; V1 adds
// engine, one value per data-parallel engine core. Each engine schedules
// its own requests, so running and waiting requests and every counter are
// summed over engines; the KV-cache share is their mean (the engines hold
// caches of the same size).
//
// vLLM counts LoRA adapter traffic under the base model's model_name (only
// the sampled vllm:lora_requests_info gauge names adapters), so requests to
// an adapter count toward its base model here too.
type vllm struct{}

// The vLLM metrics read. Sources: vllm/engine/metrics.py (V0) and
// vllm/v1/metrics/loggers.py (V1).
const (
	vllmRunning = "vllm:num_requests_running"
	vllmWaiting = "vllm:num_requests_waiting"
	// vllmSwapped is V0 only (removed in v0.10): requests preempted to CPU
	// memory, still in flight, so counted as waiting.
	vllmSwapped = "vllm:num_requests_swapped"
	// vllmKV replaced vllmKVOld in v0.9.2; the old gauge was hidden in
	// v0.11 and removed in v0.12, and is read only when the new one is absent.
	vllmKV    = "vllm:kv_cache_usage_perc"
	vllmKVOld = "vllm:gpu_cache_usage_perc"
	// vllmSuccess has one series per finished_reason (stop, length, abort,
	// error), aborted and failed requests included despite its name. vLLM
	// creates every reason at 0 on start, so the sum moves only when a
	// request finishes.
	vllmSuccess      = "vllm:request_success_total"
	vllmLatencySum   = "vllm:e2e_request_latency_seconds_sum"
	vllmLatencyCount = "vllm:e2e_request_latency_seconds_count"
	vllmPrompt       = "vllm:prompt_tokens_total"
	vllmGeneration   = "vllm:generation_tokens_total"
)

// Name returns "vllm".
func (vllm) Name() string { return "vllm" }

// Detect reports whether the page has vllm: families.
func (vllm) Detect(p *Page) bool { return p.hasFamilyPrefix("vllm:") }

func (vllm) reads() []string {
	return []string{vllmRunning, vllmWaiting, vllmSwapped, vllmKV, vllmKVOld, vllmSuccess,
		vllmLatencySum, vllmLatencyCount, vllmPrompt, vllmGeneration}
}

// Models returns a reading per model_name.
func (vllm) Models(p *Page, model string) (map[string]timeline.Reading, error) {
	return collect(p, model, vllmRoute, modelLabel("model_name"))
}

func vllmRoute(name string, _ labels.Labels) route {
	switch name {
	case vllmRunning:
		return route{to: slotRunning}
	case vllmWaiting, vllmSwapped:
		return route{to: slotWaiting}
	case vllmKV:
		return route{to: slotKV}
	case vllmKVOld:
		return route{to: slotKVAlt}
	case vllmSuccess:
		return route{to: slotCompleted}
	case vllmLatencySum:
		return route{to: slotLatencySum}
	case vllmLatencyCount:
		return route{to: slotLatencyCount}
	case vllmPrompt:
		return route{to: slotPrompt}
	case vllmGeneration:
		return route{to: slotGeneration}
	}
	return route{}
}
