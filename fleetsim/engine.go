// Package fleetsim simulates a fleet of LLM inference servers. Each model is
// a queue with a fixed number of execution slots fed by a deterministic
// request source; the simulator knows every request's arrival and completion
// exactly, renders each server's /metrics page in the real server's
// exposition format, and records the exact busy intervals as ground truth.
//
// The engine reads no clock: time only moves when AdvanceTo is called, so the
// same simulation runs faster than real time in tests and benchmarks and at
// wall-clock pace in the fleetsim command.
package fleetsim

import (
	"container/heap"
	"fmt"
	"math"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// Request is one inference request as the traffic sources produce it.
type Request struct {
	// Arrival is the time the request reaches the server, since the start.
	Arrival time.Duration
	// PromptTokens is the number of input tokens.
	PromptTokens int
	// OutputTokens is the number of tokens the request generates.
	OutputTokens int
}

// Source produces requests in non-decreasing arrival order. A source is
// deterministic: the same construction yields the same requests.
type Source interface {
	// Next returns the next request, or false when the source is exhausted.
	Next() (Request, bool)
}

// ModelConfig describes how a simulated model serves requests.
type ModelConfig struct {
	// Name is the model name the server reports.
	Name string
	// MaxConcurrency is the number of requests that run at once; the rest
	// wait in FIFO order.
	MaxConcurrency int
	// PrefillTokensPerSecond is the prompt processing rate of one request.
	PrefillTokensPerSecond float64
	// TimePerOutputToken is the decode time of one generated token.
	TimePerOutputToken time.Duration
	// KVCapacityTokens is the number of tokens the KV cache holds; KV-cache
	// usage is the tokens held by running requests divided by it.
	KVCapacityTokens int
}

// Validate reports the first setting that cannot be simulated.
func (c ModelConfig) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("model name is empty")
	case c.MaxConcurrency < 1:
		return fmt.Errorf("model %q: max_concurrency must be at least 1, got %d", c.Name, c.MaxConcurrency)
	case !(c.PrefillTokensPerSecond > 0) || math.IsInf(c.PrefillTokensPerSecond, 0):
		return fmt.Errorf("model %q: prefill_tokens_per_second must be a positive number, got %v",
			c.Name, c.PrefillTokensPerSecond)
	case c.TimePerOutputToken <= 0:
		return fmt.Errorf("model %q: time_per_output_token must be positive, got %v", c.Name, c.TimePerOutputToken)
	case c.KVCapacityTokens < 1:
		return fmt.Errorf("model %q: kv_capacity_tokens must be at least 1, got %d", c.Name, c.KVCapacityTokens)
	}
	return nil
}

// PrefillTime returns how long the prompt of a request takes to process.
func (c ModelConfig) PrefillTime(promptTokens int) time.Duration {
	return time.Duration(math.Round(float64(promptTokens) / c.PrefillTokensPerSecond * float64(time.Second)))
}

// ServiceTime returns how long a request runs once it has a slot:
// prompt / prefill rate + output × time per output token.
func (c ModelConfig) ServiceTime(r Request) time.Duration {
	return c.PrefillTime(r.PromptTokens) + time.Duration(r.OutputTokens)*c.TimePerOutputToken
}

// job is a request that has arrived.
type job struct {
	Request
	seq      uint64        // arrival order, breaks ties between equal completion times
	start    time.Duration // when it got a slot
	prefill  time.Duration // prefill duration
	complete time.Duration // when it finishes
}

// runHeap orders running jobs by completion time, then arrival order.
type runHeap []*job

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if h[i].complete != h[j].complete {
		return h[i].complete < h[j].complete
	}
	return h[i].seq < h[j].seq
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*job)) }
func (h *runHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return j
}

// Stats are a model's cumulative counters at the current simulated instant.
// Durations are exact sums of nanosecond-resolution times.
type Stats struct {
	// Now is the simulated time the stats describe.
	Now time.Duration
	// Arrived counts requests that have arrived; Started those given a slot;
	// Completed those finished.
	Arrived, Started, Completed uint64
	// Running and Waiting are the requests executing and queued now.
	Running, Waiting int
	// LatencySum is the end-to-end latency (arrival to completion, queue time
	// included) summed over completed requests.
	LatencySum time.Duration
	// QueueSum, PrefillSum and DecodeSum are the queue, prefill and decode
	// time of completed requests. Servers observe every per-request value
	// when the request finishes, and so does the engine.
	QueueSum, PrefillSum, DecodeSum time.Duration
	// PromptTokens counts prompt tokens of requests whose prefill has ended;
	// GenerationTokens counts tokens generated so far, one per time per
	// output token of decode.
	PromptTokens, GenerationTokens uint64
	// CompletedPromptTokens and CompletedGenerationTokens count the tokens of
	// completed requests only, for servers that count at completion.
	CompletedPromptTokens, CompletedGenerationTokens uint64
	// KVTokens is the number of tokens held in the KV cache by running
	// requests (prompt plus tokens generated so far).
	KVTokens uint64
	// BusyTime is the time with at least one request in flight.
	BusyTime time.Duration
	// DecodeSteps counts engine decode steps: one per time per output token
	// of busy time, the step model behind step counters.
	DecodeSteps uint64
}

// ModelSim simulates one model. It is not safe for concurrent use.
type ModelSim struct {
	cfg    ModelConfig
	src    Source
	next   Request
	hasNxt bool
	seq    uint64

	now     time.Duration
	lastArr time.Duration // latest arrival, so a source out of order cannot move time back
	running runHeap
	waiting []*job // FIFO; waiting[wHead:] are queued
	wHead   int

	stats Stats
	hists [numQuantities]*Histogram
	truth *Truth
}

// NewModelSim returns a simulation of one model fed by src, at time zero.
// layout names the per-request histograms to keep and their bucket bounds.
func NewModelSim(cfg ModelConfig, src Source, layout Layout) (*ModelSim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &ModelSim{cfg: cfg, src: src, truth: newTruth()}
	for q, bounds := range layout {
		m.hists[q] = NewHistogram(bounds)
	}
	m.next, m.hasNxt = src.Next()
	return m, nil
}

// Config returns the model's configuration.
func (m *ModelSim) Config() ModelConfig { return m.cfg }

// Name returns the model name.
func (m *ModelSim) Name() string { return m.cfg.Name }

// Now returns the current simulated time.
func (m *ModelSim) Now() time.Duration { return m.now }

// Truth returns the model's exact busy/idle record.
func (m *ModelSim) Truth() *Truth { return m.truth }

// Histogram returns a copy of the per-request histogram of q, or nil if the
// model's layout does not keep it.
func (m *ModelSim) Histogram(q Quantity) *Histogram {
	if m.hists[q] == nil {
		return nil
	}
	return m.hists[q].Clone()
}

// AdvanceTo moves simulated time forward to t, processing every arrival and
// completion at or before t. A t before the current time is ignored: time
// never goes back. The result does not depend on how time is stepped.
func (m *ModelSim) AdvanceTo(t time.Duration) {
	if t <= m.now {
		return
	}
	for {
		nextC := time.Duration(math.MaxInt64)
		if len(m.running) > 0 {
			nextC = m.running[0].complete
		}
		nextA := time.Duration(math.MaxInt64)
		if m.hasNxt {
			nextA = max(m.next.Arrival, m.lastArr)
		}
		at := min(nextC, nextA)
		if at > t {
			break
		}
		m.setNow(at)
		// Completions first: a slot freed at t can take a request arriving at t.
		if nextC <= nextA {
			m.completeNext()
		} else {
			m.arrive()
		}
	}
	m.setNow(t)
}

// setNow moves the clock within the current state, accruing busy time.
func (m *ModelSim) setNow(t time.Duration) {
	if t <= m.now {
		return
	}
	if m.inFlight() > 0 {
		m.stats.BusyTime += t - m.now
	}
	m.now = t
}

func (m *ModelSim) inFlight() int { return len(m.running) + len(m.waiting) - m.wHead }

func (m *ModelSim) arrive() {
	r := m.next
	m.next, m.hasNxt = m.src.Next()
	m.seq++
	j := &job{Request: r, seq: m.seq}
	j.Arrival = max(j.Arrival, m.lastArr)
	m.lastArr = j.Arrival
	m.stats.Arrived++
	if len(m.running) < m.cfg.MaxConcurrency {
		m.start(j)
	} else {
		m.waiting = append(m.waiting, j)
	}
	m.truth.record(m.now, m.inFlight())
}

func (m *ModelSim) start(j *job) {
	j.start = m.now
	j.prefill = m.cfg.PrefillTime(j.PromptTokens)
	j.complete = m.now + m.cfg.ServiceTime(j.Request)
	m.stats.Started++
	heap.Push(&m.running, j)
}

func (m *ModelSim) completeNext() {
	j := heap.Pop(&m.running).(*job)
	s := &m.stats
	s.Completed++
	e2e := j.complete - j.Arrival
	decode := j.complete - j.start - j.prefill
	s.LatencySum += e2e
	s.QueueSum += j.start - j.Arrival
	s.PrefillSum += j.prefill
	s.DecodeSum += decode
	s.CompletedPromptTokens += uint64(j.PromptTokens)
	s.CompletedGenerationTokens += uint64(j.OutputTokens)

	m.observe(E2ELatency, e2e.Seconds())
	m.observe(QueueTime, (j.start - j.Arrival).Seconds())
	m.observe(InferenceTime, (j.complete - j.start).Seconds())
	m.observe(PrefillTime, j.prefill.Seconds())
	m.observe(DecodeTime, decode.Seconds())
	m.observe(TimeToFirstToken, (j.start + j.prefill - j.Arrival).Seconds())
	if j.OutputTokens > 0 {
		m.observe(TimePerOutputToken, (decode / time.Duration(j.OutputTokens)).Seconds())
	}
	m.observe(PromptTokens, float64(j.PromptTokens))
	m.observe(GenerationTokens, float64(j.OutputTokens))

	if m.wHead < len(m.waiting) {
		next := m.waiting[m.wHead]
		m.waiting[m.wHead] = nil
		m.wHead++
		if m.wHead > 1024 && m.wHead*2 > len(m.waiting) {
			m.waiting = append([]*job(nil), m.waiting[m.wHead:]...)
			m.wHead = 0
		}
		m.start(next)
	}
	m.truth.record(m.now, m.inFlight())
}

func (m *ModelSim) observe(q Quantity, v float64) {
	if h := m.hists[q]; h != nil {
		h.Observe(v)
	}
}

// Stats returns the model's counters at the current simulated time. Token
// counts and KV use include the progress of running requests.
func (m *ModelSim) Stats() Stats {
	s := m.stats
	s.Now = m.now
	s.Running = len(m.running)
	s.Waiting = len(m.waiting) - m.wHead
	s.PromptTokens = s.CompletedPromptTokens
	s.GenerationTokens = s.CompletedGenerationTokens
	for _, j := range m.running {
		prompt, generated := m.progress(j)
		s.PromptTokens += prompt
		s.GenerationTokens += generated
		s.KVTokens += uint64(j.PromptTokens) + generated
	}
	s.DecodeSteps = uint64(s.BusyTime / m.cfg.TimePerOutputToken)
	return s
}

// progress returns the prompt tokens processed and tokens generated so far
// by a running job: the prompt counts once prefill ends, then one token per
// time per output token.
func (m *ModelSim) progress(j *job) (prompt, generated uint64) {
	decodeStart := j.start + j.prefill
	if m.now < decodeStart {
		return 0, 0
	}
	n := uint64((m.now - decodeStart) / m.cfg.TimePerOutputToken)
	return uint64(j.PromptTokens), min(n, uint64(j.OutputTokens))
}

// KVCacheUsage returns the share of the KV cache held by running requests,
// 0 to 1. A server cannot hold more than its cache, so a configuration whose
// running requests need more reports a full cache.
func (s Stats) KVCacheUsage(capacity int) float64 {
	return min(1, float64(s.KVTokens)/float64(capacity))
}

// Reading returns the exact reading of the model at the current simulated
// time, with every field present.
func (m *ModelSim) Reading() timeline.Reading {
	s := m.Stats()
	return timeline.Reading{
		Running:           float64(s.Running),
		Waiting:           float64(s.Waiting),
		Completed:         float64(s.Completed),
		LatencySum:        s.LatencySum.Seconds(),
		LatencyCount:      float64(s.Completed),
		ProcessingSeconds: (s.PrefillSum + s.DecodeSum).Seconds(),
		PromptTokens:      float64(s.PromptTokens),
		GenerationTokens:  float64(s.GenerationTokens),
		KVCacheUsage:      s.KVCacheUsage(m.cfg.KVCapacityTokens),
		Present: timeline.FieldRunning | timeline.FieldWaiting | timeline.FieldCompleted |
			timeline.FieldLatency | timeline.FieldProcessing | timeline.FieldPromptTokens |
			timeline.FieldGenerationTokens | timeline.FieldKVCache,
	}
}
