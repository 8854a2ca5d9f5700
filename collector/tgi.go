package collector

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// tgi reads Hugging Face Text Generation Inference's /metrics page. TGI
// serves one model and labels no series with it, so the reading goes under
// the configured model name. Its exporter writes counters without the
// _total suffix.
type tgi struct{}

// The TGI metrics read. Sources: router/src/server.rs, router/src/infer,
// backends/v3/src (text-generation-inference 2.x and 3.x).
const (
	// tgiBatchSize is the size of the batch being run; TGI sets it back to
	// 0 when the batch drains.
	tgiBatchSize = "tgi_batch_current_size"
	tgiQueueSize = "tgi_queue_size"
	tgiSuccess   = "tgi_request_success"
	// tgiFailure has one series per err. Failures with err="validation" or
	// "template" are requests rejected before they were queued: they
	// never reach the model and can happen while it is idle, so counting
	// them as completed requests would read as work. Every other failure
	// (generation, incomplete, dropped, overloaded) is counted.
	tgiFailure      = "tgi_request_failure"
	tgiLatencySum   = "tgi_request_duration_sum"
	tgiLatencyCount = "tgi_request_duration_count"
	// tgiInferenceSum is the cumulative time requests spent being run
	// (queue and validation excluded): a processing-time counter.
	tgiInferenceSum = "tgi_request_inference_duration_sum"
	tgiPromptSum    = "tgi_request_input_length_sum"
	tgiGeneratedSum = "tgi_request_generated_tokens_sum"
)

// Name returns "tgi".
func (tgi) Name() string { return "tgi" }

// Detect reports whether the page has tgi_ families.
func (tgi) Detect(p *Page) bool { return p.hasFamilyPrefix("tgi_") }

func (tgi) reads() []string {
	return []string{tgiBatchSize, tgiQueueSize, tgiSuccess, tgiFailure, tgiLatencySum,
		tgiLatencyCount, tgiInferenceSum, tgiPromptSum, tgiGeneratedSum}
}

// Models returns one reading, under model or UnknownModel. TGI has no token
// counters: the sums of its per-request token histograms are cumulative
// token counts and stand in for them.
func (tgi) Models(p *Page, model string) (map[string]timeline.Reading, error) {
	return collect(p, "", tgiRoute, fixedModel(model))
}

func tgiRoute(name string, ls labels.Labels) route {
	switch name {
	case tgiBatchSize:
		return route{to: slotRunning}
	case tgiQueueSize:
		return route{to: slotWaiting}
	case tgiSuccess:
		return route{to: slotCompleted}
	case tgiFailure:
		if err := ls.Get("err"); err == "validation" || err == "template" {
			return route{}
		}
		return route{to: slotCompleted}
	case tgiLatencySum:
		return route{to: slotLatencySum}
	case tgiLatencyCount:
		return route{to: slotLatencyCount}
	case tgiInferenceSum:
		return route{to: slotProcessing}
	case tgiPromptSum:
		return route{to: slotPrompt}
	case tgiGeneratedSum:
		return route{to: slotGeneration}
	}
	return route{}
}
