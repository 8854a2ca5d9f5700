package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"
)

// fakeModel is one model served by fakeExporter. Rates are per observed
// second, prices in dollars per hour.
type fakeModel struct {
	name, target, strategy string
	duty                   float64            // busy seconds per observed second
	alwaysOn               float64            // always-on offer aws/g6.xlarge
	serverless             map[string]float64 // offer to price at its default window
	// billed and coldStarts map each window simulated for modal/L4 to the
	// GPU-seconds billed per second and the cold starts per hour.
	billed, coldStarts map[string]float64
}

// fakeObserved is the share of wall time the fake exporter reports as
// observed. Below one replica, every cost the rules derive is a ratio of
// counters that grow together, so the alert's dollar figures do not depend
// on when Prometheus happens to scrape.
const fakeObserved = 0.9

// fakeFleet is the fleet fakeExporter serves: chat runs always-on at a 25 %
// duty cycle and is far cheaper on serverless; batch is busy and belongs on
// always-on; embed already runs serverless, where it belongs.
var fakeFleet = []fakeModel{{
	name: "chat", target: "chat-0:8000", strategy: "always_on", duty: 0.25, alwaysOn: 7.5,
	serverless: map[string]float64{"modal/L4": 1.875, "runpod/L4": 2.25},
	billed:     map[string]float64{"5": 0.3, "60": 0.4},
	coldStarts: map[string]float64{"5": 30, "60": 8},
}, {
	name: "batch", target: "batch-0:8000", strategy: "always_on", duty: 0.9, alwaysOn: 7.5,
	serverless: map[string]float64{"modal/L4": 9.375, "runpod/L4": 9.75},
	billed:     map[string]float64{"5": 0.92, "60": 0.95},
	coldStarts: map[string]float64{"5": 12, "60": 2},
}, {
	name: "embed", target: "embed:8080", strategy: "serverless", duty: 0.1, alwaysOn: 3.75,
	serverless: map[string]float64{"modal/L4": 0.75, "runpod/L4": 0.9},
	billed:     map[string]float64{"5": 0.15, "60": 0.3},
	coldStarts: map[string]float64{"5": 9, "60": 3},
}}

// fakeExpectations is what the rules must make of fakeFleet.
var fakeExpectations = expectations{
	recommended: map[string]string{
		"chat": "serverless", "batch": "always_on", "embed": "serverless",
	},
	offer:     map[string]string{"chat": "modal/L4", "batch": "aws/g6.xlarge", "embed": "modal/L4"},
	misplaced: "chat",
	labels: map[string]string{
		"alertname": "PlacementModelShouldBeServerless", "severity": "info",
		"cluster": "e2e", "model": "chat", "strategy": "always_on",
	},
	// 7.5 and 1.875 dollars an hour over 730 hours; 30 cold starts an hour
	// at modal/L4's cheapest window, 5 s.
	description: []string{
		"Model chat in cluster e2e runs always-on and was busy 25% of the observed time",
		"always-on costs $5.475k a month on aws/g6.xlarge",
		"the cheapest serverless offer is modal/L4 at $1.369k a month",
		"Moving saves $4.106k a month and brings 30 cold starts an hour " +
			"at its cheapest scale-down window (5 s)",
	},
}

// fakeExporter is a MetricsSource serving exporter-shaped series for
// fakeFleet whose counters grow with wall time from the moment it starts.
func fakeExporter(t *testing.T) string {
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, fakePage(time.Since(start).Seconds()))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// fakePage renders the exposition after elapsed seconds.
func fakePage(elapsed float64) string {
	obs := fakeObserved * elapsed
	var b strings.Builder
	family := func(name, typ string) { fmt.Fprintf(&b, "# TYPE %s %s\n", name, typ) }
	sample := func(name, labels string, v float64) {
		fmt.Fprintf(&b, "%s{%s} %g\n", name, labels, v)
	}

	family("placement_model_info", "gauge")
	for _, m := range fakeFleet {
		sample("placement_model_info", m.labels()+fmt.Sprintf(
			`,server="vllm",strategy=%q,gpu="L4",gpus_per_replica="1"`, m.strategy), 1)
	}
	family("placement_target_up", "gauge")
	for _, m := range fakeFleet {
		sample("placement_target_up", m.targetLabels(), 1)
	}
	family("placement_target_info", "gauge")
	for _, m := range fakeFleet {
		sample("placement_target_info", m.targetLabels()+`,server="vllm",scale_to_zero="false"`, 1)
	}
	for _, c := range []struct {
		name   string
		values func(m fakeModel) map[string]float64 // extra labels to value
	}{
		{"placement_model_observed_seconds_total", func(fakeModel) map[string]float64 { return one(obs) }},
		{"placement_model_busy_seconds_total", func(m fakeModel) map[string]float64 { return one(m.duty * obs) }},
		{"placement_model_requests_total", func(m fakeModel) map[string]float64 { return one(2 * m.duty * obs) }},
		{"placement_model_request_seconds_total", func(m fakeModel) map[string]float64 {
			return one(1.5 * m.duty * obs)
		}},
		{"placement_model_cost_dollars_total", func(m fakeModel) map[string]float64 {
			out := map[string]float64{`strategy="always_on",offer="aws/g6.xlarge"`: m.alwaysOn / 3600 * obs}
			for offer, price := range m.serverless {
				out[fmt.Sprintf(`strategy="serverless",offer=%q`, offer)] = price / 3600 * obs
			}
			return out
		}},
		{"placement_model_serverless_billed_seconds_total", func(m fakeModel) map[string]float64 {
			return perWindow(m.billed, obs)
		}},
		{"placement_model_serverless_cold_starts_total", func(m fakeModel) map[string]float64 {
			return perWindow(m.coldStarts, obs/3600)
		}},
	} {
		family(c.name, "counter")
		for _, m := range fakeFleet {
			values := c.values(m)
			for _, extra := range sortedKeys(values) {
				labels := m.labels()
				if extra != "" {
					labels += "," + extra
				}
				sample(c.name, labels, values[extra])
			}
		}
	}

	// Idle gaps: per observed second, 0.02 of them end within 5 s, 0.03 more
	// within 60 s, 0.01 more within 300 s.
	family("placement_model_idle_gap_seconds", "histogram")
	for _, m := range fakeFleet {
		for _, bucket := range []struct {
			le   string
			rate float64
		}{{"5", 0.02}, {"60", 0.05}, {"300", 0.06}, {"+Inf", 0.06}} {
			labels := m.labels() + fmt.Sprintf(`,le=%q`, bucket.le)
			sample("placement_model_idle_gap_seconds_bucket", labels, bucket.rate*obs)
		}
		sample("placement_model_idle_gap_seconds_sum", m.labels(), 4*obs)
		sample("placement_model_idle_gap_seconds_count", m.labels(), 0.06*obs)
	}
	return b.String()
}

// one is a counter without extra labels.
func one(v float64) map[string]float64 { return map[string]float64{"": v} }

func (m fakeModel) targetLabels() string {
	return fmt.Sprintf(`target=%q,cluster="e2e"`, m.target)
}

func (m fakeModel) labels() string {
	return fmt.Sprintf(`%s,model=%q`, m.targetLabels(), m.name)
}

// perWindow returns the modal/L4 counters of each window, scaled by scale.
func perWindow(rates map[string]float64, scale float64) map[string]float64 {
	out := map[string]float64{}
	for window, r := range rates {
		out[fmt.Sprintf(`offer="modal/L4",window=%q`, window)] = r * scale
	}
	return out
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
