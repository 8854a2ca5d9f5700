// Package e2e holds the end-to-end tests: a metrics source (a fake exporter,
// or the real exporter polling fleetsim's demo fleet, both built from this
// repository), a real Prometheus loading the rules generated with short
// windows from package rules, a real Alertmanager, and a webhook receiver
// inside the test. They need the prometheus and prometheus-alertmanager
// binaries (Debian packages of the same names); "go test -short" skips them.
package e2e
