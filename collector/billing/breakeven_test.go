package billing

import (
	"math"
	"testing"
)

func TestBreakEven(t *testing.T) {
	const modalH100 = 0.001097 // $/GPU-s
	tests := []struct {
		name                       string
		alwaysOn, serverless, over float64
		want                       float64
		wantOK                     bool
	}{
		// RunPod community H100 pod $2.69/h vs Modal H100 $3.949/h, no
		// overhead: 2.69 / 3600 / 0.001097 = 0.681166...
		{"ideal serverless", 2.69 / 3600, modalH100, 0, 2.69 / 3.9492, true},
		// Overhead 0.2 lowers it one for one: 0.681166 − 0.2 = 0.481166.
		{"with overhead", 2.69 / 3600, modalH100, 0.2, 2.69/3.9492 - 0.2, true},
		// AWS p5.4xlarge $6.88/h: 6.88 / 3.9492 = 1.742 ≥ 1: never cheaper.
		{"never cheaper", 6.88 / 3600, modalH100, 0.1, 1, true},
		// Overhead 0.9 above the price ratio 0.68: cheaper even when idle.
		{"always cheaper", 2.69 / 3600, modalH100, 0.9, 0, true},
		{"no serverless price", 2.69 / 3600, 0, 0, 0, false},
		{"not a number", math.NaN(), modalH100, 0, 0, false},
		{"infinite overhead", 2.69 / 3600, modalH100, math.Inf(1), 0, false},
	}
	for _, tc := range tests {
		got, ok := BreakEven(tc.alwaysOn, tc.serverless, tc.over)
		if ok != tc.wantOK || !near(got, tc.want) {
			t.Errorf("%s: BreakEven = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestServerlessBreakEven(t *testing.T) {
	s, err := NewServerless(testOffer(), 60, Options{GPUsPerReplica: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.BreakEven(1); ok {
		t.Error("break-even before any observed time, want none")
	}
	// 1000 observed seconds, 100 busy; billed 10 cold + 100 + 60 warm =
	// 170 s × 2 GPUs = 340 GPU-s. Overhead = (340 − 2 × 100) / (2 × 1000)
	// = 0.07. Serverless $0.001 × 2 = $0.002 per busy second; always-on
	// 2 GPUs at $0.0005/GPU-s = $0.001/s: d* = 0.001 / 0.002 − 0.07 = 0.43.
	s.Add(idle(100))
	s.Add(busy(100, 1))
	s.Add(idle(800))
	over, ok := s.OverheadRatio()
	if !ok || !near(over, 0.07) {
		t.Errorf("overhead %v, %v; want 0.07", over, ok)
	}
	if d, ok := s.BreakEven(0.001); !ok || !near(d, 0.43) {
		t.Errorf("break-even %v, %v; want 0.43", d, ok)
	}
}
