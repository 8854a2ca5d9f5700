package accuracy

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
	"github.com/placement-exporter/placement_exporter/fleetsim"
)

// Method names what produced an estimate.
type Method string

// The methods compared.
const (
	// Exporter is the exporter's estimator polling at the interval.
	Exporter Method = "exporter"
	// PromQL is the share of Prometheus scrapes that saw a running request,
	// avg_over_time((running > bool 0)[1h:S]), for a scrape interval S.
	PromQL Method = "promql"
	// CountersOnly is the exporter's estimator on a server that exposes no
	// running gauge (Triton without the TensorRT-LLM backend, older
	// trtllm-serve): only the waiting gauge and the counters.
	CountersOnly Method = "counters-only"
)

// GapStats describe the idle gaps whose true length falls in one bucket of
// the exporter's idle-gap histogram.
type GapStats struct {
	// UpperBound is the bucket's upper bound in seconds (+Inf for the last).
	UpperBound float64
	// True is the number of true gaps in the bucket that the method could
	// see (at least 3 intervals long); Found how many of them it found.
	True, Found int
	// MeanAbsError is the mean absolute length error of the found gaps, in seconds.
	MeanAbsError float64
}

// Result is one method at one interval on one scenario.
type Result struct {
	Scenario string
	Method   Method
	Interval time.Duration
	// WorstDutyErrorPP and MeanDutyErrorPP are the largest and the mean
	// absolute duty-cycle error over one-hour windows, in percentage points.
	WorstDutyErrorPP, MeanDutyErrorPP float64
	// SignedPP is the sum of signed errors, for diagnosis.
	SignedPP float64
	// TrueDuty is the exact duty cycle over the whole run, 0 to 1.
	TrueDuty float64
	// Gaps are per histogram bucket.
	Gaps []GapStats
	// Recall is the share of true gaps at least 3 intervals long found.
	Recall float64
	// TrueGaps is the number of those gaps.
	TrueGaps int
	// Bills are the serverless bill errors per scale-down window.
	Bills []BillError
}

// span is a stretch of a timeline with its position, in seconds since the
// simulation started.
type span struct {
	start, end float64
	kind       timeline.Kind
	inFlight   float64
}

// placed turns an ordered segment stream starting at a known time into
// spans; it is a timeline.Sink.
type placed struct {
	at    float64
	spans []span
}

func (p *placed) Add(s timeline.Segment) {
	if n := len(p.spans); n > 0 && p.spans[n-1].kind == s.Kind && s.Kind != timeline.Busy {
		p.spans[n-1].end += s.Seconds
	} else {
		p.spans = append(p.spans, span{p.at, p.at + s.Seconds, s.Kind, s.InFlight})
	}
	p.at += s.Seconds
}

// gaps returns the completed idle gaps of a placed timeline: idle spans
// with a busy span on each side.
func gaps(spans []span) [][2]float64 {
	var out [][2]float64
	start, open := 0.0, false
	for i, s := range spans {
		switch s.kind {
		case timeline.Busy:
			if open && i > 0 && spans[i-1].kind == timeline.Idle {
				out = append(out, [2]float64{start, s.start})
			}
			open = false
		case timeline.Idle:
			if i > 0 && spans[i-1].kind == timeline.Busy {
				start, open = s.start, true
			}
		case timeline.Unobserved:
			open = false
		}
	}
	return out
}

// phase returns a pseudo-random offset in [0, interval) for the first poll,
// so that polls are not aligned with whole seconds of simulated time.
func phase(seed uint64, interval time.Duration) time.Duration {
	r := rand.New(rand.NewPCG(seed, uint64(interval)))
	return time.Duration(r.Int64N(int64(interval)))
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Measure runs the scenario once and measures the exporter's estimator
// polling every interval, and PromQL over scrapes every scrape interval.
func Measure(sc Scenario, interval time.Duration, method Method, seed uint64, windows []float64) (Result, error) {
	sim, err := fleetsim.NewModelSim(sc.Model, sc.Source(seed), nil)
	if err != nil {
		return Result{}, err
	}
	first := phase(seed, interval)
	est := &placed{at: first.Seconds()}
	var estSegs fleetsim.SegmentList
	estimator := timeline.NewEstimator(timeline.Options{}, est, &estSegs)

	// Poll, and take the counters at the first poll of every hour as
	// Prometheus would when it evaluates rate() over an hour.
	type mark struct {
		at               time.Duration // time up to which the estimate is settled
		busy, observed   float64
		samples, running int
	}
	var marks []mark
	samples, running := 0, 0
	for t := first; t <= sc.Duration; t += interval {
		sim.AdvanceTo(t)
		r := sim.Reading()
		switch method {
		case Exporter:
			estimator.Observe(t0.Add(t), r)
		case CountersOnly:
			r.Running = 0
			r.Present &^= timeline.FieldRunning
			estimator.Observe(t0.Add(t), r)
		case PromQL:
			samples++
			kind := timeline.Idle
			if r.Running > 0 {
				running++
				kind = timeline.Busy
			}
			// Each scrape stands for the interval around it.
			seg := timeline.Segment{Kind: kind, Seconds: interval.Seconds(), InFlight: r.InFlight()}
			est.Add(seg)
			estSegs.Add(seg)
		}
		if len(marks) == 0 || t-marks[len(marks)-1].at >= time.Hour {
			tot := estimator.Totals()
			// The estimator holds a busy run until it is settled (at most a
			// couple of minutes): compare with the truth up to the time it
			// has settled, which its segments reach from the first poll.
			at := t
			if method != PromQL {
				at = first + time.Duration((tot.ObservedSeconds+tot.UnobservedSeconds)*float64(time.Second))
			}
			marks = append(marks, mark{at, tot.BusySeconds, tot.ObservedSeconds, samples, running})
		}
	}
	if method == PromQL {
		// The scrape segments are centred on the scrapes.
		for i := range est.spans {
			est.spans[i].start -= interval.Seconds() / 2
			est.spans[i].end -= interval.Seconds() / 2
		}
	}

	res := Result{Scenario: sc.Name, Method: method, Interval: interval}
	truth := sim.Truth()
	whole := truth.Window(first, sc.Duration)
	res.TrueDuty = whole.DutyCycle
	var sum float64
	n := 0
	for i := 1; i < len(marks); i++ {
		a, b := marks[i-1], marks[i]
		var got float64
		switch method {
		case Exporter, CountersOnly:
			if b.observed > a.observed {
				got = (b.busy - a.busy) / (b.observed - a.observed)
			}
		case PromQL:
			got = float64(b.running-a.running) / float64(b.samples-a.samples)
		}
		want := truth.Window(a.at, b.at).DutyCycle
		e := math.Abs(got-want) * 100
		res.SignedPP += (got - want) * 100
		res.WorstDutyErrorPP = math.Max(res.WorstDutyErrorPP, e)
		sum += e
		n++
	}
	if n > 0 {
		res.MeanDutyErrorPP = sum / float64(n)
	}

	// Idle gaps: a true gap counts as found when one estimated gap covers
	// at least half of it.
	var tp placed
	tp.at = first.Seconds()
	var trueSegs fleetsim.SegmentList
	truth.Feed(first, sc.Duration, multi{&tp, &trueSegs})
	trueGaps, estGaps := gaps(tp.spans), gaps(est.spans)
	res.Gaps = make([]GapStats, len(timeline.GapBuckets)+1)
	for i := range res.Gaps {
		res.Gaps[i].UpperBound = math.Inf(1)
		if i < len(timeline.GapBuckets) {
			res.Gaps[i].UpperBound = timeline.GapBuckets[i]
		}
	}
	sumErr := make([]float64, len(res.Gaps))
	found := 0
	for _, g := range trueGaps {
		length := g[1] - g[0]
		if length < 3*interval.Seconds() {
			continue
		}
		b := sort.SearchFloat64s(timeline.GapBuckets, length)
		res.Gaps[b].True++
		res.TrueGaps++
		if m, ok := match(g, estGaps); ok {
			res.Gaps[b].Found++
			found++
			sumErr[b] += math.Abs((m[1] - m[0]) - length)
		}
	}
	for i := range res.Gaps {
		if res.Gaps[i].Found > 0 {
			res.Gaps[i].MeanAbsError = sumErr[i] / float64(res.Gaps[i].Found)
		}
	}
	if res.TrueGaps > 0 {
		res.Recall = float64(found) / float64(res.TrueGaps)
	}

	// The estimate's last segments are still held: compare the bills up
	// to where the estimate reaches.
	end := first + time.Duration(sumSeconds(estSegs)*float64(time.Second))
	trueSegs = truth.Segments(first, end)
	if res.Bills, err = bills(windows, trueSegs, estSegs); err != nil {
		return Result{}, err
	}
	return res, nil
}

// multi sends each segment to several sinks.
type multi []timeline.Sink

func (m multi) Add(s timeline.Segment) {
	for _, k := range m {
		k.Add(s)
	}
}

func sumSeconds(segs []timeline.Segment) float64 {
	var s float64
	for _, x := range segs {
		s += x.Seconds
	}
	return s
}

// match returns the estimated gap that overlaps the true gap g most, if it
// covers at least half of g.
func match(g [2]float64, est [][2]float64) ([2]float64, bool) {
	i := sort.Search(len(est), func(i int) bool { return est[i][1] > g[0] })
	var best [2]float64
	bestOverlap := 0.0
	for ; i < len(est) && est[i][0] < g[1]; i++ {
		o := math.Min(g[1], est[i][1]) - math.Max(g[0], est[i][0])
		if o > bestOverlap {
			best, bestOverlap = est[i], o
		}
	}
	return best, bestOverlap >= (g[1]-g[0])/2
}
