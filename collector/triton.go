package collector

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// triton reads the metrics page of NVIDIA Triton Inference Server (port
// 8002 by default), which serves many models. Series carry model and
// version; the versions of a model are summed into one reading (their KV
// shares averaged). Counters have no _total suffix and the core duration
// counters are cumulative microseconds, converted to seconds here.
//
// Triton core has no gauge of requests executing. The TensorRT-LLM backend
// adds one, and its count of requests queued in the backend, which comes
// on top of the requests Triton holds before handing them over; models on
// other backends have no running gauge, and their activity shows in the
// pending count and the counters. Requests served from Triton's response
// cache count as successes without compute time. An ensemble is a model of
// its own: a request to it also counts in every model it calls.
type triton struct{}

// The Triton metrics read. Sources: triton-inference-server/core
// src/metric_model_reporter.cc and the tensorrtllm_backend and vllm_backend
// READMEs.
const (
	// tritonPending exists since Triton 23.09.
	tritonPending = "nv_inference_pending_request_count"
	tritonSuccess = "nv_inference_request_success"
	// tritonFailure has a reason label since 24.07; every reason counts.
	tritonFailure = "nv_inference_request_failure"
	// tritonRequestUs is recorded for successful requests only, arrival to
	// response, queue included: its count is tritonSuccess.
	tritonRequestUs = "nv_inference_request_duration_us"
	tritonComputeUs = "nv_inference_compute_infer_duration_us"
	// tritonTRTRequests has request_type active (running) and waiting
	// (queued in the backend), among others.
	tritonTRTRequests = "nv_trt_llm_request_metrics"
	// tritonTRTKV has kv_cache_block_type fraction in recent backends; in
	// older ones, used and max give the same ratio.
	tritonTRTKV = "nv_trt_llm_kv_cache_block_metrics"
	// Per-request token histograms of the TensorRT-LLM backend: their sums
	// are cumulative token counts.
	tritonTRTInputSum  = "nv_llm_input_token_len_sum"
	tritonTRTOutputSum = "nv_llm_output_token_len_sum"
)

// microsecondsPerSecond converts Triton's duration counters to seconds.
const microsecondsPerSecond = 1e6

// Name returns "triton".
func (triton) Name() string { return "triton" }

// Detect reports whether the page has Triton's nv_inference_ or
// nv_trt_llm_ families, or vllm: series labelled the way Triton's vLLM
// backend labels them (model and version instead of model_name).
func (triton) Detect(p *Page) bool {
	if p.hasFamilyPrefix("nv_inference_") || p.hasFamilyPrefix("nv_trt_llm_") {
		return true
	}
	for _, s := range p.samples {
		ls := p.sets[s.set]
		if ls.Has("model") && ls.Has("version") && !ls.Has("model_name") {
			return true
		}
	}
	return false
}

func (triton) reads() []string {
	return []string{tritonPending, tritonSuccess, tritonFailure, tritonRequestUs, tritonComputeUs,
		tritonTRTRequests, tritonTRTKV, tritonTRTInputSum, tritonTRTOutputSum,
		vllmPrompt, vllmGeneration, vllmLatencySum, vllmLatencyCount}
}

// Models returns a reading per model label. The vLLM backend's own series
// (labelled model, version) give tokens, and latency where the core
// duration counters are turned off.
func (triton) Models(p *Page, model string) (map[string]timeline.Reading, error) {
	return collect(p, model, tritonRoute, modelLabel("model"))
}

func tritonRoute(name string, ls labels.Labels) route {
	switch name {
	case tritonPending:
		return route{to: slotWaiting}
	case tritonSuccess:
		return route{to: slotCompleted, also: slotLatencyCount}
	case tritonFailure:
		return route{to: slotCompleted}
	case tritonRequestUs:
		return route{to: slotLatencySum, per: microsecondsPerSecond}
	case tritonComputeUs:
		return route{to: slotProcessing, per: microsecondsPerSecond}
	case tritonTRTRequests:
		switch ls.Get("request_type") {
		case "active":
			return route{to: slotRunning}
		case "waiting":
			return route{to: slotWaiting}
		}
	case tritonTRTKV:
		switch ls.Get("kv_cache_block_type") {
		case "fraction":
			return route{to: slotKV}
		case "used":
			return route{to: slotKVUsed}
		case "max":
			return route{to: slotKVMax}
		}
	case tritonTRTInputSum, vllmPrompt:
		return route{to: slotPrompt}
	case tritonTRTOutputSum, vllmGeneration:
		return route{to: slotGeneration}
	case vllmLatencySum:
		return route{to: slotLatencySumAlt}
	case vllmLatencyCount:
		return route{to: slotLatencyCountAlt}
	}
	return route{}
}
