// Package rules generates placement_exporter's Prometheus recording rules,
// alerts and rules-only fallback from one set of parameters (Params), so
// that grouping labels, windows and thresholds live in one place.
// DefaultParams renders the committed files; the end-to-end test renders the
// same rules with short windows.
package rules

//go:generate go run ./gen
