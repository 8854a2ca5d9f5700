package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
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
	run(t, demoExporter, demoExpectations)
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
	description: []string{
		"Model ticket-summarizer runs always-on and was busy ",
		"always-on costs $357.7 a month on runpod_pods/l4-secure",
		"the cheapest serverless offer is ",
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
