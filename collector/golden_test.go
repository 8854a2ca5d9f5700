package collector

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/placement-exporter/placement_exporter/collector/billing"
	"github.com/placement-exporter/placement_exporter/config"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.prom")

// goldenTargets are the real captured pages the golden scrape polls, each
// under a stable host name so that the target label does not depend on
// the test server's port.
var goldenTargets = []struct {
	host, fixture, extra string
}{
	{"vllm-v1.test:8000", "vllm-v1-via-dynamo-2026-01.txt", "strategy: always_on\n    gpu: H100\n    labels: {cluster: eu-1}"},
	{"vllm-v0.test:8000", "vllm-v0-aibrix-runtime-doc.txt", "strategy: serverless\n    gpu: L4\n    scale_to_zero: true"},
	{"sglang.test:30000", "sglang-via-dynamo-2026-01.txt", "gpu: A100-80GB\n    replicas: 2"},
	{"tgi.test:3000", "tgi-datadog-fixture-excerpt.txt", "model: mistral-7b\n    gpu: L40S"},
	{"triton.test:8002", "triton-core-datadog-fixture.txt", "gpu: L4\n    models:\n      densenet_onnx: {strategy: serverless}"},
	{"llamacpp.test:8080", "llamacpp-a2df2787-commit-msg-fragment.txt", "model: gemma-2b"},
	{"trtllm.test:8000", "trtllm-via-dynamo-2026-01.txt", "labels: {cluster: us-2}"},
}

// TestGoldenScrape polls every real page twice and compares the whole
// exposition with testdata/golden.prom, which `make test` also checks with
// promtool check metrics. Run with -update to rewrite it after a deliberate
// change.
func TestGoldenScrape(t *testing.T) {
	addrs := map[string]string{}
	var cfg strings.Builder
	cfg.WriteString("targets:\n")
	for _, g := range goldenTargets {
		page, err := os.ReadFile(filepath.Join("testdata", "fixtures", g.fixture))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			w.Write(page)
		}))
		t.Cleanup(srv.Close)
		addrs[g.host] = srv.Listener.Addr().String()
		fmt.Fprintf(&cfg, "  - url: http://%s/metrics\n    %s\n", g.host, g.extra)
	}
	c, err := config.Parse([]byte(cfg.String()), "golden.yml")
	if err != nil {
		t.Fatal(err)
	}
	cat := billing.DefaultCatalog()
	if err := CheckCosts(c, cat); err != nil {
		t.Fatal(err)
	}
	// Route each stable host name to its test server.
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addrs[addr])
		},
	}}
	clock := &fakeClock{}
	e := New(Options{Manual: true, Now: clock.Now, Client: client})
	e.Apply(c, cat)
	t.Cleanup(e.Stop)
	for s := 0; s <= 1; s++ {
		clock.Set(float64(s))
		e.PollAll(context.Background())
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec,
		httptest.NewRequest(http.MethodGet, "/metrics", nil))
	// Poll durations are real time: the only values that vary from run to run.
	got := pollDuration.ReplaceAllString(rec.Body.String(), "${1} 0.001")

	for _, want := range []string{
		`placement_target_up{cluster="eu-1",target="vllm-v1.test:8000"} 1`,
		`placement_model_observed_seconds_total{cluster="eu-1",model="Qwen/Qwen3-0.6B",target="vllm-v1.test:8000"} 1`,
		`placement_model_observed_seconds_total{cluster="",model="mistral-7b",target="tgi.test:3000"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	// Triton core has no running gauge: its timeline is rebuilt from the
	// counters and held for at least 10 s, so after 1 s nothing is observed yet.
	for _, m := range []string{"densenet_onnx", "inception_graphdef", "simple", "simple_dyna_sequence",
		"simple_identity", "simple_int8", "simple_sequence", "simple_string"} {
		want := fmt.Sprintf(`placement_model_observed_seconds_total{cluster="",model=%q,target="triton.test:8002"} 0`, m)
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks Triton model %s", m)
		}
	}

	golden := filepath.Join("testdata", "golden.prom")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenScrape -update to create it)", err)
	}
	if got != string(want) {
		g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(g) || i < len(w); i++ {
			if i >= len(g) || i >= len(w) || g[i] != w[i] {
				t.Fatalf("scrape differs from %s at line %d (run with -update after a deliberate change):\n got %q\nwant %q",
					golden, i+1, at(g, i), at(w, i))
			}
		}
	}
}

var pollDuration = regexp.MustCompile(`(?m)^(placement_target_poll_duration_seconds\{[^}]*\}) .*$`)

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)"
}
