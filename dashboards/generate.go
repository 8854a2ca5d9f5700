package dashboards

//go:generate go run ./gen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/placement-exporter/placement_exporter/rules"
)

// File names of the generated dashboards, relative to the dashboards
// directory.
const (
	OverviewFile = "placement-overview.json"
	ModelFile    = "placement-model.json"
)

// Dashboard UIDs: fixed, so that the overview can link to the model
// dashboard and a re-import replaces the previous version.
const (
	overviewUID = "placement-overview"
	modelUID    = "placement-model"
)

// SchemaVersion is the dashboard schema the files declare: Grafana 10.4's.
// Later Grafana versions migrate it on load; 10.4 would not read a newer one.
const SchemaVersion = 39

// tag marks both dashboards; each one's links list the other by it.
const tag = "placement_exporter"

// Generate renders both dashboards for the grouping labels and windows of
// p, keyed by file name. The defaults of rules.DefaultParams render the
// committed files.
func Generate(p rules.Params) (map[string][]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("rule parameters: %w", err)
	}
	out := map[string][]byte{}
	for name, b := range map[string]*dashboard.DashboardBuilder{
		OverviewFile: overview(p),
		ModelFile:    modelDashboard(p),
	} {
		data, err := render(b)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", name, err)
		}
		out[name] = data
	}
	return out, nil
}

// Write generates both dashboards for p into dir.
func Write(p rules.Params, dir string) error {
	files, err := Generate(p)
	if err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("dashboard %s: %w", name, err)
		}
	}
	return nil
}

// render builds the dashboard, numbers its panels and encodes it as
// indented JSON with a trailing newline.
func render(b *dashboard.DashboardBuilder) ([]byte, error) {
	d, err := b.Build()
	if err != nil {
		return nil, err
	}
	d.SchemaVersion = SchemaVersion
	for i, p := range d.Panels {
		if p.Panel != nil {
			p.Panel.Id = ptr(uint32(i + 1))
		}
	}
	// The SDK places links in a controls menu that only Grafana 12 has;
	// without a placement they show above the panels in every version.
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return unescapeHTML(buf.Bytes())
}

// unescapeHTML writes <, > and & as themselves rather than as \u003c,
// \u003e and \u0026, so that the queries in the files read as typed. The
// SDK marshals queries itself, with HTML escaping on; the result must decode
// to the same value.
func unescapeHTML(data []byte) ([]byte, error) {
	out := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(data))
	var before, after any
	if err := json.Unmarshal(data, &before); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(out), &after); err != nil || !reflect.DeepEqual(before, after) {
		return nil, errors.New("unescaping <, > and & changed the dashboard")
	}
	return []byte(out), nil
}

// base starts a dashboard with the settings and variables both share.
func base(p rules.Params, uid, title, description, from string,
	singleModel bool) *dashboard.DashboardBuilder {
	b := dashboard.NewDashboardBuilder(title).Uid(uid).Description(description).
		Tags([]string{tag}).Editable().Timezone("browser").Time(from, "now").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("Placement").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{tag}).AsDropdown(false).IncludeVars(true).KeepTime(true))
	for _, v := range variables(p, singleModel) {
		b.WithVariable(v)
	}
	return b
}

// variables lists the data source, one variable per grouping label other
// than model, and model, each filtered by the ones before it.
func variables(p rules.Params, singleModel bool) []cog.Builder[dashboard.VariableModel] {
	vars := []cog.Builder[dashboard.VariableModel]{
		dashboard.NewDatasourceVariableBuilder(datasourceVar).Label("Data source").Type("prometheus").
			Description("The Prometheus that scrapes placement_exporter and evaluates its recording rules."),
	}
	var before []string
	for _, l := range append(newQueries(p, false).others(), "model") {
		sel := infoSeries
		if len(before) > 0 {
			sel += "{" + matchers(before, "") + "}"
		}
		query := fmt.Sprintf("label_values(%s, %s)", sel, l)
		v := dashboard.NewQueryVariableBuilder(l).Label(l).Datasource(datasource).
			Query(dashboard.StringOrMap{String: ptr(query)}).Definition(query).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc)
		if l == "model" && singleModel {
			v.Description("The model to show.").Multi(false).IncludeAll(false)
		} else {
			// ".*" also matches series that lack the label, so "All" keeps
			// models without, say, a cluster label.
			v.Description("Models to show, by their " + l + " label.").
				Multi(true).IncludeAll(true).AllValue(".*")
		}
		vars = append(vars, v)
		before = append(before, l)
	}
	return vars
}
