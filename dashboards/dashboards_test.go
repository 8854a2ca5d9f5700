package dashboards

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/placement-exporter/placement_exporter/rules"
)

// TestCommittedDashboardsAreCurrent fails when a dashboard on disk differs
// from what the generator writes.
func TestCommittedDashboardsAreCurrent(t *testing.T) {
	files, err := Generate(rules.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("dashboards/%s: %v (run go generate ./dashboards)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dashboards/%s is stale: run go generate ./dashboards and commit the result", name)
		}
	}
}

func load(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, data)
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCommittedDashboardsPassChecks runs every check on the files users
// import.
func TestCommittedDashboardsPassChecks(t *testing.T) {
	known := knownSeries(t)
	for _, name := range []string{OverviewFile, ModelFile} {
		d := load(t, name)
		if n := len(allPanels(d)); n < 6 {
			t.Errorf("%s: %d panels, expected at least 6", name, n)
		}
		for _, p := range checkAll(d, known) {
			t.Errorf("%s: %s", name, p)
		}
	}
}

// TestChecksCatchMistakes breaks one thing at a time in a copy of a
// committed dashboard and expects the checks to name it.
func TestChecksCatchMistakes(t *testing.T) {
	known := knownSeries(t)
	panelOf := func(d map[string]any, kind string) map[string]any {
		for _, p := range allPanels(d) {
			if p["type"] == kind {
				return p
			}
		}
		t.Fatalf("no %s panel", kind)
		return nil
	}
	firstTarget := func(d map[string]any, kind string) map[string]any {
		return asMap(asList(panelOf(d, kind)["targets"])[0])
	}
	edit := func(d map[string]any, kind, old, new string) {
		tg := firstTarget(d, kind)
		if !strings.Contains(asString(tg["expr"]), old) {
			t.Fatalf("%s query has no %q: %s", kind, old, tg["expr"])
		}
		tg["expr"] = strings.Replace(asString(tg["expr"]), old, new, 1)
	}
	variable := func(d map[string]any, name string) map[string]any {
		for _, v := range variableList(d) {
			if v["name"] == name {
				return v
			}
		}
		t.Fatalf("no variable %s", name)
		return nil
	}

	for _, c := range []struct {
		name  string
		file  string
		spoil func(d map[string]any)
		want  string
	}{
		{"query that does not parse", ModelFile, func(d map[string]any) {
			edit(d, "timeseries", "sum by", "sum by by")
		}, "does not parse"},
		{"series the exporter lacks", ModelFile, func(d map[string]any) {
			edit(d, "timeseries", "placement_model_running_requests", "placement_model_runing_requests")
		}, "reads placement_model_runing_requests"},
		{"record the rules lack", OverviewFile, func(d map[string]any) {
			edit(d, "state-timeline", "ratio_rate1h", "ratio_rate30d")
		}, "reads model:placement_model_duty_cycle:ratio_rate30d"},
		{"selector without a name", OverviewFile, func(d map[string]any) {
			edit(d, "state-timeline", "model:placement_model_duty_cycle:ratio_rate1h{", "{")
		}, "names no series"},
		{"undefined variable", ModelFile, func(d map[string]any) {
			edit(d, "heatmap", "$cluster", "$clusters")
		}, "uses $clusters"},
		{"undefined variable in braces", ModelFile, func(d map[string]any) {
			edit(d, "heatmap", "$__rate_interval", "${interval:text}")
		}, "uses $interval"},
		{"variable query on a missing series", OverviewFile, func(d map[string]any) {
			variable(d, "model")["query"] = "label_values(placement_model_infos, model)"
		}, "reads placement_model_infos"},
		{"variable used before it is defined", OverviewFile, func(d map[string]any) {
			variable(d, "cluster")["query"] = `label_values(placement_model_info{model=~"$model"}, cluster)`
		}, "uses $model, not defined before it"},
		{"panel without a title", ModelFile, func(d map[string]any) {
			delete(panelOf(d, "heatmap"), "title")
		}, "no title"},
		{"panel without a description", OverviewFile, func(d map[string]any) {
			panelOf(d, "barchart")["description"] = "Duty cycle."
		}, "no description"},
		{"panel without a unit", ModelFile, func(d map[string]any) {
			delete(asMap(asMap(panelOf(d, "heatmap")["fieldConfig"])["defaults"]), "unit")
		}, `panel "Idle-gap distribution": no unit`},
		{"table column without a unit", OverviewFile, func(d map[string]any) {
			o := asMap(asList(asMap(panelOf(d, "table")["fieldConfig"])["overrides"])[0])
			o["properties"] = asList(o["properties"])[1:]
		}, `column "Duty cycle 1d" has no unit`},
		{"hard-coded data source UID on a panel", OverviewFile, func(d map[string]any) {
			panelOf(d, "stat")["datasource"] = map[string]any{
				"type": "prometheus", "uid": "P1809F7CD0C75ACF3",
			}
		}, "P1809F7CD0C75ACF3"},
		{"hard-coded data source UID on a variable", OverviewFile, func(d map[string]any) {
			variable(d, "model")["datasource"] = map[string]any{"type": "prometheus", "uid": "abc123"}
		}, "abc123"},
		{"query without a data source", ModelFile, func(d map[string]any) {
			delete(firstTarget(d, "table"), "datasource")
		}, "query cost: no data source"},
		{"pinned data source", ModelFile, func(d map[string]any) {
			variable(d, datasourceVar)["current"] = map[string]any{"text": "prom", "value": "abc123"}
		}, "pins one data source"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := load(t, c.file)
			c.spoil(d)
			problems := checkAll(d, known)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, c.want) }) {
				t.Errorf("no problem mentions %q; got %q", c.want, problems)
			}
		})
	}
}

// TestDashboardsLoadInGrafana104 checks what Grafana 10.4 needs to read the
// files: the schema version it writes and panel types it ships.
func TestDashboardsLoadInGrafana104(t *testing.T) {
	builtIn := []string{"stat", "table", "timeseries", "state-timeline", "barchart", "heatmap"}
	for _, name := range []string{OverviewFile, ModelFile} {
		d := load(t, name)
		if v := d["schemaVersion"]; v != float64(39) {
			t.Errorf("%s: schemaVersion %v, want 39 (Grafana 10.4)", name, v)
		}
		ids := map[float64]bool{}
		for _, p := range allPanels(d) {
			if !slices.Contains(builtIn, asString(p["type"])) {
				t.Errorf("%s: %s has type %v, not one built into Grafana 10.4", name, title(p), p["type"])
			}
			id, _ := p["id"].(float64)
			if id == 0 || ids[id] {
				t.Errorf("%s: %s has a missing or repeated id %v", name, title(p), p["id"])
			}
			ids[id] = true
		}
	}
}

// TestGroupByReachesEveryQuery renders the dashboards for other grouping
// labels: no query may keep a hand-written "cluster", every aggregation
// must name the new label, and the checks must still pass.
func TestGroupByReachesEveryQuery(t *testing.T) {
	p := rules.DefaultParams()
	p.GroupBy = []string{"namespace", "model"}
	files, err := Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	known := knownSeries(t)
	for name, data := range files {
		if bytes.Contains(data, []byte("cluster")) {
			t.Errorf("%s: still mentions cluster with namespace,model grouping", name)
		}
		d := decode(t, data)
		if variableList(d)[1]["name"] != "namespace" {
			t.Errorf("%s: second variable is %v, want namespace", name, variableList(d)[1]["name"])
		}
		for _, pr := range checkAll(d, known) {
			t.Errorf("%s: %s", name, pr)
		}
	}
}

// TestGenerateRejectsBadParams checks that invalid rule parameters are
// reported rather than rendered.
func TestGenerateRejectsBadParams(t *testing.T) {
	p := rules.DefaultParams()
	p.GroupBy = []string{"cluster"}
	_, err := Generate(p)
	if err == nil || !strings.Contains(err.Error(), `must list "model"`) {
		t.Errorf("got %v, want the rules' group_by error", err)
	}
}

// TestWriteWritesWhatGenerateReturns checks the files gen writes, and that
// a directory that cannot be written to is reported with the file's name.
func TestWriteWritesWhatGenerateReturns(t *testing.T) {
	dir := t.TempDir()
	if err := Write(rules.DefaultParams(), dir); err != nil {
		t.Fatal(err)
	}
	files, err := Generate(rules.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: written file differs from Generate's (err %v)", name, err)
		}
	}
	err = Write(rules.DefaultParams(), filepath.Join(dir, "missing"))
	if err == nil || !strings.Contains(err.Error(), "dashboard placement-") {
		t.Errorf("writing into a missing directory: got %v, want an error naming the dashboard", err)
	}
}
