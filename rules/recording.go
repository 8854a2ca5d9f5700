package rules

import (
	"fmt"
	"strings"
)

// Record names of the per-window rules, without the trailing window name.
const (
	observedRate   = "model:placement_model_observed_seconds:rate"
	dutyCycle      = "model:placement_model_duty_cycle:ratio_rate"
	idleGap        = "model:placement_model_idle_gap_seconds:quantile_rate"
	requestRate    = "model:placement_model_requests:rate"
	concurrency    = "model:placement_model_request_seconds:rate"
	costPerHour    = "model:placement_model_cost_dollars_per_hour:rate"
	cheapest       = "model:placement_model_serverless_cheapest_cost_dollars_per_hour:rate"
	bestWindow     = "model:placement_model_serverless_best_window_cold_starts_per_hour:rate"
	savings        = "model:placement_model_monthly_savings_dollars:rate"
	recommendation = "model:placement_model_recommendation:rate"
	recommendedCS  = "model:placement_model_recommended_cold_starts_per_hour:rate"
)

// baseCounter is one raw exporter counter that the base group turns into a
// per-model rate.
type baseCounter struct {
	metric  string   // record name's metric part
	raw     string   // the exporter's series
	extra   []string // labels kept besides the grouping labels
	comment string
}

var baseCounters = []baseCounter{
	{"placement_model_observed_seconds", "placement_model_observed_seconds_total", nil,
		"Observed seconds per second: the number of replicas the exporter saw, on average."},
	{"placement_model_busy_seconds", "placement_model_busy_seconds_total", nil,
		"Busy seconds per second, summed over replicas."},
	{"placement_model_requests", "placement_model_requests_total", nil,
		"Completed requests per second."},
	{"placement_model_request_seconds", "placement_model_request_seconds_total", nil,
		"Running requests integrated over time, per second: the mean concurrency."},
	{"placement_model_idle_gap_seconds_bucket", "placement_model_idle_gap_seconds_bucket",
		[]string{"le"}, "Completed idle gaps per second, by histogram bucket."},
	{"placement_model_idle_gap_seconds_count", "placement_model_idle_gap_seconds_count", nil,
		"Completed idle gaps per second."},
	{"placement_model_cost_dollars", "placement_model_cost_dollars_total",
		[]string{"strategy", "offer"}, "Dollars per second each option would have cost while observed."},
	{"placement_model_serverless_billed_seconds", "placement_model_serverless_billed_seconds_total",
		[]string{"offer", "window"}, "GPU-seconds per second each serverless offer and window bills."},
	{"placement_model_serverless_cold_starts", "placement_model_serverless_cold_starts_total",
		[]string{"offer", "window"}, "Cold starts per second each serverless offer and window brings."},
}

// by renders an aggregation clause over the grouping labels and extra.
func (p Params) by(extra ...string) string { return "by (" + p.list(extra) + ")" }

// on renders a vector-matching clause over the grouping labels and extra.
func (p Params) on(extra ...string) string { return "on (" + p.list(extra) + ")" }

func (p Params) list(extra []string) string {
	return strings.Join(append(append([]string{}, p.GroupBy...), extra...), ", ")
}

func (p Params) baseName(metric string) string {
	return "model:" + metric + ":rate" + p.Base.Name
}

// baseGroup computes per-model rates over the short base window. It is the
// only group that reads the exporter's raw series. Rates are taken per
// series before summing, so a replica's counter reset (an exporter or server
// restart) is handled where it happened.
func (p Params) baseGroup() group {
	g := group{
		comment: "Per-model rates over the base window, read by every longer window.",
		name:    "placement_model_rate" + p.Base.Name,
	}
	g.interval = promDuration(p.Base.Interval)
	for _, c := range baseCounters {
		g.rules = append(g.rules, rule{
			comment: c.comment,
			record:  p.baseName(c.metric),
			expr: fmt.Sprintf("sum %s (rate(%s[%s]))",
				p.by(c.extra...), c.raw, promDuration(p.Base.Range)),
		})
	}
	return g
}

// windowGroup averages the base rates over w and derives the placement
// series. Averaging base rates rather than taking one long rate of raw
// samples reads ten times fewer points, and time when the exporter was not
// scraped simply drops out of the average.
func (p Params) windowGroup(w Window) group {
	n, r := w.Name, promDuration(w.Range)
	avg := func(metric, sel string) string {
		return fmt.Sprintf("avg_over_time(%s%s[%s])", p.baseName(metric), sel, r)
	}
	// Replicas observed on average, at least one; absent when none was.
	atLeastOne := fmt.Sprintf("clamp_max(%s%s > 0, 1)", observedRate, n)
	alwaysOn := fmt.Sprintf(`sum %s (%s%s{strategy="always_on"})`, p.by(), costPerHour, n)
	serverless := fmt.Sprintf(`min %s (%s%s)`, p.by(), cheapest, n)

	g := group{
		comment:  fmt.Sprintf("Placement series over %s: base rates averaged over the window.", n),
		name:     "placement_model_" + n,
		interval: promDuration(w.Interval),
	}
	g.rules = []rule{{
		comment: "Replicas observed on average (observed seconds per second).",
		record:  observedRate + n,
		expr:    avg("placement_model_observed_seconds", ""),
	}, {
		comment: "Duty cycle: busy over observed time, so unobserved time never counts as idle.\n" +
			"Absent when the model was not observed in the window.",
		record: dutyCycle + n,
		expr: fmt.Sprintf("%s\n/\n(%s%s > 0)",
			avg("placement_model_busy_seconds", ""), observedRate, n),
	},
		p.idleGapRule(n, 0.5, avg),
		p.idleGapRule(n, 0.9, avg),
		{
			comment: "Completed requests per second.",
			record:  requestRate + n,
			expr:    avg("placement_model_requests", ""),
		}, {
			comment: "Mean concurrency: requests running on average, over all replicas.",
			record:  concurrency + n,
			expr:    avg("placement_model_request_seconds", ""),
		}, {
			comment: "Dollars per hour of each option: cost per observed replica-hour, times\n" +
				"the replicas observed on average but at least one, since always-on keeps one\n" +
				"running and time lost to failed polls is costed at the observed rate, not as free.",
			record: costPerHour + n,
			expr: fmt.Sprintf(`3600 * %s
/ %s group_left ()
%s`, avg("placement_model_cost_dollars", ""), p.on(), atLeastOne),
		}, {
			comment: "The cheapest serverless offer at its default scale-down window, in $/h.",
			record:  cheapest + n,
			expr: fmt.Sprintf(`bottomk %s (1, %s%s{strategy="serverless"})`,
				p.by(), costPerHour, n),
		}, {
			comment: "Cold starts per hour at the cheapest offer's best window: the window that\n" +
				"bills the fewest GPU-seconds among those simulated for it (labels offer, window).",
			record: bestWindow + n,
			expr: fmt.Sprintf(`(
    3600 * %[1]s
  / %[3]s group_left ()
    %[4]s
)
and %[5]s
bottomk %[6]s (1,
    %[2]s
  and %[7]s
    %[8]s%[9]s
)`,
				avg("placement_model_serverless_cold_starts", ""),
				avg("placement_model_serverless_billed_seconds", ""),
				p.on(), atLeastOne, p.on("offer", "window"), p.by(), p.on("offer"), cheapest, n),
		}, {
			comment: fmt.Sprintf("Dollars a month (%s h) that the cheaper of always-on and the\n"+
				"cheapest serverless offer saves against the strategy the model is deployed with\n"+
				"(label strategy); 0 when it already runs on the cheaper one.", number(p.HoursPerMonth)),
			record: savings + n,
			expr: fmt.Sprintf(`(
    %[1]s * clamp_min(
        %[2]s
      - %[4]s
        %[3]s,
      0
    )
  * %[4]s group_left (strategy)
    max %[5]s (placement_model_info{strategy="always_on"})
)
or
(
    %[1]s * clamp_min(
        %[3]s
      - %[4]s
        %[2]s,
      0
    )
  * %[4]s group_left (strategy)
    max %[5]s (placement_model_info{strategy="serverless"})
)`,
				number(p.HoursPerMonth), alwaysOn, serverless, p.on(), p.by("strategy")),
		}, {
			comment: "Recommendation: 1 on the cheaper option, with its offer.",
			record:  recommendation + n,
			labels:  [][2]string{{"recommended", "serverless"}},
			expr: fmt.Sprintf(`clamp(
  max %s (
      %s%s
    < %s group_left ()
      %s
  ),
  1, 1)`, p.by("offer"), cheapest, n, p.on(), alwaysOn),
		}, {
			record: recommendation + n,
			labels: [][2]string{{"recommended", "always_on"}},
			expr: fmt.Sprintf(`clamp(
  max %s (
      %s%s{strategy="always_on"}
    and %s
      (
          %s
        <= %s
          %s
      )
  ),
  1, 1)`, p.by("offer"), costPerHour, n, p.on(), alwaysOn, p.on(), serverless),
		}, {
			comment: "Cold starts per hour the recommended option would bring: the best\n" +
				"window's for serverless, 0 for always-on.",
			record: recommendedCS + n,
			expr: fmt.Sprintf(`(
    max %[1]s (%[2]s%[3]s)
  * %[4]s group_left (recommended)
    max %[5]s (%[6]s%[3]s{recommended="serverless"})
)
or
0 * max %[5]s (%[6]s%[3]s{recommended="always_on"})`,
				p.by(), bestWindow, n, p.on(), p.by("recommended"), recommendation),
		}}
	return g
}

func (p Params) idleGapRule(n string, q float64, avg func(metric, sel string) string) rule {
	r := rule{
		record: idleGap + n,
		labels: [][2]string{{"quantile", number(q)}},
		expr: fmt.Sprintf(`histogram_quantile(%s,
    %s
  and %s
    %s > 0
)`, number(q), avg("placement_model_idle_gap_seconds_bucket", ""), p.on(),
			avg("placement_model_idle_gap_seconds_count", "")),
	}
	if q == 0.5 {
		r.comment = "Idle-gap quantiles in seconds; absent when no gap completed in the window."
	}
	return r
}
