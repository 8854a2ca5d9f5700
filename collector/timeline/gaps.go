package timeline

import "sort"

// GapBuckets are the upper bounds, in seconds, of the idle-gap histogram. They
// run from 1 s to 1 day and include the scale-down windows that serverless
// platforms use by default or allow: RunPod 5 s, Knative 30 s, Modal 60 s,
// Replicate and Beam 180 s, Koyeb and KEDA 300 s, Ray Serve 600 s, Baseten
// and Cloud Run 900 s, Modal's maximum 1200 s, and whole hours beyond.
var GapBuckets = []float64{
	1, 2, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1200, 1800,
	3600, 7200, 14400, 28800, 43200, 86400,
}

// GapHistogram is a cumulative histogram of completed idle gaps.
type GapHistogram struct {
	// Counts[i] is the number of gaps no longer than GapBuckets[i]
	// (cumulative, as Prometheus exposes it).
	Counts []uint64
	// Count is the number of gaps, Sum their total length in seconds.
	Count uint64
	Sum   float64
}

// GapRecorder measures completed idle gaps from a segment stream: the idle
// time between the end of one busy period and the start of the next. A gap
// that an unobserved stretch interrupts, and the gap before the first busy
// period, have no known length and are not recorded.
type GapRecorder struct {
	open     bool    // a busy period has ended and its gap is being measured
	gap      float64 // idle seconds since that busy period ended
	counts   []uint64
	count    uint64
	sum      float64
	lastGaps []float64 // recent gaps, only when KeepGaps is set
	// KeepGaps, when set, keeps every recorded gap for inspection by tests
	// and the accuracy benchmark.
	KeepGaps bool
}

// Add consumes one segment.
func (g *GapRecorder) Add(s Segment) {
	switch s.Kind {
	case Idle:
		if g.open {
			g.gap += s.Seconds
		}
	case Busy:
		if g.open && g.gap > 0 {
			g.observe(g.gap)
		}
		g.open = true
		g.gap = 0
	case Unobserved:
		g.open = false
		g.gap = 0
	}
}

func (g *GapRecorder) observe(v float64) {
	if g.counts == nil {
		g.counts = make([]uint64, len(GapBuckets))
	}
	i := sort.SearchFloat64s(GapBuckets, v)
	if i < len(g.counts) {
		g.counts[i]++
	}
	g.count++
	g.sum += v
	if g.KeepGaps {
		g.lastGaps = append(g.lastGaps, v)
	}
}

// Histogram returns the gaps recorded so far as a cumulative histogram.
func (g *GapRecorder) Histogram() GapHistogram {
	h := GapHistogram{Counts: make([]uint64, len(GapBuckets)), Count: g.count, Sum: g.sum}
	var c uint64
	for i := range GapBuckets {
		if g.counts != nil {
			c += g.counts[i]
		}
		h.Counts[i] = c
	}
	return h
}

// Gaps returns every recorded gap in order, if KeepGaps was set.
func (g *GapRecorder) Gaps() []float64 { return g.lastGaps }

// OpenGap returns the length of the idle gap still in progress, and whether
// one is being measured.
func (g *GapRecorder) OpenGap() (float64, bool) { return g.gap, g.open }
