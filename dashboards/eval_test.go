package dashboards

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// series are hand-made inputs for the queries whose arithmetic is not a
// plain read of one record, one "series value" per line. Every series holds
// its value for an hour at 1 m steps, so averages over the hour equal it.
const series = `
  placement_model_info{cluster="c",model="keep_on",target="t",strategy="always_on"} 1
  placement_model_info{cluster="c",model="keep_sl",target="t",strategy="serverless"} 1
  placement_model_info{cluster="c",model="move_on",target="t",strategy="serverless"} 1
  placement_model_info{cluster="c",model="move_sl",target="t",strategy="always_on"} 1
  placement_model_info{cluster="c",model="unknown_on",target="t",strategy="unknown"} 1
  placement_model_info{cluster="c",model="unknown_sl",target="t",strategy="unknown"} 1
  placement_model_info{cluster="c",model="no_rec",target="t",strategy="always_on"} 1
  model:placement_model_recommendation:rate7d{cluster="c",model="keep_on",recommended="always_on"} 1
  model:placement_model_recommendation:rate7d{cluster="c",model="keep_sl",recommended="serverless"} 1
  model:placement_model_recommendation:rate7d{cluster="c",model="move_on",recommended="always_on"} 1
  model:placement_model_recommendation:rate7d{cluster="c",model="move_sl",recommended="serverless"} 1
  model:placement_model_recommendation:rate7d{cluster="c",model="unknown_on",recommended="always_on"} 1
  model:placement_model_recommendation:rate7d{cluster="c",model="unknown_sl",recommended="serverless"} 1

  placement_offer_price_dollars{offer="a/x",unit="gpu_second",gpu="X"} 0.001
  placement_offer_price_dollars{offer="b/x",unit="gpu_minute",gpu="X"} 0.12
  placement_offer_price_dollars{offer="c/x",unit="gpu_hour",gpu="X"} 1.8
  placement_offer_price_dollars{offer="aws/g6",unit="gpu_hour",gpu="X"} 2
  model:placement_model_observed_seconds:rate5m{cluster="c",model="m"} 0.5
  model:placement_model_observed_seconds:rate5m{cluster="d",model="m"} 2
  model:placement_model_serverless_billed_seconds:rate5m{cluster="c",model="m",offer="a/x",window="60"} 0.25
  model:placement_model_serverless_billed_seconds:rate5m{cluster="c",model="m",offer="b/x",window="60"} 0.25
  model:placement_model_serverless_billed_seconds:rate5m{cluster="c",model="m",offer="b/x",window="300"} 0.5
  model:placement_model_serverless_billed_seconds:rate5m{cluster="c",model="m",offer="c/x",window="5"} 0.25
  model:placement_model_serverless_billed_seconds:rate5m{cluster="d",model="m",offer="a/x",window="60"} 0.25
  model:placement_model_serverless_cold_starts:rate5m{cluster="c",model="m",offer="a/x",window="60"} 0.001
  model:placement_model_serverless_cold_starts:rate5m{cluster="d",model="m",offer="a/x",window="60"} 0.001

  placement_model_break_even_duty_cycle_ratio{cluster="c",model="m",offer="a/x",target="t1"} 0.4
  placement_model_break_even_duty_cycle_ratio{cluster="c",model="m",offer="a/x",target="t2"} 0.6
  placement_model_break_even_duty_cycle_ratio{cluster="c",model="m",offer="b/x",target="t1"} 0.9
  model:placement_model_serverless_cheapest_cost_dollars_per_hour:rate7d{cluster="c",model="m",strategy="serverless",offer="a/x"} 1
`

// TestQueriesComputeExpectedNumbers evaluates queries taken from the
// committed dashboards on the series above, with the variables set to "all"
// (and model to "m" on the model dashboard), and compares each result with
// hand-computed values.
func TestQueriesComputeExpectedNumbers(t *testing.T) {
	db := hourOf(t, series)
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples: 1e6, Timeout: time.Minute, LookbackDelta: 5 * time.Minute,
	})
	defer engine.Close()
	at := time.Unix(0, 0).Add(time.Hour)

	for _, c := range []struct {
		file, panel, ref string
		want             map[string]float64
	}{
		// Codes: recommended option (0 always-on, 1 serverless) + 2 when the
		// deployed strategy differs + 4 when it is unknown; no_rec has no
		// recommendation, so no row.
		{OverviewFile, "Placement per model", "recommendation", map[string]float64{
			`{cluster="c", model="keep_on"}`:    0,
			`{cluster="c", model="keep_sl"}`:    1,
			`{cluster="c", model="move_on"}`:    2,
			`{cluster="c", model="move_sl"}`:    3,
			`{cluster="c", model="unknown_on"}`: 4,
			`{cluster="c", model="unknown_sl"}`: 5,
		}},
		// move_on and move_sl.
		{OverviewFile, "Models to move", "A", map[string]float64{`{}`: 2}},
		// Only the cheapest offer's (a/x) break-even counts, averaged over
		// the replicas: (0.4 + 0.6) / 2 = 0.5.
		{OverviewFile, "Duty cycle against break-even (7d)", "break_even", map[string]float64{
			`{cluster="c", model="m", series="c m"}`: 0.5,
		}},
		// Dollars per observed hour = 3600 × billed GPU-s/s × $/GPU-s ÷ min(observed, 1).
		// c: observed 0.5 replicas, so ÷ 0.5; d: 2 replicas, capped at 1.
		//   a/x 60:  3600 × 0.25 × 0.001        ÷ 0.5 = 1.8
		//   b/x 60:  3600 × 0.25 × (0.12 / 60)  ÷ 0.5 = 3.6
		//   b/x 300: 3600 × 0.5  × (0.12 / 60)  ÷ 0.5 = 7.2
		//   c/x 5:   3600 × 0.25 × (1.8 / 3600) ÷ 0.5 = 0.9
		//   d a/x 60: 3600 × 0.25 × 0.001       ÷ 1   = 0.9
		{ModelFile, "What-if scale-down windows", "cost", map[string]float64{
			`{cluster="c", model="m", offer="a/x", window="60"}`:  1.8,
			`{cluster="c", model="m", offer="b/x", window="60"}`:  3.6,
			`{cluster="c", model="m", offer="b/x", window="300"}`: 7.2,
			`{cluster="c", model="m", offer="c/x", window="5"}`:   0.9,
			`{cluster="d", model="m", offer="a/x", window="60"}`:  0.9,
		}},
		// Cold starts per observed hour: 3600 × 0.001 ÷ 0.5 = 7.2; ÷ 1 = 3.6.
		{ModelFile, "What-if scale-down windows", "cold_starts", map[string]float64{
			`{cluster="c", model="m", offer="a/x", window="60"}`: 7.2,
			`{cluster="d", model="m", offer="a/x", window="60"}`: 3.6,
		}},
	} {
		t.Run(c.panel+"/"+c.ref, func(t *testing.T) {
			model := ".*"
			if c.file == ModelFile {
				model = "m"
			}
			expr, undefined := expand(query(t, load(t, c.file), c.panel, c.ref),
				map[string]string{"cluster": ".*", "model": model, datasourceVar: "standin"})
			if len(undefined) > 0 {
				t.Fatalf("no value for %v", undefined)
			}
			q, err := engine.NewInstantQuery(context.Background(), db, nil, expr, at)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			res := q.Exec(context.Background())
			vec, err := res.Vector()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, s := range vec {
				got[s.Metric.String()] = s.F
			}
			for k, w := range c.want {
				if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9 {
					t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("got %d series, want %d: %v", len(got), len(c.want), got)
			}
		})
	}
}

// query returns the expression of query ref in the panel titled title.
func query(t *testing.T, d map[string]any, title, ref string) string {
	t.Helper()
	for _, p := range allPanels(d) {
		if p["title"] != title {
			continue
		}
		for _, tg := range asList(p["targets"]) {
			if asMap(tg)["refId"] == ref {
				return asString(asMap(tg)["expr"])
			}
		}
	}
	t.Fatalf("no query %s in panel %q", ref, title)
	return ""
}

// memSeries is a series held in memory.
type memSeries struct {
	labels labels.Labels
	chunk  chunkenc.Chunk
}

func (s memSeries) Labels() labels.Labels                           { return s.labels }
func (s memSeries) Iterator(it chunkenc.Iterator) chunkenc.Iterator { return s.chunk.Iterator(it) }

// memSet iterates over selected series.
type memSet struct {
	series []storage.Series
	i      int
}

func (s *memSet) Next() bool                        { s.i++; return s.i <= len(s.series) }
func (s *memSet) At() storage.Series                { return s.series[s.i-1] }
func (s *memSet) Err() error                        { return nil }
func (s *memSet) Warnings() annotations.Annotations { return nil }

// hourOf parses lines of "series value" and returns a storage holding each
// value at every minute from 0 to 60 m.
func hourOf(t *testing.T, text string) storage.Queryable {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	var all []memSeries
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.LastIndex(line, " ")
		lset, err := p.ParseMetric(line[:i])
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		c := chunkenc.NewXORChunk()
		app, err := c.Appender()
		if err != nil {
			t.Fatal(err)
		}
		for m := int64(0); m <= 60; m++ {
			app.Append(0, m*time.Minute.Milliseconds(), v)
		}
		all = append(all, memSeries{lset, c})
	}
	slices.SortFunc(all, func(a, b memSeries) int { return labels.Compare(a.labels, b.labels) })

	return &storage.MockQueryable{MockQuerier: &storage.MockQuerier{
		SelectMockFunction: func(_ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
			set := &memSet{}
			for _, s := range all {
				misses := func(m *labels.Matcher) bool { return !m.Matches(s.labels.Get(m.Name)) }
				if !slices.ContainsFunc(ms, misses) {
					set.series = append(set.series, s)
				}
			}
			return set
		},
	}}
}
