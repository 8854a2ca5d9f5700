package accuracy

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
	"github.com/placement-exporter/placement_exporter/config"
)

// TestDefaultIntervalMeetsTargets checks, on one seed, that the exporter's
// default poll interval meets the accuracy targets on every scenario, and
// that it beats the PromQL baseline by the margin the project promises.
// make bench-accuracy runs the full benchmark over more seeds.
func TestDefaultIntervalMeetsTargets(t *testing.T) {
	scs, err := Scenarios(TracePath())
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			r, err := Measure(sc, config.DefaultPollInterval, Exporter, 1, BillWindows)
			if err != nil {
				t.Fatal(err)
			}
			if r.WorstDutyErrorPP > TargetDutyPP {
				t.Errorf("worst duty-cycle error %.3f pp > %.1f pp", r.WorstDutyErrorPP, TargetDutyPP)
			}
			if r.TrueGaps > 0 && r.Recall < TargetRecall {
				t.Errorf("idle-gap recall %.4f < %.2f", r.Recall, TargetRecall)
			}
			for _, b := range r.Bills {
				if b.ErrorPercent > TargetBillPercent || b.ErrorPercent < -TargetBillPercent {
					t.Errorf("bill error at %gs window: %.2f%% (true $%.4f, estimated $%.4f)",
						b.WindowSeconds, b.ErrorPercent, b.TrueDollars, b.EstimatedDollars)
				}
			}
			base, err := Measure(sc, 15*time.Second, PromQL, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if base.WorstDutyErrorPP > 1 && r.WorstDutyErrorPP > base.WorstDutyErrorPP/5 {
				t.Errorf("exporter %.3f pp is more than a fifth of the PromQL baseline's %.3f pp",
					r.WorstDutyErrorPP, base.WorstDutyErrorPP)
			}
		})
	}
}

func TestGapsAndMatch(t *testing.T) {
	// busy [0,1), idle [1,5), busy [5,6), unobserved [6,8), idle [8,9), busy [9,10):
	// only [1,5) is a completed gap; the idle after the unobserved span has
	// no known start.
	p := &placed{}
	for _, s := range []timeline.Segment{
		{Kind: timeline.Busy, Seconds: 1, InFlight: 1},
		{Kind: timeline.Idle, Seconds: 4},
		{Kind: timeline.Busy, Seconds: 1, InFlight: 1},
		{Kind: timeline.Unobserved, Seconds: 2},
		{Kind: timeline.Idle, Seconds: 1},
		{Kind: timeline.Busy, Seconds: 1, InFlight: 1},
	} {
		p.Add(s)
	}
	g := gaps(p.spans)
	if len(g) != 1 || g[0] != [2]float64{1, 5} {
		t.Fatalf("gaps = %v, want [[1 5]]", g)
	}
	// An estimate covering 3 of the gap's 4 s matches; one covering 1.5 s does not.
	if m, ok := match([2]float64{1, 5}, [][2]float64{{0.5, 3.5}}); !ok || m != [2]float64{0.5, 3.5} {
		t.Errorf("match = %v %v", m, ok)
	}
	if _, ok := match([2]float64{1, 5}, [][2]float64{{3.5, 7}}); ok {
		t.Error("a gap covering 1.5 s of 4 matched")
	}
}

func TestReport(t *testing.T) {
	scs, err := Scenarios(TracePath())
	if err != nil {
		t.Fatal(err)
	}
	scs = scs[:1]
	scs[0].Duration = 2 * time.Hour
	rows, err := Run(scs, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*len(PollIntervals) + len(ScrapeIntervals); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	s := Summarize(rows, time.Second)
	var b bytes.Buffer
	WriteMarkdown(&b, scs, rows, 1, s)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if last := lines[len(lines)-1]; last != s.LastLine() || !strings.HasPrefix(last, "worst duty-cycle error at default poll interval: ") {
		t.Errorf("last line = %q", last)
	}
	if !strings.Contains(b.String(), "| steady-high |") {
		t.Errorf("report lacks the scenario row:\n%s", b.String())
	}
}
