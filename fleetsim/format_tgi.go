package fleetsim

import (
	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// TGI's histogram buckets: 35 durations growing by 1.5 from 0.00015 s, and
// 100 linear token buckets up to the server's max input and max total
// tokens (511 and 512 in the captures, testdata/tgi-*.txt).
var (
	tgiDurations    = tgiDurationBuckets()
	tgiInputTokens  = linearBuckets(511)
	tgiOutputTokens = linearBuckets(512)
)

func tgiDurationBuckets() []float64 {
	out := make([]float64, 35)
	v := 0.0001
	for i := range out {
		v *= 1.5 // repeated products, so the bounds match TGI's to the last bit
		out[i] = v
	}
	return out
}

func linearBuckets(limit int) []float64 {
	out := make([]float64, 100)
	step := float64(limit) / 100
	for i := range out {
		out[i] = step * float64(i+1)
	}
	return out
}

// tgiValidationSeconds is the simulated validation time of every request.
const tgiValidationSeconds = 0.0002

// Hugging Face TGI 3.x: no labels, counters without _total, a blank line
// between families, le after the other labels, families in the order of
// testdata/tgi-datadog-fixture-excerpt.txt.
var _ = register(&Format{
	Name: "tgi", Server: "tgi", Path: "/metrics",
	Layout: Layout{
		E2ELatency: tgiDurations, QueueTime: tgiDurations, InferenceTime: tgiDurations, PrefillTime: tgiDurations,
		PromptTokens: tgiInputTokens, GenerationTokens: tgiOutputTokens,
	},
	// TGI has no token counters; the token histograms' sums are complete
	// only for finished requests.
	expected: func(s Stats, _ ModelConfig) timeline.Reading {
		return timeline.Reading{
			Running:           float64(s.Running),
			Waiting:           float64(s.Waiting),
			Completed:         float64(s.Completed),
			LatencySum:        secs(s.LatencySum),
			LatencyCount:      float64(s.Completed),
			ProcessingSeconds: secs(s.PrefillSum + s.DecodeSum),
			PromptTokens:      float64(s.CompletedPromptTokens),
			GenerationTokens:  float64(s.CompletedGenerationTokens),
			Present: timeline.FieldRunning | timeline.FieldWaiting | timeline.FieldCompleted |
				timeline.FieldLatency | timeline.FieldProcessing | timeline.FieldPromptTokens |
				timeline.FieldGenerationTokens,
		}
	},
	render: func(p *page, models []*ModelSim) {
		p.blankLines, p.leLast = true, true
		m := models[0]
		s := m.Stats()
		tpot := m.Config().TimePerOutputToken.Seconds()
		simple := func(name, typ, help string, v float64) {
			p.family(name, typ, help)
			p.sample(name, nil, v)
		}
		// Each started request is one prefill call; decode calls follow the
		// engine's step model.
		perMethod := func(name, help string) {
			p.family(name, "counter", help)
			p.sample(name, []label{{"method", "prefill"}}, float64(s.Started))
			p.sample(name, []label{{"method", "decode"}}, float64(s.DecodeSteps))
		}
		hist := func(name, help string, h *Histogram) {
			p.family(name, "histogram", help)
			p.histogram(name, nil, h, bucketsSumCount)
		}

		simple("tgi_request_success", "counter", "Number of successful requests", float64(s.Completed))
		simple("tgi_request_count", "counter", "Total number of requests", float64(s.Arrived))
		perMethod("tgi_batch_inference_success", "Number of successful inference calls per method (prefill or decode)")
		perMethod("tgi_batch_inference_count", "Inference calls per method (prefill or decode)")
		simple("tgi_queue_size", "gauge", "Current queue size", float64(s.Waiting))
		simple("tgi_batch_current_max_tokens", "gauge", "Maximum tokens for the current batch", float64(s.KVTokens))
		simple("tgi_batch_current_size", "gauge", "Current batch size", float64(s.Running))
		hist("tgi_request_input_length", "Input token length per request", m.Histogram(PromptTokens))
		hist("tgi_request_generated_tokens", "Generated tokens per request", m.Histogram(GenerationTokens))
		hist("tgi_request_inference_duration", "Request inference duration", m.Histogram(InferenceTime))

		p.family("tgi_batch_forward_duration", "histogram", "Batch forward duration per method (prefill or decode)")
		p.histogram("tgi_batch_forward_duration", []label{{"method", "prefill"}}, m.Histogram(PrefillTime),
			bucketsSumCount)
		p.histogram("tgi_batch_forward_duration", []label{{"method", "decode"}},
			constantHistogram(tgiDurations, s.DecodeSteps, tpot), bucketsSumCount)

		hist("tgi_request_duration", "Request duration", m.Histogram(E2ELatency))
		hist("tgi_request_validation_duration", "Request validation duration",
			constantHistogram(tgiDurations, s.Completed, tgiValidationSeconds))
		hist("tgi_request_queue_duration", "Request queue duration", m.Histogram(QueueTime))
	},
})
