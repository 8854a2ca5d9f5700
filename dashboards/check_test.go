package dashboards

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/placement-exporter/placement_exporter/rules"
)

// This file holds the checks run on the dashboard files. Each check reads
// the JSON as Grafana would and returns one line per problem, naming the
// panel or variable; dashboards_test.go runs them on the committed files and
// shows that each one fails on a broken copy.

// Paths of the reference files, relative to this package.
const (
	goldenScrape = "../collector/testdata/golden.prom"
	rulesFile    = "../rules/" + rules.RecordingFile
)

// grafanaBuiltins are the variables Grafana defines itself, with a stand-in
// the PromQL parser accepts where Grafana would put the value.
var grafanaBuiltins = map[string]string{
	"__rate_interval": "5m",
	"__interval":      "5m",
	"__range":         "5m",
	"__interval_ms":   "300000",
	"__range_ms":      "300000",
	"__range_s":       "300",
}

// varRef matches the three forms of a variable reference Grafana expands:
// $name, ${name} or ${name:format}, and [[name]].
var varRef = regexp.MustCompile(`\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]`)

// labelValues matches the query of a Prometheus query variable.
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// knownSeries maps every series name a query may read to where it comes
// from: the exporter's golden scrape or the recording rules.
func knownSeries(t *testing.T) map[string]string {
	t.Helper()
	known := map[string]string{}

	f, err := os.Open(goldenScrape)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		known[name] = "exporter"
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Groups []struct {
			Rules []struct {
				Record string `yaml:"record"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &rf); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				known[r.Record] = "rules"
			}
		}
	}
	if len(known) < 40 {
		t.Fatalf("only %d series names read from %s and %s", len(known), goldenScrape, rulesFile)
	}
	return known
}

// allPanels lists the dashboard's panels, those inside rows included.
func allPanels(d map[string]any) []map[string]any {
	var out []map[string]any
	var walk func(list []any)
	walk = func(list []any) {
		for _, p := range list {
			if m, ok := p.(map[string]any); ok {
				out = append(out, m)
				walk(asList(m["panels"]))
			}
		}
	}
	walk(asList(d["panels"]))
	return out
}

// variables lists the dashboard's template variables in order.
func variableList(d map[string]any) []map[string]any {
	var out []map[string]any
	for _, v := range asList(asMap(d["templating"])["list"]) {
		out = append(out, asMap(v))
	}
	return out
}

func asList(v any) []any            { l, _ := v.([]any); return l }
func asMap(v any) map[string]any    { m, _ := v.(map[string]any); return m }
func asString(v any) string         { s, _ := v.(string); return s }
func title(p map[string]any) string { return fmt.Sprintf("panel %q", asString(p["title"])) }

// substitute replaces variable references with stand-ins the PromQL parser
// accepts and returns the names of the references that are neither
// Grafana's nor defined.
func substitute(expr string, defined []string) (string, []string) {
	values := map[string]string{}
	for _, d := range defined {
		values[d] = "standin"
	}
	return expand(expr, values)
}

// expand replaces variable references with Grafana's built-in stand-ins or
// with values, and returns the names of the references it had no value for.
func expand(expr string, values map[string]string) (string, []string) {
	var undefined []string
	out := varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if strings.Trim(name, "0123456789") == "" {
			return ref // $1 in a label_replace replacement, not a variable
		}
		if v, ok := grafanaBuiltins[name]; ok {
			return v
		}
		if v, ok := values[name]; ok {
			return v
		}
		undefined = append(undefined, name)
		return "standin"
	})
	return out, undefined
}

// checkSeries parses expr and reports each series it selects that neither
// the exporter nor the rules produce.
func checkSeries(expr string, known map[string]string) []string {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return []string{fmt.Sprintf("does not parse: %v", err)}
	}
	var problems []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			problems = append(problems, fmt.Sprintf("selector %s names no series", vs))
		} else if known[name] == "" {
			problems = append(problems, fmt.Sprintf("reads %s, which neither the exporter "+
				"(%s) nor the rules (%s) produce", name, goldenScrape, rulesFile))
		}
		return nil
	})
	return problems
}

// checkQueries parses every panel query and checks its series and
// variables.
func checkQueries(d map[string]any, known map[string]string) []string {
	var defined []string
	for _, v := range variableList(d) {
		defined = append(defined, asString(v["name"]))
	}
	var problems []string
	for _, p := range allPanels(d) {
		targets := asList(p["targets"])
		if p["type"] != "row" && len(targets) == 0 {
			problems = append(problems, title(p)+": no query")
		}
		for _, t := range targets {
			t := asMap(t)
			where := fmt.Sprintf("%s query %s", title(p), asString(t["refId"]))
			expr, undefined := substitute(asString(t["expr"]), defined)
			for _, u := range undefined {
				problems = append(problems,
					fmt.Sprintf("%s: uses $%s, which the dashboard does not define", where, u))
			}
			for _, s := range checkSeries(expr, known) {
				problems = append(problems, where+": "+s)
			}
		}
	}
	return problems
}

// checkVariables checks that each query variable reads a known series and
// uses only variables defined before it.
func checkVariables(d map[string]any, known map[string]string) []string {
	var problems []string
	var before []string
	for _, v := range variableList(d) {
		name := asString(v["name"])
		where := fmt.Sprintf("variable %q", name)
		switch v["type"] {
		case "datasource":
			if v["query"] != "prometheus" {
				problems = append(problems, where+": not a Prometheus data source variable")
			}
			if v["current"] != nil {
				problems = append(problems, where+": has a saved current value, which pins one data source")
			}
		case "query":
			m := labelValues.FindStringSubmatch(asString(v["query"]))
			if m == nil {
				problems = append(problems, where+": query is not label_values(<selector>, <label>)")
				break
			}
			sel, undefined := substitute(m[1], before)
			for _, u := range undefined {
				problems = append(problems, fmt.Sprintf("%s: uses $%s, not defined before it", where, u))
			}
			for _, s := range checkSeries(sel, known) {
				problems = append(problems, where+": "+s)
			}
		default:
			problems = append(problems, fmt.Sprintf("%s: unexpected type %v", where, v["type"]))
		}
		before = append(before, name)
	}
	return problems
}

// checkPanels checks that every panel has a title, a description and a
// unit. A table has no unit of its own: each value column it shows must
// have one.
func checkPanels(d map[string]any) []string {
	var problems []string
	for _, p := range allPanels(d) {
		if p["type"] == "row" {
			continue
		}
		where := fmt.Sprintf("panel %d", int(p["id"].(float64)))
		if strings.TrimSpace(asString(p["title"])) == "" {
			problems = append(problems, where+": no title")
		} else {
			where = title(p)
		}
		if len(strings.Fields(asString(p["description"]))) < 8 {
			problems = append(problems, where+": no description of what the number means")
		}
		fc := asMap(p["fieldConfig"])
		if p["type"] == "table" {
			problems = append(problems, checkColumnUnits(where, p, fc)...)
		} else if asString(asMap(fc["defaults"])["unit"]) == "" {
			problems = append(problems, where+": no unit")
		}
	}
	return problems
}

// checkColumnUnits checks that every value field a table shows (named
// "Value #<refId>" by Grafana, renamed by the organize step) has a unit.
func checkColumnUnits(where string, p map[string]any, fc map[string]any) []string {
	units := map[string]bool{}
	for _, o := range asList(fc["overrides"]) {
		o := asMap(o)
		for _, prop := range asList(o["properties"]) {
			if asMap(prop)["id"] == "unit" && asString(asMap(prop)["value"]) != "" {
				units[asString(asMap(o["matcher"])["options"])] = true
			}
		}
	}
	var problems []string
	for _, t := range asList(p["transformations"]) {
		t := asMap(t)
		if t["id"] != "organize" {
			continue
		}
		opts := asMap(t["options"])
		for field, header := range asMap(opts["renameByName"]) {
			if strings.HasPrefix(field, "Value #") && asMap(opts["excludeByName"])[field] != true &&
				!units[asString(header)] {
				problems = append(problems, fmt.Sprintf("%s: column %q has no unit", where, header))
			}
		}
	}
	return problems
}

// checkDatasources walks the whole dashboard: every data source reference
// must be the data source variable, and every panel and query must carry
// one, so that none falls back to Grafana's default data source.
func checkDatasources(d map[string]any) []string {
	want := "${" + datasourceVar + "}"
	var problems []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "datasource" {
					ds := asMap(child)
					if ds["type"] != "prometheus" || ds["uid"] != want {
						problems = append(problems, fmt.Sprintf("%s.datasource is %v, not the %s variable",
							path, child, want))
					}
					continue
				}
				walk(path+"."+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), child)
			}
		}
	}
	walk("dashboard", d)

	for _, p := range allPanels(d) {
		if p["type"] != "row" && p["datasource"] == nil {
			problems = append(problems, title(p)+": no data source")
		}
		for _, t := range asList(p["targets"]) {
			if asMap(t)["datasource"] == nil {
				problems = append(problems,
					fmt.Sprintf("%s query %v: no data source", title(p), asMap(t)["refId"]))
			}
		}
	}
	return problems
}

// checkAll runs every check.
func checkAll(d map[string]any, known map[string]string) []string {
	var problems []string
	problems = append(problems, checkQueries(d, known)...)
	problems = append(problems, checkVariables(d, known)...)
	problems = append(problems, checkPanels(d)...)
	problems = append(problems, checkDatasources(d)...)
	return problems
}
