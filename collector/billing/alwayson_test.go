package billing

import (
	"math"
	"testing"
)

func TestAlwaysOn(t *testing.T) {
	tests := []struct {
		offer              string
		replicas, gpus     int
		wantGPUs           int
		wantDollarsPerHour float64
	}{
		// 1 GPU from an 8-GPU-only instance bills the instance: $55.04/h.
		{"aws/p5.48xlarge", 1, 1, 8, 55.04},
		// 2 replicas × 4 GPUs fill one instance exactly.
		{"aws/p5.48xlarge", 2, 4, 8, 55.04},
		// 9 GPUs need two instances: 2 × $55.04 = $110.08/h.
		{"aws/p5.48xlarge", 3, 3, 16, 110.08},
		// Lambda prices its 8-GPU instance per GPU: 8 × $3.99 = $31.92/h.
		{"lambda/gpu_8x_h100_sxm5", 3, 1, 8, 31.92},
		// Single-GPU instances: 2 × $6.88 = $13.76/h; gpus 0 means 1.
		{"aws/p5.4xlarge", 2, 0, 2, 13.76},
	}
	for _, tc := range tests {
		o, ok := DefaultCatalog().Offer(tc.offer)
		if !ok {
			t.Fatalf("%s missing from the default catalog", tc.offer)
		}
		a, err := NewAlwaysOn(o, tc.replicas, tc.gpus)
		if err != nil {
			t.Fatal(err)
		}
		// 600 busy + 3000 idle = 3600 observed seconds; unobserved time is
		// not billed.
		a.Add(busy(600, 3))
		a.Add(unobserved(1000))
		a.Add(idle(3000))
		a.Add(idle(math.NaN()))
		got := a.Totals()
		want := Totals{ObservedSeconds: 3600, BusySeconds: 600,
			BilledSeconds: float64(tc.wantGPUs) * 3600, Dollars: tc.wantDollarsPerHour}
		if a.GPUs() != tc.wantGPUs {
			t.Errorf("%s × %d × %d: %d GPUs billed, want %d", tc.offer, tc.replicas, tc.gpus,
				a.GPUs(), tc.wantGPUs)
		}
		checkTotals(t, got, want)
		if !near(a.DollarsPerSecond()*3600, tc.wantDollarsPerHour) {
			t.Errorf("%s: $%v/s, want $%v/h", tc.offer, a.DollarsPerSecond(),
				tc.wantDollarsPerHour)
		}
	}
}

func TestNewAlwaysOnErrors(t *testing.T) {
	c := DefaultCatalog()
	p5, _ := c.Offer("aws/p5.4xlarge")
	modal, _ := c.Offer("modal/H100")
	tests := []struct {
		offer          Offer
		replicas, gpus int
		want           string
	}{
		{modal, 1, 1, `offer "modal/H100" is serverless, not always_on`},
		{p5, 0, 1, `offer "aws/p5.4xlarge": replicas must be between 1 and 65536, got 0`},
		{p5, 1, -1, `offer "aws/p5.4xlarge": GPUs per replica must be between 1 and 65536, ` +
			`got -1`},
	}
	for _, tc := range tests {
		if _, err := NewAlwaysOn(tc.offer, tc.replicas, tc.gpus); err == nil ||
			err.Error() != tc.want {
			t.Errorf("NewAlwaysOn(%s, %d, %d) error:\n got %v\nwant %s", tc.offer.ID,
				tc.replicas, tc.gpus, err, tc.want)
		}
	}
}
