// Package timeline turns successive polls of one model into a busy/idle
// timeline: observed and busy seconds, completed idle gaps, and an ordered
// stream of segments that the cost simulation consumes. It does no I/O and
// reads no clock: every method takes the time of the poll it describes.
package timeline

// Field names one value of a Reading.
type Field uint16

// The fields a Reading can carry. An adapter sets a bit in Reading.Present
// for every value the inference server exposes.
const (
	// FieldRunning is the number of requests being executed now.
	FieldRunning Field = 1 << iota
	// FieldWaiting is the number of requests queued and not yet running.
	FieldWaiting
	// FieldCompleted is the cumulative count of finished requests.
	FieldCompleted
	// FieldLatency is the cumulative sum and count of end-to-end request
	// latency (arrival to last token, queue time included), in seconds.
	FieldLatency
	// FieldProcessing is a cumulative count of seconds spent working on
	// requests that the server adds to when work finishes (Triton's compute
	// duration, llama.cpp's prompt and prediction seconds).
	FieldProcessing
	// FieldPromptTokens is the cumulative count of prompt tokens processed.
	FieldPromptTokens
	// FieldGenerationTokens is the cumulative count of tokens generated.
	FieldGenerationTokens
	// FieldKVCache is the share of the KV cache in use, 0 to 1.
	FieldKVCache
)

// Has reports whether every field in f is set in p.
func (p Field) Has(f Field) bool { return p&f == f }

// Reading is what one poll saw of one model. Counters are cumulative since
// the inference server started; a counter lower than in the previous reading
// means the server restarted.
type Reading struct {
	// Running is the number of requests executing at the poll.
	Running float64
	// Waiting is the number of requests queued at the poll.
	Waiting float64
	// Completed is the cumulative number of finished requests.
	Completed float64
	// LatencySum is the cumulative end-to-end latency of finished requests, in seconds.
	LatencySum float64
	// LatencyCount is the number of requests that LatencySum covers.
	LatencyCount float64
	// ProcessingSeconds is a cumulative processing-time counter, in seconds.
	ProcessingSeconds float64
	// PromptTokens is the cumulative number of prompt tokens processed.
	PromptTokens float64
	// GenerationTokens is the cumulative number of tokens generated.
	GenerationTokens float64
	// KVCacheUsage is the share of the KV cache in use, 0 to 1.
	KVCacheUsage float64
	// Present says which of the values above the server exposes.
	Present Field
}

// InFlight returns the number of requests running or waiting.
func (r Reading) InFlight() float64 { return r.Running + r.Waiting }

// Busy reports whether the reading shows at least one request in flight.
func (r Reading) Busy() bool { return r.InFlight() > 0 }
