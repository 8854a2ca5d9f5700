package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Grafana unit ids used by the panels.
const (
	unitRatio    = "percentunit"
	unitSeconds  = "s"
	unitDollars  = "currencyUSD"
	unitRequests = "short"
	unitReqPerS  = "reqps"
	unitPerHour  = "suffix: /h"
	unitCode     = "none" // a coded value that a value mapping names
)

// datasourceVar is the name of the data source template variable. Every
// panel and query points at it, so no data source UID is written anywhere.
const datasourceVar = "datasource"

var datasource = common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + datasourceVar + "}")}

func ptr[T any](v T) *T { return &v }

// panel holds what every panel has.
type panel struct {
	title, description, unit string
	w, h                     uint32
	targets                  []*prometheus.DataqueryBuilder
}

// builder is the part of the SDK's panel builders that apply uses; each
// panel type has its own builder type B.
type builder[B any] interface {
	cog.Builder[dashboard.Panel]
	Title(string) B
	Description(string) B
	Unit(string) B
	Datasource(common.DataSourceRef) B
	WithTarget(cog.Builder[variants.Dataquery]) B
	Span(uint32) B
	Height(uint32) B
}

// apply sets the common parts of p on b.
func apply[B builder[B]](b B, p panel) B {
	b.Title(p.title)
	b.Description(p.description)
	if p.unit != "" {
		b.Unit(p.unit)
	}
	b.Datasource(datasource)
	b.Span(p.w)
	b.Height(p.h)
	for _, t := range p.targets {
		b.WithTarget(t)
	}
	return b
}

// overTime is a range query drawn as one series per label set.
func overTime(ref, expr, legendFormat string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource).RefId(ref).
		Expr(expr).LegendFormat(legendFormat).Range()
}

// atEnd is an instant query at the end of the time range, as a table.
func atEnd(ref, expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource).RefId(ref).
		Expr(expr).Instant().Format(prometheus.PromQueryFormatTable)
}

func legendList() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().ShowLegend(true).
		DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)
}

func legendTable(calcs ...string) *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().ShowLegend(true).Calcs(calcs).
		DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementBottom)
}

func tooltipAll() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).
		Sort(common.SortOrderDescending)
}

func timeSeries(p panel) *timeseries.PanelBuilder {
	return apply(timeseries.NewPanelBuilder(), p).
		Legend(legendTable("mean", "max", "lastNotNull")).Tooltip(tooltipAll()).
		LineWidth(1).FillOpacity(10).Min(0)
}

// bigValue is a stat panel of an instant query.
func bigValue(p panel) *stat.PanelBuilder {
	return apply(stat.NewPanelBuilder(), p).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		GraphMode(common.BigValueGraphModeNone).ColorMode(common.BigValueColorModeValue).
		TextMode(common.BigValueTextModeAuto).JustifyMode(common.BigValueJustifyModeAuto).
		Orientation(common.VizOrientationAuto)
}

// steps lists threshold steps: the base colour, then each step from its
// value up.
func steps(base string, above ...dashboard.Threshold) []dashboard.Threshold {
	return append([]dashboard.Threshold{{Color: base}}, above...)
}

func thresholds(base string, above ...dashboard.Threshold) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).
		Steps(steps(base, above...))
}

// textMapping names coded values: each option is a value, its text and its
// colour.
func textMapping(options ...[3]string) dashboard.ValueMapping {
	m := dashboard.ValueMap{Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{}}
	for i, o := range options {
		m.Options[o[0]] = dashboard.ValueMappingResult{
			Text: ptr(o[1]), Color: ptr(o[2]), Index: ptr(int32(i)),
		}
	}
	return dashboard.ValueMapping{ValueMap: &m}
}

// column is one value column of instant queries that Grafana merges row by
// row on their shared labels.
type column struct {
	ref    string // query refId; Grafana names the value field "Value #<ref>"
	title  string // column header; empty hides the value (the query only brings labels)
	unit   string
	expr   string
	labels [][2]string // label columns this query brings, with their headers
	props  []dashboard.DynamicConfigValue
}

func valueField(ref string) string { return "Value #" + ref }

// merged is a set of instant queries merged into one frame: label columns
// first, in the order of keys (a label and its header; an empty header
// hides it), then each column's labels and value.
type merged struct {
	targets         []*prometheus.DataqueryBuilder
	transformations []dashboard.DataTransformerConfig
	cols            []column
}

func merge(keys [][2]string, cols []column) merged {
	exclude := map[string]bool{"Time": true}
	rename := map[string]string{}
	index := map[string]int{}
	place := func(field, header string) {
		if header == "" {
			exclude[field] = true
			return
		}
		index[field] = len(index)
		rename[field] = header
	}
	m := merged{cols: cols}
	for _, k := range keys {
		place(k[0], k[1])
	}
	for _, c := range cols {
		m.targets = append(m.targets, atEnd(c.ref, c.expr))
		for _, l := range c.labels {
			place(l[0], l[1])
		}
		place(valueField(c.ref), c.title)
	}
	m.transformations = []dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		{Id: "organize", Options: map[string]any{
			"excludeByName": exclude, "indexByName": index, "renameByName": rename,
		}},
	}
	return m
}

// overridable is the part of the SDK's panel builders that merged.apply uses.
type overridable[B any] interface {
	builder[B]
	WithTransformation(dashboard.DataTransformerConfig) B
	OverrideByName(string, []dashboard.DynamicConfigValue) B
}

// applyMerged adds m's queries and transformations to b, and gives every
// shown value column its unit and properties. Overrides match fields by the
// names the organize step gave them.
func applyMerged[B overridable[B]](b B, p panel, m merged) B {
	p.targets = append(p.targets, m.targets...)
	apply(b, p)
	for _, t := range m.transformations {
		b.WithTransformation(t)
	}
	for _, c := range m.cols {
		if c.title != "" {
			unit := dashboard.DynamicConfigValue{Id: "unit", Value: c.unit}
			b.OverrideByName(c.title, append([]dashboard.DynamicConfigValue{unit}, c.props...))
		}
	}
	return b
}

// mergedTable is a table of merged instant queries.
func mergedTable(p panel, keys [][2]string, cols []column) *table.PanelBuilder {
	return applyMerged(table.NewPanelBuilder(), p, merge(keys, cols)).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		CellHeight(common.TableCellHeightSm).ShowHeader(true)
}

// cellColour paints a table cell's background with its value's colour.
var cellColour = dashboard.DynamicConfigValue{
	Id: "custom.cellOptions", Value: map[string]any{"type": "color-background", "mode": "basic"},
}
