package dashboards

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/barchart"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/placement-exporter/placement_exporter/rules"
)

// overview is the fleet dashboard: one row per model, what it costs each
// way, and what to change.
func overview(p rules.Params) *dashboard.DashboardBuilder {
	q := newQueries(p, false)
	b := base(p, overviewUID, "Placement overview",
		"Every model placement_exporter observes: how busy it is, what it costs always-on and "+
			"serverless, and which it should run on.", "now-7d", false)

	b.WithPanel(bigValue(panel{
		title: "Possible monthly savings", unit: unitDollars, w: 8, h: 4,
		description: fmt.Sprintf("Dollars a month (%s h) the selected models would save if "+
			"each moved to the cheaper of always-on and its cheapest serverless offer, from costs "+
			"over the last %s. Sum of %s.", q.hours, q.decision, savingsRec+q.decision),
		targets: []*prometheus.DataqueryBuilder{atEnd("A", "sum("+q.s(savingsRec+q.decision)+")")},
	}).Thresholds(thresholds("green", overAlertSavings(p))))

	move := fmt.Sprintf("(%s) >= %d < %d", q.recommendation(), codeMove, codeUnknown)
	b.WithPanel(bigValue(panel{
		title: "Models to move", unit: unitRequests, w: 8, h: 4,
		description: fmt.Sprintf("Models deployed on one option (label strategy of %s) while the "+
			"recording rules recommend the other, from costs over the last %s. Models whose strategy "+
			"is unknown are not counted.", infoSeries, q.decision),
		targets: []*prometheus.DataqueryBuilder{atEnd("A", fmt.Sprintf("count(%s)\nor\n0 * count(%s)",
			move, q.s(recommendationRec+q.decision)))},
	}).Thresholds(thresholds("green", dashboard.Threshold{Value: ptr(1.0), Color: "orange"})))

	b.WithPanel(bigValue(panel{
		title: "Models observed", unit: unitRequests, w: 8, h: 4,
		description: fmt.Sprintf("Models the exporter saw at least once in the last %s: those with "+
			"observed seconds in %s.", q.trend, observedRec+q.trend),
		targets: []*prometheus.DataqueryBuilder{atEnd("A", fmt.Sprintf("count(%s > 0)",
			q.max(q.s(observedRec+q.trend))))},
	}).Thresholds(thresholds("blue")))

	b.WithPanel(placementTable(p, q))
	b.WithPanel(dutyCycleTimeline(q))
	b.WithPanel(breakEvenBars(q))
	return b
}

// placementTable is the table of every model.
func placementTable(p rules.Params, q queries) *table.PanelBuilder {
	var keys [][2]string
	for _, l := range q.group {
		keys = append(keys, [2]string{l, l})
	}
	cols := []column{{ref: "strategy", expr: q.strategy(),
		labels: [][2]string{{"strategy", "Current strategy"}}}}
	for _, w := range p.Windows[1:] {
		cols = append(cols, column{ref: "duty_" + w.Name, title: "Duty cycle " + w.Name, unit: unitRatio,
			expr: q.dutyCycle(w.Name)})
	}
	// The quantiles the rules record.
	for _, g := range [][2]string{{"0.5", "p50"}, {"0.9", "p90"}} {
		cols = append(cols, column{ref: "gap_" + g[1], unit: unitSeconds, expr: q.idleGap(g[0]),
			title: fmt.Sprintf("Idle gap %s (%s)", g[1], q.decision)})
	}
	cols = append(cols,
		column{ref: "requests", title: "Requests/s (" + q.decision + ")", unit: unitReqPerS,
			expr: q.requestRate()},
		column{ref: "kv_cache", title: "KV cache (" + q.trend + ")", unit: unitRatio, expr: q.kvCache()},
		column{ref: "always_on", title: "Always-on $/month", unit: unitDollars,
			expr: q.alwaysOnMonthly()},
		column{ref: "serverless", title: "Serverless $/month", unit: unitDollars,
			expr: q.serverlessMonthly(), labels: [][2]string{{"offer", "Cheapest serverless offer"}}},
		column{ref: "savings", title: "Savings $/month", unit: unitDollars, expr: q.savings(),
			props: []dashboard.DynamicConfigValue{
				{Id: "thresholds", Value: dashboard.ThresholdsConfig{Mode: dashboard.ThresholdsModeAbsolute,
					Steps: steps("green", overAlertSavings(p))}},
				{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
			}},
		column{ref: "recommendation", title: "Recommendation (" + q.decision + ")", unit: unitCode,
			expr: q.recommendation(), props: []dashboard.DynamicConfigValue{
				{Id: "mappings", Value: []dashboard.ValueMapping{recommendationMapping()}}, cellColour,
			}},
	)

	t := mergedTable(panel{
		title: "Placement per model", w: 24, h: 12,
		description: fmt.Sprintf("One row per model (grouping labels %s). Duty cycle: share of observed "+
			"time with at least one request running or waiting. Idle gaps: quantiles of the completed "+
			"gaps between busy periods. Costs: what each option would have cost per month (%s h) over "+
			"the last %s; the serverless column prices the cheapest offer at its default scale-down "+
			"window. Savings: what moving to the cheaper option saves against the deployed strategy "+
			"(0 when it already runs on the cheaper one). Recommendation: green when the model already "+
			"runs on the cheaper option, red when it should move, blue when its strategy is unknown "+
			"(set strategy in the exporter's target configuration). All from the recording rules; "+
			"KV cache is the exporter's gauge averaged over the replicas. Click a model to open it.",
			strings.Join(q.group, ", "), q.hours, q.decision),
	}, keys, cols).SortBy([]cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName("Savings $/month").Desc(true),
	})
	link := map[string]any{"title": "Open the model dashboard", "url": modelLink(q)}
	return t.OverrideByName("model", []dashboard.DynamicConfigValue{
		{Id: "links", Value: []map[string]any{link}},
	})
}

// modelLink opens the model dashboard for a table row, with the same data
// source and time range.
func modelLink(q queries) string {
	u := "/d/" + modelUID + "/" + modelUID + "?${__url_time_range}&${" + datasourceVar + ":queryparam}"
	for _, l := range q.group {
		u += "&var-" + l + "=${__data.fields." + l + "}"
	}
	return u
}

// recommendationMapping names and colours the codes of
// queries.recommendation.
func recommendationMapping() dashboard.ValueMapping {
	var opts [][3]string
	for _, o := range []struct {
		offset int
		text   string
		colour string
	}{
		{0, "keep %s", "green"},
		{codeMove, "move to %s", "red"},
		{codeUnknown, "%s (strategy unknown)", "blue"},
	} {
		for _, r := range []struct {
			code int
			name string
		}{{0, "always-on"}, {codeServerless, "serverless"}} {
			code := strconv.Itoa(o.offset + r.code)
			opts = append(opts, [3]string{code, fmt.Sprintf(o.text, r.name), o.colour})
		}
	}
	return textMapping(opts...)
}

// dutyCycleTimeline shows each model's duty cycle over the shortest window
// as coloured bands.
func dutyCycleTimeline(q queries) *statetimeline.PanelBuilder {
	return apply(statetimeline.NewPanelBuilder(), panel{
		title: "Duty cycle over time (" + q.trend + ")", unit: unitRatio, w: 24, h: 10,
		description: fmt.Sprintf("Each model's duty cycle over the %s before each point: busy seconds "+
			"over observed seconds, from %s. Blue is idle, red is busy all the time; a model that "+
			"stays blue most of the day is a serverless candidate.", q.trend, dutyCycleRec+q.trend),
		targets: []*prometheus.DataqueryBuilder{overTime("A", q.dutyCycle(q.trend), legend(q.group, ""))},
	}).ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdContinuousBlYlRd)).
		Min(0).Max(1).ShowValue(common.VisibilityModeNever).MergeValues(false).RowHeight(0.9).
		Legend(legendList()).Tooltip(tooltipAll())
}

// breakEvenBars sets each model's duty cycle beside the duty cycle above
// which always-on would be cheaper than its cheapest serverless offer.
func breakEvenBars(q queries) *barchart.PanelBuilder {
	name := func(expr string) string {
		args := `"series", " "`
		for _, l := range q.group {
			args += `, "` + l + `"`
		}
		return fmt.Sprintf("label_join(%s, %s)", expr, args)
	}
	var keys [][2]string
	for _, l := range q.group {
		keys = append(keys, [2]string{l, ""})
	}
	keys = append(keys, [2]string{"series", "Model"})
	m := merge(keys, []column{
		{ref: "duty", title: "Duty cycle " + q.decision, unit: unitRatio,
			expr: name(q.dutyCycle(q.decision)), props: []dashboard.DynamicConfigValue{fixedColour("blue")}},
		{ref: "break_even", title: "Break-even duty cycle", unit: unitRatio, expr: name(q.breakEven()),
			props: []dashboard.DynamicConfigValue{fixedColour("orange")}},
	})
	return applyMerged(barchart.NewPanelBuilder(), panel{
		title: "Duty cycle against break-even (" + q.decision + ")", unit: unitRatio, w: 24, h: 12,
		description: fmt.Sprintf("Blue: each model's duty cycle over the last %s. Orange: the "+
			"exporter's break-even duty cycle (%s) for the model's cheapest serverless offer, "+
			"averaged over its replicas: above it, always-on costs less than that offer. A blue bar longer than its "+
			"orange one favours always-on; shorter favours serverless.", q.decision, breakEvenSeries),
	}, m).Orientation(common.VizOrientationHorizontal).Min(0).Max(1).
		ShowValue(common.VisibilityModeAuto).Stacking(common.StackingModeNone).
		GroupWidth(0.7).BarWidth(0.9).Legend(legendList()).Tooltip(tooltipAll())
}

func fixedColour(c string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "color",
		Value: map[string]any{"mode": "fixed", "fixedColor": c}}
}

// overAlertSavings colours savings from the alerts' dollar threshold up.
func overAlertSavings(p rules.Params) dashboard.Threshold {
	return dashboard.Threshold{Value: ptr(p.SavingsDollars), Color: "orange"}
}
