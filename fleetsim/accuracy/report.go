package accuracy

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// PollIntervals are the exporter poll intervals the benchmark compares.
var PollIntervals = []time.Duration{
	500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second,
	10 * time.Second, 15 * time.Second, 30 * time.Second,
}

// ScrapeIntervals are the Prometheus scrape intervals of the PromQL baseline.
var ScrapeIntervals = []time.Duration{15 * time.Second, 30 * time.Second}

// Targets the estimator must meet at the default poll interval.
const (
	// TargetDutyPP is the largest duty-cycle error over an hour, in points.
	TargetDutyPP = 0.5
	// TargetRecall is the smallest share of idle gaps of at least three poll
	// intervals that must be found.
	TargetRecall = 0.99
	// TargetBillPercent is the largest serverless bill error.
	TargetBillPercent = 2.0
)

// Row is the worst over seeds of one method at one interval on one scenario.
type Row struct {
	Scenario    string
	Method      Method
	Interval    time.Duration
	WorstDutyPP float64
	MeanDutyPP  float64
	TrueDuty    float64
	Recall      float64
	TrueGaps    int
	Gaps        []GapStats
	// WorstBill is the largest absolute bill error per window, in percent.
	WorstBill []float64
}

// MeetsTargets reports whether the row meets the duty, recall and bill
// targets.
func (r Row) MeetsTargets() bool {
	if r.WorstDutyPP > TargetDutyPP || (r.TrueGaps > 0 && r.Recall < TargetRecall) {
		return false
	}
	for _, b := range r.WorstBill {
		if b > TargetBillPercent {
			return false
		}
	}
	return true
}

// Run measures every scenario with every method over seeds 1..seeds and
// returns one row per (scenario, method, interval), worst over the seeds.
// progress, if not nil, receives a line per scenario.
func Run(scenarios []Scenario, seeds int, progress io.Writer) ([]Row, error) {
	var rows []Row
	for _, sc := range scenarios {
		start := time.Now()
		for _, m := range []struct {
			method    Method
			intervals []time.Duration
		}{{Exporter, PollIntervals}, {PromQL, ScrapeIntervals}, {CountersOnly, PollIntervals}} {
			for _, iv := range m.intervals {
				row := Row{Scenario: sc.Name, Method: m.method, Interval: iv, WorstBill: make([]float64, len(BillWindows))}
				found, total := 0.0, 0
				for seed := 1; seed <= seeds; seed++ {
					r, err := Measure(sc, iv, m.method, uint64(seed), BillWindows)
					if err != nil {
						return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
					}
					row.WorstDutyPP = math.Max(row.WorstDutyPP, r.WorstDutyErrorPP)
					row.MeanDutyPP += r.MeanDutyErrorPP / float64(seeds)
					row.TrueDuty += r.TrueDuty / float64(seeds)
					found += r.Recall * float64(r.TrueGaps)
					total += r.TrueGaps
					row.Gaps = mergeGaps(row.Gaps, r.Gaps)
					for i, b := range r.Bills {
						row.WorstBill[i] = math.Max(row.WorstBill[i], math.Abs(b.ErrorPercent))
					}
				}
				row.TrueGaps = total
				if total > 0 {
					row.Recall = found / float64(total)
				}
				rows = append(rows, row)
			}
		}
		if progress != nil {
			fmt.Fprintf(progress, "%-18s done in %s\n", sc.Name, time.Since(start).Round(time.Millisecond))
		}
	}
	return rows, nil
}

// mergeGaps adds the gap statistics of one run to a running total.
func mergeGaps(acc, add []GapStats) []GapStats {
	if acc == nil {
		return append([]GapStats(nil), add...)
	}
	for i := range acc {
		n := acc[i].Found + add[i].Found
		if n > 0 {
			acc[i].MeanAbsError = (acc[i].MeanAbsError*float64(acc[i].Found) + add[i].MeanAbsError*float64(add[i].Found)) / float64(n)
		}
		acc[i].True += add[i].True
		acc[i].Found = n
	}
	return acc
}

// Summary is what the benchmark concludes.
type Summary struct {
	// Default is the poll interval the figures below are for.
	Default time.Duration
	// Largest is the largest poll interval that meets every target on
	// every scenario, 0 if none does.
	Largest time.Duration
	// WorstDutyPP is the exporter's worst duty-cycle error at Default.
	WorstDutyPP float64
	// BaselineDutyPP is the PromQL 15 s baseline's worst duty-cycle error.
	BaselineDutyPP float64
	// WorstBillPercent is the exporter's worst bill error at Default.
	WorstBillPercent float64
	// CountersOnlyDutyPP and CountersOnlyBillPercent are the worst errors at
	// Default for a server without a running gauge.
	CountersOnlyDutyPP, CountersOnlyBillPercent float64
	// FifthOfBaseline says whether, wherever the 15 s baseline misses by
	// more than 1 point, the exporter's error at Default is at most a fifth
	// of it.
	FifthOfBaseline bool
}

// LastLine is the line the benchmark ends with.
func (s Summary) LastLine() string {
	return fmt.Sprintf("worst duty-cycle error at default poll interval: %.2f pp (PromQL 15s baseline: %.2f pp); worst serverless bill error: %.2f %%",
		s.WorstDutyPP, s.BaselineDutyPP, s.WorstBillPercent)
}

// Summarize draws the conclusions from the rows for the default interval.
func Summarize(rows []Row, def time.Duration) Summary {
	s := Summary{Default: def, FifthOfBaseline: true}
	meets := map[time.Duration]bool{}
	for _, iv := range PollIntervals {
		meets[iv] = true
	}
	baseline := map[string]float64{}
	for _, r := range rows {
		if r.Method == PromQL && r.Interval == 15*time.Second {
			baseline[r.Scenario] = r.WorstDutyPP
			s.BaselineDutyPP = math.Max(s.BaselineDutyPP, r.WorstDutyPP)
		}
	}
	for _, r := range rows {
		if r.Method == CountersOnly && r.Interval == def {
			s.CountersOnlyDutyPP = math.Max(s.CountersOnlyDutyPP, r.WorstDutyPP)
			for _, b := range r.WorstBill {
				s.CountersOnlyBillPercent = math.Max(s.CountersOnlyBillPercent, b)
			}
		}
		if r.Method != Exporter {
			continue
		}
		if !r.MeetsTargets() {
			meets[r.Interval] = false
		}
		if r.Interval != def {
			continue
		}
		s.WorstDutyPP = math.Max(s.WorstDutyPP, r.WorstDutyPP)
		for _, b := range r.WorstBill {
			s.WorstBillPercent = math.Max(s.WorstBillPercent, b)
		}
		if b := baseline[r.Scenario]; b > 1 && r.WorstDutyPP > b/5 {
			s.FifthOfBaseline = false
		}
	}
	for _, iv := range PollIntervals {
		if meets[iv] {
			s.Largest = iv
		}
	}
	return s
}

// WriteMarkdown writes the report that docs/accuracy.md holds.
func WriteMarkdown(w io.Writer, scenarios []Scenario, rows []Row, seeds int, s Summary) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Accuracy of the estimator\n\n")
	p("Generated by `make bench-accuracy` (`go run ./cmd/fleetsim accuracy`); do not edit by hand.\n\n")
	p("Each scenario is simulated by fleetsim on a virtual clock; the exporter's own estimator\n")
	p("(`collector/timeline`) is fed the simulated server's exact state at every poll, and its\n")
	p("busy time, idle gaps and serverless bill are compared with the exact truth: the union of\n")
	p("every request's [arrival, completion). Figures are the worst over %d seeds, each with its\n", seeds)
	p("own traffic and its own poll phase. Duty-cycle errors are absolute, in percentage points,\n")
	p("over consecutive one-hour windows (the figure a `rate(...[1h])` ratio would show).\n\n")
	p("The PromQL baseline is what a user can compute today from the server's own gauge scraped\n")
	p("by Prometheus: `avg_over_time((vllm:num_requests_running > bool 0)[1h:15s])`, the share of\n")
	p("scrapes that saw a running request; its busy and idle periods are the scrapes' intervals.\n\n")
	p("## Summary\n\n")
	p("- Default poll interval: **%s**. Largest interval meeting every target on every scenario: **%s**.\n", s.Default, orNone(s.Largest))
	p("- Targets: duty cycle within %.1f pp of the truth over every hour; idle gaps of at least\n", TargetDutyPP)
	p("  three poll intervals found with %.0f%% recall or better; serverless bill within %.0f%% at\n", TargetRecall*100, TargetBillPercent)
	p("  scale-down windows of %s s on `%s`.\n", joinFloats(BillWindows), BillOffer)
	p("- At the default interval the worst duty-cycle error is %.2f pp, against %.2f pp for the\n", s.WorstDutyPP, s.BaselineDutyPP)
	p("  PromQL 15 s baseline; the worst bill error is %.2f %%.\n", s.WorstBillPercent)
	fifth := "holds"
	if !s.FifthOfBaseline {
		fifth = "does NOT hold"
	}
	p("- Wherever the 15 s baseline misses by more than 1 pp, the exporter's error is at most a\n")
	p("  fifth of the baseline's: %s.\n\n", fifth)

	p("## Scenarios\n\n| Scenario | Traffic | Simulated | True duty cycle |\n| --- | --- | --- | --- |\n")
	duty := map[string]float64{}
	for _, r := range rows {
		if r.Method == Exporter && r.Interval == s.Default {
			duty[r.Scenario] = r.TrueDuty
		}
	}
	for _, sc := range scenarios {
		p("| %s | %s | %s | %.1f%% |\n", sc.Name, sc.About, sc.Duration, duty[sc.Name]*100)
	}
	p("\nEvery model serves 8000 prompt tokens/s and 20 ms per output token, up to 32 requests\n")
	p("at once. The Azure trace is the 2023 \"code\" sample of the Azure LLM inference trace\n")
	p("(CC-BY 4.0, Patel et al., ISCA 2024), each request kept with probability p.\n\n")

	p("## Duty cycle: worst and mean error per hour (pp)\n\n")
	p("| Scenario |")
	intervalColumns(p)
	for _, sc := range scenarios {
		p("| %s |", sc.Name)
		for _, r := range rowsFor(rows, sc.Name) {
			p(" %.2f / %.2f |", r.WorstDutyPP, r.MeanDutyPP)
		}
		p("\n")
	}

	p("\n## Idle gaps of at least 3 intervals found (recall)\n\n| Scenario |")
	intervalColumns(p)
	for _, sc := range scenarios {
		p("| %s |", sc.Name)
		for _, r := range rowsFor(rows, sc.Name) {
			if r.TrueGaps == 0 {
				p(" no gaps |")
			} else {
				p(" %.1f%% (%d) |", r.Recall*100, r.TrueGaps)
			}
		}
		p("\n")
	}

	p("\n## Idle gaps per histogram bucket at %s: recall and mean length error\n\n", s.Default)
	p("Gaps are bucketed by their true length (upper bounds of `placement_model_idle_gap_seconds`);\n")
	p("only gaps of at least three poll intervals count. Cell: found / true, mean absolute length\n")
	p("error of the found gaps. Empty buckets are left out.\n\n")
	p("| Scenario | Bucket (s) | Exporter %s | PromQL 15s |\n| --- | --- | --- | --- |\n", s.Default)
	for _, sc := range scenarios {
		var ex, pq Row
		for _, r := range rowsFor(rows, sc.Name) {
			if r.Method == Exporter && r.Interval == s.Default {
				ex = r
			}
			if r.Method == PromQL && r.Interval == 15*time.Second {
				pq = r
			}
		}
		for i, g := range ex.Gaps {
			if g.True == 0 && (i >= len(pq.Gaps) || pq.Gaps[i].True == 0) {
				continue
			}
			p("| %s | ≤ %s | %s | %s |\n", sc.Name, bound(g.UpperBound), gapCell(g), gapCell(pq.Gaps[i]))
		}
	}

	p("\n## Serverless bill error (%%) at scale-down windows %s s\n\n", joinFloats(BillWindows))
	p("Bills of `%s` simulated by the exporter's billing code from the exact and from the\n", BillOffer)
	p("estimated timeline; cell: worst absolute error at each window.\n\n| Scenario |")
	intervalColumns(p)
	for _, sc := range scenarios {
		p("| %s |", sc.Name)
		for _, r := range rowsFor(rows, sc.Name) {
			var parts []string
			for _, b := range r.WorstBill {
				parts = append(parts, fmt.Sprintf("%.1f", b))
			}
			p(" %s |", strings.Join(parts, " / "))
		}
		p("\n")
	}
	p("\n## Servers without a running gauge\n\n")
	p("Triton without the TensorRT-LLM backend, and older trtllm-serve builds, expose no gauge of\n")
	p("requests running: only requests waiting and the counters. The estimator then rebuilds the\n")
	p("timeline backwards from each completion and its latency and holds it for twice the longest\n")
	p("mean latency seen (10 s to 5 min). The same scenarios with the running gauge removed; cell:\n")
	p("worst / mean duty-cycle error per hour (pp), and the worst bill error (%%).\n\n| Scenario |")
	for _, iv := range PollIntervals {
		p(" %s |", iv)
	}
	p("\n| --- |%s\n", strings.Repeat(" --- |", len(PollIntervals)))
	for _, sc := range scenarios {
		p("| %s |", sc.Name)
		for _, r := range rowsFor(rows, sc.Name, CountersOnly) {
			bill := 0.0
			for _, b := range r.WorstBill {
				bill = math.Max(bill, b)
			}
			p(" %.2f / %.2f, %.1f%% |", r.WorstDutyPP, r.MeanDutyPP, bill)
		}
		p("\n")
	}
	p("\nAt %s the worst duty-cycle error without a running gauge is %.2f pp and the worst bill\n", s.Default, s.CountersOnlyDutyPP)
	p("error %.2f %%.\n", s.CountersOnlyBillPercent)
	p("\n%s\n", s.LastLine())
}

// intervalColumns ends a table's header row with one column per method and
// interval, and writes the separator row.
func intervalColumns(p func(string, ...any)) {
	for _, iv := range PollIntervals {
		p(" %s |", iv)
	}
	for _, iv := range ScrapeIntervals {
		p(" PromQL %s |", iv)
	}
	p("\n| --- |%s\n", strings.Repeat(" --- |", len(PollIntervals)+len(ScrapeIntervals)))
}

// rowsFor returns the rows of a scenario for the given methods, in order.
func rowsFor(rows []Row, scenario string, methods ...Method) []Row {
	if len(methods) == 0 {
		methods = []Method{Exporter, PromQL}
	}
	var out []Row
	for _, m := range methods {
		for _, r := range rows {
			if r.Scenario == scenario && r.Method == m {
				out = append(out, r)
			}
		}
	}
	return out
}

func gapCell(g GapStats) string {
	if g.True == 0 {
		return "–"
	}
	return fmt.Sprintf("%d / %d, %.2f s", g.Found, g.True, g.MeanAbsError)
}

func bound(b float64) string {
	if math.IsInf(b, 1) {
		return "+Inf"
	}
	return fmt.Sprintf("%g", b)
}

func orNone(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return d.String()
}

func joinFloats(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf("%g", x))
	}
	return strings.Join(s, ", ")
}
