package fleetsim

import (
	"reflect"
	"testing"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

func TestTruthWindowOnAHandBuiltCase(t *testing.T) {
	// In flight: 0 on [0,10), 1 on [10,20), 3 on [20,25), 0 on [25,85),
	// 2 on [85,90), 0 from 90 s. Events at 20 s collapse into one step.
	tr := newTruth()
	for _, e := range []struct {
		at float64
		n  int
	}{{10, 1}, {20, 2}, {20, 3}, {25, 0}, {85, 2}, {90, 0}} {
		tr.record(sec(e.at), e.n)
	}
	if tr.Steps() != 6 {
		t.Errorf("%d steps, want 6", tr.Steps())
	}

	// Window [15, 100): busy 5 + 5 + 5 = 15 s of 85 s; one completed gap of
	// 60 s ([25,85)); the gap before 15 s is cut by the window and the idle
	// tail of 10 s is still open.
	w := tr.Window(sec(15), sec(100))
	if w.BusySeconds != 15 || w.ObservedSeconds != 85 || w.MaxInFlight != 3 {
		t.Errorf("busy %v observed %v max %d, want 15 85 3", w.BusySeconds, w.ObservedSeconds, w.MaxInFlight)
	}
	if !reflect.DeepEqual(w.GapList, []float64{60}) || w.OpenGapSeconds != 10 {
		t.Errorf("gaps %v open %v, want [60] 10", w.GapList, w.OpenGapSeconds)
	}
	// 60 s falls in the 60 s bucket (index 6 of timeline.GapBuckets).
	if w.Gaps.Counts[5] != 0 || w.Gaps.Counts[6] != 1 {
		t.Errorf("gap buckets %v", w.Gaps.Counts)
	}
	want := []timeline.Segment{
		{Kind: timeline.Busy, Seconds: 5, InFlight: 1},
		{Kind: timeline.Busy, Seconds: 5, InFlight: 3},
		{Kind: timeline.Idle, Seconds: 60},
		{Kind: timeline.Busy, Seconds: 5, InFlight: 2},
		{Kind: timeline.Idle, Seconds: 10},
	}
	if got := tr.Segments(sec(15), sec(100)); !reflect.DeepEqual(got, want) {
		t.Errorf("segments\n got %+v\nwant %+v", got, want)
	}
	if last, ok := tr.LastBusy(sec(100)); !ok || last != sec(90) {
		t.Errorf("last busy %v %v, want 90s", last, ok)
	}
	if _, ok := newTruth().LastBusy(time.Hour); ok {
		t.Error("an idle model reports a last busy time")
	}
}
