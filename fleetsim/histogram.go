package fleetsim

import "sort"

// Quantity names a per-request value that a server may expose as a histogram.
type Quantity int

// The per-request quantities the engine observes when a request completes.
const (
	// E2ELatency is arrival to completion, in seconds.
	E2ELatency Quantity = iota
	// QueueTime is arrival to start, in seconds.
	QueueTime
	// InferenceTime is start to completion, in seconds.
	InferenceTime
	// PrefillTime is the prompt processing time, in seconds.
	PrefillTime
	// DecodeTime is the token generation time, in seconds.
	DecodeTime
	// TimeToFirstToken is arrival to the end of prefill, in seconds.
	TimeToFirstToken
	// TimePerOutputToken is decode time divided by output tokens, in seconds.
	TimePerOutputToken
	// PromptTokens is the number of prompt tokens.
	PromptTokens
	// GenerationTokens is the number of generated tokens.
	GenerationTokens
	numQuantities
)

// Layout maps each quantity a server exposes as a histogram to its bucket
// upper bounds (ascending, without +Inf).
type Layout map[Quantity][]float64

// Histogram is a cumulative histogram with fixed bounds.
type Histogram struct {
	// Bounds are the bucket upper bounds, ascending, +Inf implied.
	Bounds []float64
	// Counts[i] is the number of observations in (Bounds[i-1], Bounds[i]];
	// the last element counts observations above every bound.
	Counts []uint64
	// Count is the number of observations and Sum their total.
	Count uint64
	Sum   float64
}

// NewHistogram returns an empty histogram with the given bounds.
func NewHistogram(bounds []float64) *Histogram {
	return &Histogram{Bounds: bounds, Counts: make([]uint64, len(bounds)+1)}
}

// Observe adds one observation.
func (h *Histogram) Observe(v float64) {
	h.Counts[sort.SearchFloat64s(h.Bounds, v)]++
	h.Count++
	h.Sum += v
}

// Cumulative returns the cumulative count for each bound, as Prometheus
// exposes buckets; the +Inf bucket equals Count.
func (h *Histogram) Cumulative() []uint64 {
	out := make([]uint64, len(h.Bounds))
	var c uint64
	for i := range h.Bounds {
		c += h.Counts[i]
		out[i] = c
	}
	return out
}

// Clone returns an independent copy.
func (h *Histogram) Clone() *Histogram {
	c := *h
	c.Counts = append([]uint64(nil), h.Counts...)
	return &c
}

// constantHistogram returns a histogram of n observations that all equal v,
// for per-step series whose every step takes the same time.
func constantHistogram(bounds []float64, n uint64, v float64) *Histogram {
	h := NewHistogram(bounds)
	h.Counts[sort.SearchFloat64s(bounds, v)] = n
	h.Count = n
	h.Sum = float64(n) * v
	return h
}
