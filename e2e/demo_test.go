package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestDemoFleetEndToEnd runs the whole chain for real: fleetsim serving the
// demo fleet, the exporter polling it, Prometheus evaluating the
// short-window rules, and Alertmanager notifying the webhook that the
// misplaced demo model, ticket-summarizer, belongs on serverless GPUs.
func TestDemoFleetEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts fleetsim, the exporter, Prometheus and Alertmanager")
	}
	var exporter string
	run(t, func(t *testing.T) string {
		exporter = demoExporter(t)
		return exporter
	}, demoExpectations)
	checkDemoCosts(t, exporter)
}

// checkDemoCosts reads the exporter's own series: every demo model is
// priced on at least two serverless offers and one always-on offer, and
// the misplaced model already costs less on some serverless offer than on
// its always-on offer.
func checkDemoCosts(t *testing.T, exporter string) {
	t.Helper()
	resp, err := http.Get("http://" + exporter + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	type costs struct {
		serverless []float64
		alwaysOn   []float64
	}
	byModel := map[string]*costs{}
	for _, m := range mfs["placement_model_cost_dollars_total"].GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		c := byModel[l["model"]]
		if c == nil {
			c = &costs{}
			byModel[l["model"]] = c
		}
		if l["strategy"] == "serverless" {
			c.serverless = append(c.serverless, m.GetCounter().GetValue())
		} else {
			c.alwaysOn = append(c.alwaysOn, m.GetCounter().GetValue())
		}
	}
	for model := range demoExpectations.recommended {
		c := byModel[model]
		if c == nil || len(c.serverless) < 2 || len(c.alwaysOn) != 1 {
			t.Errorf("model %s: cost series %+v, want at least two serverless offers and one always-on", model, c)
		}
	}
	if c := byModel[demoExpectations.misplaced]; c != nil && len(c.alwaysOn) == 1 &&
		slices.Min(c.serverless) >= c.alwaysOn[0] {
		t.Errorf("misplaced model %s: cheapest serverless cost $%.4f is not below always-on $%.4f",
			demoExpectations.misplaced, slices.Min(c.serverless), c.alwaysOn[0])
	}
}

// demoExpectations is what the rules must make of the demo fleet: the three
// steady models stay on always-on capacity, the three bursty ones belong on
// serverless, and ticket-summarizer, deployed always-on, is the misplaced one.
// Which serverless offer is cheapest depends on the traffic, so only the
// always-on offers are named.
var demoExpectations = expectations{
	recommended: map[string]string{
		"llama-3.1-8b-instruct":      "always_on",
		"qwen2.5-coder-32b-instruct": "always_on",
		"mistral-7b-instruct":        "always_on",
		"ticket-summarizer":          "serverless",
		"phi-3-mini-4k-instruct":     "serverless",
		"gemma-2-2b-it":              "serverless",
	},
	offer: map[string]string{
		"llama-3.1-8b-instruct":      "runpod_pods/h100-pcie-community",
		"qwen2.5-coder-32b-instruct": "runpod_pods/h100-pcie-community",
		"mistral-7b-instruct":        "runpod_pods/l4-secure",
	},
	misplaced: "ticket-summarizer",
	labels: map[string]string{
		"alertname": "PlacementModelShouldBeServerless", "severity": "info",
		"model": "ticket-summarizer", "strategy": "always_on",
	},
	// The dollar figures follow the traffic of the last minute and how much
	// of it the exporter had settled, so only their frame is checked.
	description: []string{
		"Model ticket-summarizer runs always-on and was busy ",
		" a month on runpod_pods/l4-secure; the cheapest serverless offer is ",
		"Moving saves $",
	},
}

// demoExporter builds fleetsim and the exporter, starts the demo fleet and
// the exporter polling it as `make demo` does, and returns the exporter's
// address.
func demoExporter(t *testing.T) string {
	dir := t.TempDir()
	bin := func(name string) string {
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
		cmd.Dir = ".."
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, b)
		}
		return out
	}
	fleetsim, exporter := bin("fleetsim"), bin("placement_exporter")

	cfg := filepath.Join(dir, "placement_exporter.yml")
	start(t, dir, "fleetsim", fleetsim, "--exporter-config.out="+cfg,
		"--truth.file="+filepath.Join(dir, "truth.json"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, err := os.Stat(cfg); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("fleetsim did not write the exporter configuration within 30 s")
		case <-time.After(100 * time.Millisecond):
		}
	}
	addr := freeAddr(t)
	start(t, dir, "placement_exporter", exporter, "--config.file="+cfg, "--web.listen-address="+addr)
	waitReady(ctx, t, "placement_exporter", "http://"+addr+"/-/ready")
	return addr
}
