package fleetsim

import (
	"time"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// step is a change of the in-flight count: from At on, InFlight requests are
// running or waiting.
type step struct {
	At       time.Duration
	InFlight int
}

// Truth is the exact record of a model's in-flight count over time: the
// union of every request's [arrival, completion) interval, with the number of
// requests in flight. It holds one entry per change of the count (about
// 16 bytes each).
type Truth struct {
	steps []step // steps[0] is {0, 0}; At strictly increasing; no two equal counts in a row
}

func newTruth() *Truth { return &Truth{steps: []step{{0, 0}}} }

// record notes that the in-flight count is n from t on. Several events at the
// same instant collapse into one entry, so no segment has zero length.
func (t *Truth) record(at time.Duration, n int) {
	last := &t.steps[len(t.steps)-1]
	if last.At == at {
		last.InFlight = n
		if len(t.steps) > 1 && t.steps[len(t.steps)-2].InFlight == n {
			t.steps = t.steps[:len(t.steps)-1]
		}
		return
	}
	if last.InFlight == n {
		return
	}
	t.steps = append(t.steps, step{at, n})
}

// Feed sends the exact segments of [from, to) to sink in time order: an idle
// segment per idle period and a busy segment wherever the in-flight count is
// constant, its InFlight that count. to must not be later than the time the
// model has been advanced to, or the tail reflects only what is known.
func (t *Truth) Feed(from, to time.Duration, sink timeline.Sink) {
	if to <= from {
		return
	}
	// First step at or before from.
	lo, hi := 0, len(t.steps)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if t.steps[mid].At <= from {
			lo = mid
		} else {
			hi = mid
		}
	}
	var idle time.Duration // idle time not yet sent, so one idle period is one segment
	for i := lo; i < len(t.steps); i++ {
		s := t.steps[i]
		start := max(s.At, from)
		end := to
		if i+1 < len(t.steps) {
			end = min(t.steps[i+1].At, to)
		}
		if end <= start {
			if start >= to {
				break
			}
			continue
		}
		if s.InFlight == 0 {
			idle += end - start
			continue
		}
		if idle > 0 {
			sink.Add(timeline.Segment{Kind: timeline.Idle, Seconds: idle.Seconds()})
			idle = 0
		}
		sink.Add(timeline.Segment{Kind: timeline.Busy, Seconds: (end - start).Seconds(), InFlight: float64(s.InFlight)})
	}
	if idle > 0 {
		sink.Add(timeline.Segment{Kind: timeline.Idle, Seconds: idle.Seconds()})
	}
}

// SegmentList collects segments; it is a timeline.Sink.
type SegmentList []timeline.Segment

// Add appends one segment.
func (l *SegmentList) Add(s timeline.Segment) { *l = append(*l, s) }

// Segments returns the exact segments of [from, to); see Feed.
func (t *Truth) Segments(from, to time.Duration) []timeline.Segment {
	var l SegmentList
	t.Feed(from, to, &l)
	return l
}

// Window summarises the ground truth of one model over [From, To).
type Window struct {
	// From and To bound the window, as time since the start.
	From, To time.Duration
	// BusySeconds is the time with at least one request in flight;
	// ObservedSeconds is To - From.
	BusySeconds, ObservedSeconds float64
	// DutyCycle is BusySeconds / ObservedSeconds, 0 for an empty window.
	DutyCycle float64
	// MaxInFlight is the largest number of requests in flight.
	MaxInFlight int
	// Gaps are the completed idle gaps, measured as timeline.GapRecorder
	// measures them: an idle period between two busy ones inside the window.
	Gaps timeline.GapHistogram
	// GapList holds every completed gap in order, in seconds.
	GapList []float64
	// OpenGapSeconds is the idle time since the last busy period, if the
	// window ends idle after one.
	OpenGapSeconds float64
}

// windowSink accumulates a Window from segments.
type windowSink struct {
	w   *Window
	gap timeline.GapRecorder
}

func (s *windowSink) Add(seg timeline.Segment) {
	if seg.Kind == timeline.Busy {
		s.w.BusySeconds += seg.Seconds
		s.w.MaxInFlight = max(s.w.MaxInFlight, int(seg.InFlight))
	}
	s.gap.Add(seg)
}

// Window returns the ground truth over [from, to), computed from the same
// segments Feed produces and through the same timeline.GapRecorder the
// exporter uses, so truth and estimate differ only in their segments.
func (t *Truth) Window(from, to time.Duration) Window {
	w := Window{From: from, To: max(from, to)}
	s := windowSink{w: &w, gap: timeline.GapRecorder{KeepGaps: true}}
	t.Feed(from, to, &s)
	w.ObservedSeconds = (w.To - w.From).Seconds()
	if w.ObservedSeconds > 0 {
		w.DutyCycle = w.BusySeconds / w.ObservedSeconds
	}
	w.Gaps = s.gap.Histogram()
	w.GapList = s.gap.Gaps()
	if g, open := s.gap.OpenGap(); open {
		w.OpenGapSeconds = g
	}
	return w
}

// LastBusy returns the last instant at or before now with a request in
// flight (now itself if the model is busy), and false if it never was busy.
func (t *Truth) LastBusy(now time.Duration) (time.Duration, bool) {
	for i := len(t.steps) - 1; i >= 0; i-- {
		s := t.steps[i]
		if s.At > now {
			continue
		}
		if s.InFlight > 0 {
			return now, true
		}
		if i > 0 {
			return s.At, true
		}
	}
	return 0, false
}

// Steps returns the number of recorded changes of the in-flight count.
func (t *Truth) Steps() int { return len(t.steps) }
