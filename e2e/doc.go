// Package e2e holds the end-to-end test: a metrics source, a real Prometheus
// loading the rules generated with short windows from package rules, a real
// Alertmanager, and a webhook receiver inside the test. It needs the
// prometheus and prometheus-alertmanager binaries (Debian packages of the
// same names); "go test -short" skips it.
package e2e
