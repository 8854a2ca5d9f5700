package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/placement-exporter/placement_exporter/rules"
)

// modelDashboard is the dashboard of one model: its traffic, its idle gaps
// and what each what-if setting would cost.
func modelDashboard(p rules.Params) *dashboard.DashboardBuilder {
	q := newQueries(p, true)
	b := base(p, modelUID, "Placement model",
		"One model as placement_exporter sees it: traffic, busy share, idle gaps, and what each "+
			"serverless offer and scale-down window would cost.", "now-24h", true)
	for _, s := range modelStats(q) {
		b.WithPanel(s)
	}

	others := q.others()
	b.WithPanel(timeSeries(panel{
		title: "Running and waiting requests", unit: unitRequests, w: 12, h: 8,
		description: fmt.Sprintf("Requests running and waiting at each poll of the inference server, "+
			"summed over the model's replicas (%s, %s). Waiting requests mean the model is saturated.",
			runningSeries, waitingSeries),
		targets: []*prometheus.DataqueryBuilder{
			overTime("A", fmt.Sprintf("sum %s (%s)", q.by(), q.s(runningSeries)), legend(others, "running")),
			overTime("B", fmt.Sprintf("sum %s (%s)", q.by(), q.s(waitingSeries)), legend(others, "waiting")),
		},
	}))
	b.WithPanel(busyShare(p, q))
	b.WithPanel(idleGapHeatmap(q))
	b.WithPanel(timeSeries(panel{
		title: "Cold starts per hour by what-if window", unit: unitPerHour, w: 12, h: 8,
		description: fmt.Sprintf("Cold starts an hour that each serverless offer would bring with each "+
			"scale-down window the exporter simulates (legend: offer, window in seconds), from %s. "+
			"Longer windows bring fewer cold starts and bill more idle time.", coldStartsBaseRec+q.base),
		targets: []*prometheus.DataqueryBuilder{overTime("A",
			"3600 * "+q.max(q.s(coldStartsBaseRec+q.base), "offer", "window"),
			legend(append(append([]string{}, others...), "offer"), "{{window}} s"))},
	}))
	b.WithPanel(timeSeries(panel{
		title: "Cost per hour by strategy and offer (" + q.trend + ")", unit: unitDollars, w: 12, h: 8,
		description: fmt.Sprintf("Dollars an hour each option would cost, averaged over the %s before "+
			"each point: always-on offers bill every hour; serverless offers bill the GPU-seconds "+
			"their default scale-down window keeps a replica up. From %s.", q.trend, costPerHourRec+q.trend),
		targets: []*prometheus.DataqueryBuilder{overTime("A",
			q.max(q.s(costPerHourRec+q.trend), "strategy", "offer"),
			legend(append(append([]string{}, others...), "strategy", "offer"), ""))},
	}))
	b.WithPanel(whatIfTable(q))
	return b
}

// now is an instant query named by its legend, for stat panels.
func now(ref, expr, legendFormat string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource).RefId(ref).
		Expr(expr).Instant().LegendFormat(legendFormat)
}

// modelStats are the model's placement figures over the alerts' window.
func modelStats(q queries) []cog.Builder[dashboard.Panel] {
	name := legend(q.others(), "")
	stats := []struct {
		title, unit, description, source, expr, legend string
	}{
		{"Duty cycle (" + q.decision + ")", unitRatio,
			"Share of observed time with at least one request running or waiting.",
			dutyCycleRec, q.dutyCycle(q.decision), name},
		{"Idle gap p50 (" + q.decision + ")", unitSeconds,
			"Median length of the idle gaps that ended in the window; empty when none did. A " +
				"serverless replica scales down only in gaps longer than its window.",
			idleGapRec, q.idleGap("0.5"), name},
		{"Always-on per month (" + q.decision + ")", unitDollars,
			"What keeping the model's always-on offer running costs a month (" + q.hours + " h).",
			costPerHourRec, q.alwaysOnMonthly(), name},
		{"Cheapest serverless per month (" + q.decision + ")", unitDollars,
			"What the cheapest serverless offer (named) would cost a month at its default " +
				"scale-down window.",
			cheapestRec, q.serverlessMonthly(), legend(q.others(), "{{offer}}")},
		{"Monthly savings (" + q.decision + ")", unitDollars,
			"What moving to the cheaper option saves a month against the deployed strategy; 0 " +
				"when the model already runs on the cheaper one, empty when its strategy is unknown.",
			savingsRec, q.savings(), name},
	}
	var out []cog.Builder[dashboard.Panel]
	for _, s := range stats {
		b := bigValue(panel{
			title: s.title, unit: s.unit, w: 4, h: 4,
			description: fmt.Sprintf("%s Over the last %s, from %s.", s.description, q.decision,
				s.source+q.decision),
			targets: []*prometheus.DataqueryBuilder{now("A", s.expr, s.legend)},
		}).Thresholds(thresholds("blue"))
		if s.legend != name {
			// The legend names more than the model: the offer.
			b.TextMode(common.BigValueTextModeValueAndName)
		}
		out = append(out, b)
	}
	return append(out, bigValue(panel{
		title: "Recommendation (" + q.decision + ")", unit: unitCode, w: 4, h: 4,
		description: fmt.Sprintf("The cheaper option over the last %s (%s), and whether the "+
			"model already runs on it (green), should move (red), or has an unknown strategy "+
			"(blue; set strategy in the exporter's target configuration).",
			q.decision, recommendationRec+q.decision),
		targets: []*prometheus.DataqueryBuilder{now("A", q.recommendation(), name)},
	}).Mappings([]dashboard.ValueMapping{recommendationMapping()}).
		ColorMode(common.BigValueColorModeBackground))
}

// busyShare plots the busy share at the dashboard's resolution with the
// rules' duty cycle over each window.
func busyShare(p rules.Params, q queries) cog.Builder[dashboard.Panel] {
	others := q.others()
	rate := func(series string) string {
		return fmt.Sprintf("sum %s (rate(%s[$__rate_interval]))", q.by(), q.s(series))
	}
	targets := []*prometheus.DataqueryBuilder{overTime("A",
		fmt.Sprintf("%s\n/\n(%s > 0)", rate(busySeries), rate(observedSeries)),
		legend(others, "busy share"))}
	for i, w := range p.Windows {
		targets = append(targets, overTime(string(rune('B'+i)), q.dutyCycle(w.Name),
			legend(others, "duty cycle "+w.Name)))
	}
	return timeSeries(panel{
		title: "Busy share", unit: unitRatio, w: 12, h: 8, targets: targets,
		description: fmt.Sprintf("Busy share: busy seconds over observed seconds in each interval of "+
			"the graph (%s over %s). Duty cycle lines: the same ratio over each window of the "+
			"recording rules. Unobserved time (failed polls) counts neither way.",
			busySeries, observedSeries),
	}).Max(1)
}

// idleGapHeatmap shows how many idle gaps of each length ended per hour.
func idleGapHeatmap(q queries) cog.Builder[dashboard.Panel] {
	const unit = "suffix: gaps/h"
	return apply(heatmap.NewPanelBuilder(), panel{
		title: "Idle-gap distribution", unit: unit, w: 12, h: 8,
		description: fmt.Sprintf("Completed idle gaps per hour by length (y axis: the histogram "+
			"bucket's upper bound), from %s. Gaps shorter than a serverless offer's scale-down window "+
			"are billed as if busy; gaps longer end in a cold start.", gapBucketSeries),
		targets: []*prometheus.DataqueryBuilder{overTime("A",
			fmt.Sprintf("3600 * sum by (le) (rate(%s[$__rate_interval]))", q.s(gapBucketSeries)), "{{le}}").
			Format(prometheus.PromQueryFormatHeatmap)},
	}).Calculate(false).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit(unitSeconds).AxisPlacement(common.AxisPlacementLeft)).
		CellValues(heatmap.NewCellValuesBuilder().Unit(unit)).
		Color(heatmap.NewHeatmapColorOptionsBuilder().Mode(heatmap.HeatmapColorModeScheme).
			Scheme("Oranges").Fill("dark-orange").Scale(heatmap.HeatmapColorScaleExponential).
			Exponent(0.5).Steps(64)).
		ShowValue(common.VisibilityModeNever).CellGap(1).ShowLegend().
		Tooltip(heatmap.NewHeatmapTooltipBuilder().
			Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
		ExemplarsColor("rgba(255,0,255,0.7)")
}

// whatIfTable lists every simulated offer and scale-down window with its
// cost and cold starts over the dashboard's time range.
func whatIfTable(q queries) *table.PanelBuilder {
	var keys [][2]string
	for _, l := range q.group {
		header := l
		if l == "model" {
			header = ""
		}
		keys = append(keys, [2]string{l, header})
	}
	return mergedTable(panel{
		title: "What-if scale-down windows", w: 12, h: 8,
		description: fmt.Sprintf("Each serverless offer with each scale-down window the exporter "+
			"simulates, over the dashboard's time range: cost per observed hour (billed GPU-seconds, %s, "+
			"times the offer's price, %s) and cold starts per observed hour (%s). The exporter's cost "+
			"series cover only each offer's default window; this table prices the others too.",
			billedBaseRec+q.base, priceSeries, coldStartsBaseRec+q.base),
	}, keys, []column{
		{ref: "cost", title: "Cost $/h", unit: unitDollars, expr: q.whatIfCost(),
			labels: [][2]string{{"offer", "Offer"}, {"window", "Scale-down window (s)"}}},
		{ref: "cold_starts", title: "Cold starts/h", unit: unitPerHour, expr: q.whatIfColdStarts()},
	}).SortBy([]cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName("Cost $/h"),
	})
}
