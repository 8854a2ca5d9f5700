// Package dashboards generates placement_exporter's Grafana dashboards,
// placement-overview.json and placement-model.json, from the parameters of
// the recording rules (rules.Params): the dashboards group models by the
// same labels and read the same windows as the rules they query. Generate
// renders them; "go generate ./dashboards" writes the committed files.
package dashboards
