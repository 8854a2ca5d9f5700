package rules

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// TestCommittedFilesAreCurrent fails when a rule file on disk differs from
// what the parameters generate.
func TestCommittedFilesAreCurrent(t *testing.T) {
	f, err := Generate(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range f.ByName() {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("rules/%s: %v (run go generate ./rules)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("rules/%s is stale: run go generate ./rules and commit the result", name)
		}
	}
}

// since242 lists the PromQL functions that Prometheus 2.42 has; the rules
// must run on it as well as on 3.x.
var since242 = map[string]bool{
	"abs": true, "absent": true, "absent_over_time": true, "avg_over_time": true, "ceil": true,
	"changes": true, "clamp": true, "clamp_max": true, "clamp_min": true, "count_over_time": true,
	"delta": true, "deriv": true, "exp": true, "floor": true, "histogram_quantile": true,
	"idelta": true, "increase": true, "irate": true, "label_join": true, "label_replace": true,
	"last_over_time": true, "max_over_time": true, "min_over_time": true, "predict_linear": true,
	"present_over_time": true, "quantile_over_time": true, "rate": true, "resets": true,
	"round": true, "scalar": true, "sgn": true, "sort": true, "sort_desc": true, "sqrt": true,
	"stddev_over_time": true, "sum_over_time": true, "time": true, "timestamp": true, "vector": true,
}

// TestRulesParseAndUseOldFunctions parses every generated file as Prometheus
// does and checks that each expression uses only functions 2.42 knows, for
// the default parameters and for other grouping labels.
func TestRulesParseAndUseOldFunctions(t *testing.T) {
	other := DefaultParams()
	other.GroupBy = []string{"namespace", "model"}
	other.TargetLabels = []string{"instance", "target"}

	for _, p := range []Params{DefaultParams(), other} {
		f, err := Generate(p)
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range f.ByName() {
			groups, errs := rulefmt.Parse(data, false, model.UTF8Validation,
				parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
			for _, err := range errs {
				t.Errorf("%s with group_by %v: %v", name, p.GroupBy, err)
			}
			if groups == nil {
				continue
			}
			for _, g := range groups.Groups {
				for _, r := range g.Rules {
					checkFunctions(t, name, r.Record+r.Alert, r.Expr)
				}
			}
		}
	}
}

func checkFunctions(t *testing.T, file, rule, expr string) {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %s: %v", file, rule, err)
		return
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if c, ok := n.(*parser.Call); ok && !since242[c.Func.Name] {
			t.Errorf("%s: %s uses %s(), which Prometheus 2.42 lacks", file, rule, c.Func.Name)
		}
		return nil
	})
}

// TestGroupByReachesEveryAggregation checks that changing the grouping
// labels in Params changes every aggregation and vector match, so no rule
// keeps a hand-written label list.
func TestGroupByReachesEveryAggregation(t *testing.T) {
	p := DefaultParams()
	p.GroupBy = []string{"namespace", "model"}
	f, err := Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{RecordingFile: f.Recording, AlertsFile: f.Alerts} {
		if bytes.Contains(data, []byte("cluster")) {
			t.Errorf("%s still mentions cluster after GroupBy = %v", name, p.GroupBy)
		}
		if !bytes.Contains(data, []byte("by (namespace, model")) {
			t.Errorf("%s does not aggregate by the configured labels", name)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Params)
		want   string
	}{
		{"no model label", func(p *Params) { p.GroupBy = []string{"cluster"} },
			`group_by: must list "model" (add the labels that tell apart models of the same name)`},
		{"bad label", func(p *Params) { p.GroupBy = []string{"model", "team-name"} },
			`label "team-name": not a valid Prometheus label name`},
		{"no target label", func(p *Params) { p.TargetLabels = []string{"instance"} },
			`target labels: must list "target" (the exporter sets it on every series)`},
		{"slow group", func(p *Params) { p.Windows[2].Interval = 5 * time.Minute },
			`window "7d": interval 5m0s reaches the 5m lookback (use less than 5m)`},
		{"window shorter than base", func(p *Params) { p.Windows[0].Range = time.Minute },
			`window "1h": range 1m0s must be longer than the base window 5m0s`},
		{"unknown alert window", func(p *Params) { p.AlertWindow = "30d" },
			`alert window "30d": not one of the windows`},
		{"ratio of 1", func(p *Params) { p.SavingsRatio = 1 }, "thresholds: need hours per month > 0, " +
			"0 <= savings ratio < 1, savings dollars >= 0, cold starts per hour > 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParams()
			tt.change(&p)
			err := p.Validate()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
			if _, err := Generate(p); err == nil || !strings.HasSuffix(err.Error(), tt.want) {
				t.Fatalf("Generate() = %v, want it to end in %q", err, tt.want)
			}
		})
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("DefaultParams().Validate() = %v", err)
	}
}

func TestPromDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7 * 24 * time.Hour: "7d", 24 * time.Hour: "1d", 90 * time.Minute: "90m",
		time.Hour: "1h", 20 * time.Second: "20s", 1500 * time.Millisecond: "1500ms",
	} {
		if got := promDuration(d); got != want {
			t.Errorf("promDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
