package collector

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// llamacpp reads the /metrics page of llama.cpp's llama-server (started
// with --metrics). It serves one model per process and labels no series, so
// the reading goes under the configured model name. It has no completion
// counter and no latency histogram; its KV-cache gauges were removed in 2025.
type llamacpp struct{}

// The llama.cpp metrics read. Source: tools/server/server.cpp (earlier
// examples/server/server.cpp), the metrics handler.
const (
	llamacppProcessing = "llamacpp:requests_processing"
	llamacppDeferred   = "llamacpp:requests_deferred"
	// The seconds spent on prompts and on generation, summed over slots and
	// added when a prompt or a request finishes: exact with one slot, an
	// over-estimate of busy time with several running at once.
	llamacppPromptSeconds  = "llamacpp:prompt_seconds_total"
	llamacppPredictSeconds = "llamacpp:tokens_predicted_seconds_total"
	llamacppPrompt         = "llamacpp:prompt_tokens_total"
	llamacppGeneration     = "llamacpp:tokens_predicted_total"
)

// Name returns "llamacpp".
func (llamacpp) Name() string { return "llamacpp" }

// Detect reports whether the page has llamacpp: families.
func (llamacpp) Detect(p *Page) bool { return p.hasFamilyPrefix("llamacpp:") }

func (llamacpp) reads() []string {
	return []string{llamacppProcessing, llamacppDeferred, llamacppPromptSeconds,
		llamacppPredictSeconds, llamacppPrompt, llamacppGeneration}
}

// Models returns one reading, under model or UnknownModel.
func (llamacpp) Models(p *Page, model string) (map[string]timeline.Reading, error) {
	return collect(p, "", llamacppRoute, fixedModel(model))
}

func llamacppRoute(name string, _ labels.Labels) route {
	switch name {
	case llamacppProcessing:
		return route{to: slotRunning}
	case llamacppDeferred:
		return route{to: slotWaiting}
	case llamacppPromptSeconds, llamacppPredictSeconds:
		return route{to: slotProcessing}
	case llamacppPrompt:
		return route{to: slotPrompt}
	case llamacppGeneration:
		return route{to: slotGeneration}
	}
	return route{}
}
