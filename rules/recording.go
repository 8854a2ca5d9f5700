package rules

import (
	"fmt"
	"strings"
)

// Record names of the per-window rules, without the trailing window name
// ("1h", "1d", "7d"): the dashboards and users build on them.
const (
	// ObservedRecord is the replicas observed on average.
	ObservedRecord = "model:placement_model_observed_seconds:rate"
	// DutyCycleRecord is busy over observed seconds.
	DutyCycleRecord = "model:placement_model_duty_cycle:ratio_rate"
	// IdleGapRecord is the idle-gap quantiles (label quantile).
	IdleGapRecord = "model:placement_model_idle_gap_seconds:quantile_rate"
	// RequestRateRecord is completed requests per second.
	RequestRateRecord = "model:placement_model_requests:rate"
	// ConcurrencyRecord is the mean number of running requests.
	ConcurrencyRecord = "model:placement_model_request_seconds:rate"
	// CostPerHourRecord is each option's cost per hour (strategy, offer).
	CostPerHourRecord = "model:placement_model_cost_dollars_per_hour:rate"
	// CheapestRecord is the cheapest serverless offer's cost per hour.
	CheapestRecord = "model:placement_model_serverless_cheapest_cost_dollars_per_hour:rate"
	// BestWindowRecord is the cold starts an hour at the cheapest offer's best window.
	BestWindowRecord = "model:placement_model_serverless_best_window_cold_starts_per_hour:rate"
	// SavingsRecord is the monthly saving of the cheaper option.
	SavingsRecord = "model:placement_model_monthly_savings_dollars:rate"
	// RecommendationRecord is 1 on the recommended option (recommended, offer).
	RecommendationRecord = "model:placement_model_recommendation:rate"
	// RecommendedColdStartsRecord is the cold starts an hour the recommendation brings.
	RecommendedColdStartsRecord = "model:placement_model_recommended_cold_starts_per_hour:rate"
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
	atLeastOne := fmt.Sprintf("clamp_max(%s%s > 0, 1)", ObservedRecord, n)
	alwaysOn := fmt.Sprintf(`sum %s (%s%s{strategy="always_on"})`, p.by(), CostPerHourRecord, n)
	serverless := fmt.Sprintf(`min %s (%s%s)`, p.by(), CheapestRecord, n)

	g := group{
		comment:  fmt.Sprintf("Placement series over %s: base rates averaged over the window.", n),
		name:     "placement_model_" + n,
		interval: promDuration(w.Interval),
	}
	g.rules = []rule{{
		comment: "Replicas observed on average (observed seconds per second).",
		record:  ObservedRecord + n,
		expr:    avg("placement_model_observed_seconds", ""),
	}, {
		comment: "Duty cycle: busy over observed time, so unobserved time never counts as idle.\n" +
			"Absent when the model was not observed in the window.",
		record: DutyCycleRecord + n,
		expr: fmt.Sprintf("%s\n/\n(%s%s > 0)",
			avg("placement_model_busy_seconds", ""), ObservedRecord, n),
	},
		p.idleGapRule(n, 0.5, avg),
		p.idleGapRule(n, 0.9, avg),
		{
			comment: "Completed requests per second.",
			record:  RequestRateRecord + n,
			expr:    avg("placement_model_requests", ""),
		}, {
			comment: "Mean concurrency: requests running on average, over all replicas.",
			record:  ConcurrencyRecord + n,
			expr:    avg("placement_model_request_seconds", ""),
		}, {
			comment: "Dollars per hour of each option: cost per observed replica-hour, times\n" +
				"the replicas observed on average but at least one, since always-on keeps one\n" +
				"running and time lost to failed polls is costed at the observed rate, not as free.",
			record: CostPerHourRecord + n,
			expr: fmt.Sprintf(`3600 * %s
/ %s group_left ()
%s`, avg("placement_model_cost_dollars", ""), p.on(), atLeastOne),
		}, {
			comment: "The cheapest serverless offer at its default scale-down window, in $/h.",
			record:  CheapestRecord + n,
			expr: fmt.Sprintf(`bottomk %s (1, %s%s{strategy="serverless"})`,
				p.by(), CostPerHourRecord, n),
		}, {
			comment: "Cold starts per hour at the cheapest offer's best window: the window that\n" +
				"bills the fewest GPU-seconds among those simulated for it (labels offer, window).",
			record: BestWindowRecord + n,
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
				p.on(), atLeastOne, p.on("offer", "window"), p.by(), p.on("offer"), CheapestRecord, n),
		}, {
			comment: fmt.Sprintf("Dollars a month (%s h) that the cheaper of always-on and the\n"+
				"cheapest serverless offer saves against the strategy the model is deployed with\n"+
				"(label strategy); 0 when it already runs on the cheaper one.", number(p.HoursPerMonth)),
			record: SavingsRecord + n,
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
			record:  RecommendationRecord + n,
			labels:  [][2]string{{"recommended", "serverless"}},
			expr: fmt.Sprintf(`clamp(
  max %s (
      %s%s
    < %s group_left ()
      %s
  ),
  1, 1)`, p.by("offer"), CheapestRecord, n, p.on(), alwaysOn),
		}, {
			record: RecommendationRecord + n,
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
  1, 1)`, p.by("offer"), CostPerHourRecord, n, p.on(), alwaysOn, p.on(), serverless),
		}, {
			comment: "Cold starts per hour the recommended option would bring: the best\n" +
				"window's for serverless, 0 for always-on.",
			record: RecommendedColdStartsRecord + n,
			expr: fmt.Sprintf(`(
    max %[1]s (%[2]s%[3]s)
  * %[4]s group_left (recommended)
    max %[5]s (%[6]s%[3]s{recommended="serverless"})
)
or
0 * max %[5]s (%[6]s%[3]s{recommended="always_on"})`,
				p.by(), BestWindowRecord, n, p.on(), p.by("recommended"), RecommendationRecord),
		}}
	return g
}

func (p Params) idleGapRule(n string, q float64, avg func(metric, sel string) string) rule {
	r := rule{
		record: IdleGapRecord + n,
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
