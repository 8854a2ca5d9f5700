package billing

import (
	"fmt"
	"math"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// Options describe how a model would be deployed on a serverless offer.
type Options struct {
	// MinContainers replicas are kept warm all the time (Modal's
	// min_containers, RunPod's active workers): billed for every observed
	// second, never cold-started.
	MinContainers int
	// MaxConcurrencyPerReplica is how many requests in flight one replica
	// takes before the platform starts another; 0 means no limit, so the
	// model never needs more than one replica.
	MaxConcurrencyPerReplica float64
	// GPUsPerReplica is the number of GPUs each replica bills; 0 means 1.
	GPUsPerReplica int
}

// maxReplicas caps the replicas one busy segment can ask for, so that an
// absurd in-flight count cannot exhaust memory.
const maxReplicas = 1 << 16

// timeTolerance absorbs the floating-point error of summing many short
// segments: a gap within this many seconds of the window counts as equal to
// it, and a life within it of a billing increment is not rounded up to the
// next one.
const timeTolerance = 1e-6

// Totals are the running totals of a simulation. Every field only grows, so
// each can be exposed as a Prometheus counter.
type Totals struct {
	// ObservedSeconds is the busy and idle time seen (unobserved time is not
	// counted).
	ObservedSeconds float64
	// BusySeconds is the observed time with at least one request in flight.
	BusySeconds float64
	// BilledSeconds is the GPU-seconds the offer bills.
	BilledSeconds float64
	// ColdStarts is the number of replicas started for a request that found
	// no warm replica.
	ColdStarts uint64
	// ColdStartDelaySeconds is the sum over cold starts of the delay the
	// request that caused it would see.
	ColdStartDelaySeconds float64
	// Dollars is BilledSeconds at the offer's price, in the catalog's
	// currency.
	Dollars float64
}

// Serverless replays a model's timeline on a serverless offer and totals
// what it would bill.
//
// Rules: a replica starts when a request needs it and finds it cold (a cold
// start: counted, its ColdStartSeconds added to the delay total, and billed
// if the offer bills cold starts). After its last busy moment a replica stays
// warm for the scale-down window, billed if the offer bills warm idle time,
// and scales to zero when an idle gap exceeds the window; a gap exactly equal
// to the window keeps it warm. The billing granularity and the minimum billed
// time apply to each replica's life from start to scale-down; the rounded-up
// remainder is added when it scales down, so the totals stay monotonic and a
// live replica shows the seconds billed so far.
//
// When requests in flight exceed MaxConcurrencyPerReplica, replica k is busy
// while ceil(in flight / max) ≥ k, each with its own window, cold starts and
// rounding. A busy segment's InFlight is its peak, so every replica it needs
// counts as busy for the whole segment.
//
// Unobserved segments are cut out of the timeline: neither billed nor
// counted as idle, and a warm replica is still warm after one; a gap that
// spans one counts only its observed idle parts. Observation starts with
// every replica scaled to zero, as if the deployment began when observation
// did, so the first request pays a cold start even if the model was busy
// when observation began. The rule does not depend on what the first
// segment is, so the exact truth and the estimate, which may start at
// different moments, count the same first cold start; the cost is one
// extra cold start per restart of the exporter for a model busy at that
// moment.
//
// Add is amortised O(1): replicas started together form one cohort, and a
// busy segment only touches the cohort its replica count falls in (found
// by binary search when the count falls inside the warm range).
type Serverless struct {
	offer      Offer
	window     float64
	minWarm    int     // Options.MinContainers
	maxConc    float64 // Options.MaxConcurrencyPerReplica
	gpus       float64 // GPUs per replica
	coldBilled float64 // billed seconds a cold start adds to a replica's life

	clock float64 // observed seconds so far: the simulation's time axis

	// cohorts are the warm replicas above the MinContainers, lowest replica
	// first. Replica numbers are counted above MinContainers from 1.
	cohorts []cohort

	busy, billed, coldDelay float64
	coldStarts              uint64
}

// cohort is a run of replicas started at the same time whose busy history
// has been the same since. Cohort i holds replicas cohorts[i-1].hi+1 to hi.
//
// Busy segments always occupy replicas 1..n, so a replica's last busy time
// and its busy seconds are shared with every replica below it. Both are kept
// as tags: the value for cohort i is the max (lastBusy) or the sum (busy) of
// the tags of cohorts i and above. A busy segment then updates one tag, and
// scaling down the top cohort folds its tags into the cohort below.
type cohort struct {
	hi       int
	start    float64 // clock when the replicas started
	lastBusy float64 // tag: end of the replicas' last busy segment
	busy     float64 // tag: busy seconds of each replica
}

// NewServerless returns a simulation of a serverless offer with the given
// scale-down window in seconds.
func NewServerless(offer Offer, windowSeconds float64, opts Options) (*Serverless, error) {
	if err := offer.CheckWindow(windowSeconds); err != nil {
		return nil, err
	}
	switch {
	case math.IsInf(windowSeconds, 1):
		return nil, fmt.Errorf("offer %q: window must be a finite number of seconds", offer.ID)
	case opts.MinContainers < 0 || opts.MinContainers > maxReplicas:
		return nil, fmt.Errorf("offer %q: minimum containers must be between 0 and %d, got %d",
			offer.ID, maxReplicas, opts.MinContainers)
	case !(opts.MaxConcurrencyPerReplica >= 0) || math.IsInf(opts.MaxConcurrencyPerReplica, 1):
		return nil, fmt.Errorf("offer %q: max concurrency per replica must be ≥ 0 "+
			"(0 = no limit), got %g", offer.ID, opts.MaxConcurrencyPerReplica)
	case opts.GPUsPerReplica < 0:
		return nil, fmt.Errorf("offer %q: GPUs per replica must be ≥ 1, got %d",
			offer.ID, opts.GPUsPerReplica)
	}
	s := &Serverless{
		offer:   offer,
		window:  windowSeconds,
		minWarm: opts.MinContainers,
		maxConc: opts.MaxConcurrencyPerReplica,
		gpus:    float64(max(opts.GPUsPerReplica, 1)),
	}
	if offer.BillsColdStart {
		s.coldBilled = offer.ColdStartSeconds
	}
	return s, nil
}

// Add consumes the next segment of the timeline. Segments that are not a
// positive, finite number of seconds carry no time and are ignored.
func (s *Serverless) Add(seg timeline.Segment) {
	if !(seg.Seconds > 0) || math.IsInf(seg.Seconds, 1) {
		return
	}
	switch seg.Kind {
	case timeline.Idle:
		s.advance(s.clock+seg.Seconds, 0)
	case timeline.Busy:
		s.addBusy(seg.Seconds, seg.InFlight)
	}
}

func (s *Serverless) addBusy(seconds, inFlight float64) {
	n := max(s.replicasFor(inFlight)-s.minWarm, 0)
	i := -1
	if n > 0 {
		i = s.occupy(n)
	}

	end := s.clock + seconds
	s.advance(end, n)

	if i >= 0 {
		c := &s.cohorts[i]
		c.lastBusy = end
		c.busy += seconds
	}
	s.busy += seconds
}

// replicasFor returns the replicas needed for a number of requests in
// flight.
func (s *Serverless) replicasFor(inFlight float64) int {
	if s.maxConc == 0 {
		return 1
	}
	if !(inFlight >= 1) {
		inFlight = 1
	}
	r := math.Ceil(inFlight/s.maxConc - 1e-9)
	if r > maxReplicas {
		return maxReplicas
	}
	return int(r)
}

// warm returns how many replicas above MinContainers are warm.
func (s *Serverless) warm() int {
	if len(s.cohorts) == 0 {
		return 0
	}
	return s.cohorts[len(s.cohorts)-1].hi
}

// occupy makes replicas 1..n warm, cold-starting the missing ones, and
// returns the index of the cohort that ends at replica n, splitting a cohort
// if n falls inside it.
func (s *Serverless) occupy(n int) int {
	warm := s.warm()
	switch {
	case n == warm:
		return len(s.cohorts) - 1
	case n > warm:
		k := float64(n - warm)
		s.coldStarts += uint64(n - warm)
		s.coldDelay += k * s.offer.ColdStartSeconds
		s.billed += k * s.coldBilled * s.gpus
		s.cohorts = append(s.cohorts, cohort{hi: n, start: s.clock, lastBusy: math.Inf(-1)})
		return len(s.cohorts) - 1
	}

	lo, hi := 0, len(s.cohorts)-1 // find the first cohort with hi ≥ n
	for lo < hi {
		mid := (lo + hi) / 2
		if s.cohorts[mid].hi < n {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if s.cohorts[lo].hi == n {
		return lo
	}
	// Split: the new lower part takes replicas up to n with empty tags, so
	// both parts keep the values they had.
	c := s.cohorts[lo]
	s.cohorts = append(s.cohorts, cohort{})
	copy(s.cohorts[lo+1:], s.cohorts[lo:])
	s.cohorts[lo] = cohort{hi: n, start: c.start, lastBusy: math.Inf(-1)}
	return lo
}

// advance moves the clock to end with replicas 1..busy busy, scaling down
// the idle cohorts above them whose window runs out before end.
func (s *Serverless) advance(end float64, busy int) {
	for len(s.cohorts) > 0 {
		top := &s.cohorts[len(s.cohorts)-1]
		if top.hi <= busy {
			break
		}
		down := top.lastBusy + s.window
		if down >= end-timeTolerance {
			break
		}
		s.accrue(max(down, s.clock), busy)
		s.scaleDown()
	}
	s.accrue(end, busy)
}

// accrue bills the replicas running from the clock to t and moves the clock.
func (s *Serverless) accrue(t float64, busy int) {
	running := s.minWarm + busy
	if s.offer.BillsIdleWarm {
		running = s.minWarm + s.warm()
	}
	s.billed += float64(running) * (t - s.clock) * s.gpus
	s.clock = t
}

// scaleDown removes the top cohort at the current clock, billing the
// rounding of each replica's life to the offer's increment and minimum.
func (s *Serverless) scaleDown() {
	last := len(s.cohorts) - 1
	c := s.cohorts[last]
	below := 0
	if last > 0 {
		below = s.cohorts[last-1].hi
	}

	life := c.busy
	if s.offer.BillsIdleWarm {
		life = s.clock - c.start
	}
	life += s.coldBilled
	g := s.offer.GranularitySeconds
	rounded := max(math.Ceil((life-timeTolerance)/g)*g, s.offer.MinBilledSeconds)
	s.billed += float64(c.hi-below) * max(rounded-life, 0) * s.gpus

	if last > 0 {
		b := &s.cohorts[last-1]
		b.lastBusy = max(b.lastBusy, c.lastBusy)
		b.busy += c.busy
	}
	s.cohorts = s.cohorts[:last]
}

// Totals returns the totals so far.
func (s *Serverless) Totals() Totals {
	return Totals{
		ObservedSeconds:       s.clock,
		BusySeconds:           s.busy,
		BilledSeconds:         s.billed,
		ColdStarts:            s.coldStarts,
		ColdStartDelaySeconds: s.coldDelay,
		Dollars:               s.billed * s.offer.PricePerGPUSecond(),
	}
}

// Offer returns the simulated offer.
func (s *Serverless) Offer() Offer { return s.offer }

// WindowSeconds returns the simulated scale-down window.
func (s *Serverless) WindowSeconds() float64 { return s.window }
