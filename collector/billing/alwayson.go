package billing

import (
	"fmt"
	"math"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// AlwaysOn totals what always-on capacity would cost over a model's observed
// time: every observed second, busy or idle, bills the GPUs held. Unobserved
// time is cut out, as in Serverless, so the two cover the same seconds.
type AlwaysOn struct {
	offer          Offer
	gpus           int // GPUs billed, whole units
	observed, busy float64
}

// NewAlwaysOn returns the cost of holding replicas × gpusPerReplica GPUs of
// an always-on offer, rounded up to the offer's whole units: one GPU from an
// 8-GPU-only offer bills all 8. gpusPerReplica 0 means 1.
func NewAlwaysOn(offer Offer, replicas, gpusPerReplica int) (*AlwaysOn, error) {
	switch {
	case offer.Mode != ModeAlwaysOn:
		return nil, fmt.Errorf("offer %q is %s, not always_on", offer.ID, offer.Mode)
	case replicas < 1 || replicas > maxReplicas:
		return nil, fmt.Errorf("offer %q: replicas must be between 1 and %d, got %d",
			offer.ID, maxReplicas, replicas)
	case gpusPerReplica < 0 || gpusPerReplica > maxReplicas:
		return nil, fmt.Errorf("offer %q: GPUs per replica must be between 1 and %d, got %d",
			offer.ID, maxReplicas, gpusPerReplica)
	}
	gpus := replicas * max(gpusPerReplica, 1)
	return &AlwaysOn{offer: offer, gpus: offer.BilledGPUs(gpus)}, nil
}

// Add consumes the next segment of the timeline. Segments that are not a
// positive, finite number of seconds carry no time and are ignored.
func (a *AlwaysOn) Add(seg timeline.Segment) {
	if !(seg.Seconds > 0) || math.IsInf(seg.Seconds, 1) {
		return
	}
	switch seg.Kind {
	case timeline.Busy:
		a.busy += seg.Seconds
		a.observed += seg.Seconds
	case timeline.Idle:
		a.observed += seg.Seconds
	}
}

// GPUs returns the number of GPUs billed, after rounding up to whole units.
func (a *AlwaysOn) GPUs() int { return a.gpus }

// DollarsPerSecond returns what the capacity costs per second held, in the
// catalog's currency.
func (a *AlwaysOn) DollarsPerSecond() float64 {
	return float64(a.gpus) * a.offer.PricePerGPUSecond()
}

// Totals returns the totals so far; BilledSeconds is GPU-seconds and there
// are no cold starts.
func (a *AlwaysOn) Totals() Totals {
	return Totals{
		ObservedSeconds: a.observed,
		BusySeconds:     a.busy,
		BilledSeconds:   float64(a.gpus) * a.observed,
		Dollars:         a.DollarsPerSecond() * a.observed,
	}
}

// Offer returns the priced offer.
func (a *AlwaysOn) Offer() Offer { return a.offer }
