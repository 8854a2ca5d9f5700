package accuracy

import (
	"fmt"
	"math"

	"github.com/placement-exporter/placement_exporter/collector/billing"
	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// BillOffer is the serverless offer the bills are simulated on: per-second
// billing, warm idle and cold starts billed, so every part of the bill
// (busy, warm idle, cold starts) counts.
const BillOffer = "modal/H100"

// BillWindows are the scale-down windows the bill is checked at, in
// seconds: RunPod's default, Modal's default, and a long one.
var BillWindows = []float64{5, 60, 300}

// BillError is the serverless bill error at one scale-down window.
type BillError struct {
	// WindowSeconds is the scale-down window.
	WindowSeconds float64
	// TrueDollars and EstimatedDollars are the bills from the exact and the
	// estimated timelines.
	TrueDollars, EstimatedDollars float64
	// TrueColdStarts and EstimatedColdStarts are the cold starts of each.
	TrueColdStarts, EstimatedColdStarts uint64
	// ErrorPercent is (estimated - true) / true × 100.
	ErrorPercent float64
}

// bills simulates the bill of the exact and the estimated segments at each
// window.
func bills(windows []float64, truth, est []timeline.Segment) ([]BillError, error) {
	offer, ok := billing.DefaultCatalog().Offer(BillOffer)
	if !ok {
		return nil, fmt.Errorf("offer %s is not in the built-in catalog", BillOffer)
	}
	var out []BillError
	for _, w := range windows {
		run := func(segs []timeline.Segment) (billing.Totals, error) {
			sim, err := billing.NewServerless(offer, w, billing.Options{})
			if err != nil {
				return billing.Totals{}, err
			}
			for _, s := range segs {
				sim.Add(s)
			}
			return sim.Totals(), nil
		}
		t, err := run(truth)
		if err != nil {
			return nil, err
		}
		e, err := run(est)
		if err != nil {
			return nil, err
		}
		b := BillError{
			WindowSeconds: w, TrueDollars: t.Dollars, EstimatedDollars: e.Dollars,
			TrueColdStarts: t.ColdStarts, EstimatedColdStarts: e.ColdStarts,
		}
		if t.Dollars > 0 {
			b.ErrorPercent = (e.Dollars - t.Dollars) / t.Dollars * 100
		} else if e.Dollars > 0 {
			b.ErrorPercent = math.Inf(1)
		}
		out = append(out, b)
	}
	return out, nil
}
