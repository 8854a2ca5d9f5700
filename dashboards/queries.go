package dashboards

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/placement-exporter/placement_exporter/rules"
)

// Series of the exporter that the dashboards read directly.
const (
	infoSeries      = "placement_model_info"
	runningSeries   = "placement_model_running_requests"
	waitingSeries   = "placement_model_waiting_requests"
	busySeries      = "placement_model_busy_seconds_total"
	observedSeries  = "placement_model_observed_seconds_total"
	kvCacheSeries   = "placement_model_kv_cache_usage_ratio"
	gapBucketSeries = "placement_model_idle_gap_seconds_bucket"
	breakEvenSeries = "placement_model_break_even_duty_cycle_ratio"
	priceSeries     = "placement_offer_price_dollars"
)

// Record names of rules/placement.rules.yml, without the trailing window
// name, from the rules package; the base-rate records are named here, and
// the tests check every name built from these against the generated file.
const (
	dutyCycleRec      = rules.DutyCycleRecord
	idleGapRec        = rules.IdleGapRecord
	requestRateRec    = rules.RequestRateRecord
	costPerHourRec    = rules.CostPerHourRecord
	cheapestRec       = rules.CheapestRecord
	savingsRec        = rules.SavingsRecord
	recommendationRec = rules.RecommendationRecord
	observedRec       = rules.ObservedRecord
	billedBaseRec     = "model:placement_model_serverless_billed_seconds:rate"
	coldStartsBaseRec = "model:placement_model_serverless_cold_starts:rate"
)

// Codes of the recommendation column and stat: the recommended option (0
// always-on, 1 serverless) plus how it compares with the deployed strategy.
const (
	codeServerless = 1 // added when serverless is the cheaper option
	codeMove       = 2 // added when the model is deployed on the other option
	codeUnknown    = 4 // added when the deployed strategy is "unknown"
)

// queries builds the PromQL of one dashboard. Every query keeps exactly the
// grouping labels of the rules (plus the labels it names), so that table
// queries line up row by row when Grafana merges them.
type queries struct {
	group []string // the rules' grouping labels, model included
	match string   // label matchers that bind the template variables

	base     string // base window name of the rules ("5m")
	trend    string // shortest window, for panels over time ("1h")
	trendLen string // its length as a PromQL duration
	decision string // the alerts' window, for costs and recommendations ("7d")
	hours    string // hours per month
}

func newQueries(p rules.Params, singleModel bool) queries {
	exact := ""
	if singleModel {
		exact = "model"
	}
	return queries{
		group:    p.GroupBy,
		match:    matchers(p.GroupBy, exact),
		base:     p.Base.Name,
		trend:    p.Windows[0].Name,
		trendLen: model.Duration(p.Windows[0].Range).String(),
		decision: p.AlertWindow,
		hours:    strconv.FormatFloat(p.HoursPerMonth, 'f', -1, 64),
	}
}

// matchers binds each label to the template variable of the same name, as
// a regular expression (multi-valued variables), except the label exact,
// which takes a single value.
func matchers(labels []string, exact string) string {
	var m []string
	for _, l := range labels {
		op := "=~"
		if l == exact {
			op = "="
		}
		m = append(m, fmt.Sprintf(`%s%s"$%s"`, l, op, l))
	}
	return strings.Join(m, ", ")
}

// s selects series name restricted to the dashboard's variables and to the
// extra matchers.
func (q queries) s(name string, extra ...string) string {
	return name + "{" + strings.Join(append([]string{q.match}, extra...), ", ") + "}"
}

// by renders an aggregation clause over the grouping labels and extra.
func (q queries) by(extra ...string) string { return "by (" + q.list(extra) + ")" }

// on renders a vector-matching clause over the grouping labels and extra.
func (q queries) on(extra ...string) string { return "on (" + q.list(extra) + ")" }

func (q queries) list(extra []string) string {
	return strings.Join(append(append([]string{}, q.group...), extra...), ", ")
}

// max aggregates inner by the grouping labels and extra. On recorded series
// it changes no value; it drops __name__, which would otherwise keep table
// rows of different queries apart.
func (q queries) max(inner string, extra ...string) string {
	return fmt.Sprintf("max %s (%s)", q.by(extra...), inner)
}

// others returns the grouping labels other than model.
func (q queries) others() []string {
	var o []string
	for _, l := range q.group {
		if l != "model" {
			o = append(o, l)
		}
	}
	return o
}

// legend renders a legend template of the given labels followed by text.
func legend(labels []string, text string) string {
	var parts []string
	for _, l := range labels {
		parts = append(parts, "{{"+l+"}}")
	}
	if text != "" {
		parts = append(parts, text)
	}
	return strings.Join(parts, " ")
}

func (q queries) dutyCycle(window string) string { return q.max(q.s(dutyCycleRec + window)) }

func (q queries) idleGap(quantile string) string {
	return q.max(q.s(idleGapRec+q.decision, `quantile="`+quantile+`"`))
}

func (q queries) requestRate() string { return q.max(q.s(requestRateRec + q.decision)) }

// kvCache averages each replica's KV-cache use over the trend window, then
// the replicas.
func (q queries) kvCache() string {
	return fmt.Sprintf("avg %s (avg_over_time(%s[%s]))", q.by(), q.s(kvCacheSeries), q.trendLen)
}

func (q queries) strategy() string { return q.max(q.s(infoSeries), "strategy") }

func (q queries) alwaysOnMonthly() string {
	return fmt.Sprintf("%s * sum %s (%s)",
		q.hours, q.by(), q.s(costPerHourRec+q.decision, `strategy="always_on"`))
}

// serverlessMonthly keeps the offer label: it names the cheapest offer.
func (q queries) serverlessMonthly() string {
	return q.hours + " * " + q.max(q.s(cheapestRec+q.decision), "offer")
}

func (q queries) savings() string { return q.max(q.s(savingsRec + q.decision)) }

// recommendation encodes the recommended option and how it compares with
// the deployed strategy as one number (see the code constants), so that a
// value mapping can name and colour it in a table cell. The comparison is
// made on labels: the recommendation's recommended against the info
// series' strategy.
func (q queries) recommendation() string {
	rec := q.s(recommendationRec + q.decision)
	return fmt.Sprintf(`(
    %[1]d * max %[2]s (%[3]s)
  or
    0 * max %[2]s (%[4]s)
)
+ %[5]s
(
    %[6]d * max %[2]s (%[4]s and %[5]s %[7]s)
  or
    %[8]d * max %[2]s (
        max %[9]s (%[4]s)
      unless %[10]s
        label_replace(max %[11]s (%[12]s), "recommended", "$1", "strategy", "(.+)")
    )
  or
    0 * max %[2]s (%[4]s)
)`, codeServerless, q.by(), q.s(recommendationRec+q.decision, `recommended="serverless"`), rec,
		q.on(), codeUnknown, q.s(infoSeries, `strategy="unknown"`),
		codeMove, q.by("recommended"), q.on("recommended"), q.by("strategy"), q.s(infoSeries))
}

// breakEven is the break-even duty cycle of the cheapest serverless offer,
// averaged over the model's replicas.
func (q queries) breakEven() string {
	return fmt.Sprintf("avg %s (%s and %s %s)",
		q.by(), q.s(breakEvenSeries), q.on("offer"), q.s(cheapestRec+q.decision))
}

// perObservedHour turns a per-second rate (labels: the grouping labels and
// more) into a rate per hour of observation, the way the rules do: divided
// by the replicas observed on average, capped at one, so that time lost to
// failed polls does not read as free.
func (q queries) perObservedHour(perSecond, observed string) string {
	return fmt.Sprintf(`3600 * %s
/ %s group_left ()
clamp_max(%s > 0, 1)`, perSecond, q.on(), observed)
}

// overRange averages a base-window record over the dashboard's time range.
func (q queries) overRange(rec string, extra ...string) string {
	return fmt.Sprintf("sum %s (avg_over_time(%s[$__range]))", q.by(extra...), q.s(rec+q.base))
}

// whatIfCost prices each simulated window's billed GPU-seconds at its
// offer's price per GPU-second, per observed hour of the dashboard's range.
func (q queries) whatIfCost() string {
	billed := fmt.Sprintf(`%s
* on (offer) group_left ()
max by (offer) (
    %[2]s{unit="gpu_second"}
  or %[2]s{unit="gpu_minute"} / 60
  or %[2]s{unit="gpu_hour"} / 3600
)`, q.overRange(billedBaseRec, "offer", "window"), priceSeries)
	return q.perObservedHour("(\n"+billed+"\n)", q.overRange(observedRec))
}

func (q queries) whatIfColdStarts() string {
	return q.perObservedHour(q.overRange(coldStartsBaseRec, "offer", "window"),
		q.overRange(observedRec))
}
