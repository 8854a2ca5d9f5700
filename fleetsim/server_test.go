package fleetsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestServerServesPagesAndTruth(t *testing.T) {
	eps, err := LoadDemoFleet().Build(1, ".")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_800_000_000, 0)
	clock := &fakeClock{start}
	srv := NewServer(eps, start, 10, clock.now)

	var triton *Endpoint
	for _, ep := range eps {
		if ep.Format.Name == "triton" {
			triton = ep
		}
	}
	ts := httptest.NewServer(srv.Handler(triton))
	defer ts.Close()

	// 60 wall seconds at speed 10 = 600 simulated seconds.
	clock.t = start.Add(time.Minute)
	page := get(t, ts.URL+"/metrics")
	for _, want := range []string{
		`nv_inference_request_success{model="mistral-7b-instruct",version="1"}`,
		`nv_inference_request_success{model="ticket-summarizer",version="1"}`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}

	var report TruthReport
	if err := json.Unmarshal([]byte(get(t, ts.URL+"/truth")), &report); err != nil {
		t.Fatal(err)
	}
	if report.SimulatedSeconds != 600 || len(report.Models) != 2 {
		t.Fatalf("truth covers %v s and %d models, want 600 s and 2", report.SimulatedSeconds, len(report.Models))
	}
	for _, m := range report.Models {
		w := triton.Models[0].Truth().Window(0, 600*time.Second)
		if m.Model == "mistral-7b-instruct" && m.BusySeconds != w.BusySeconds {
			t.Errorf("busy %v, want %v", m.BusySeconds, w.BusySeconds)
		}
		if m.ObservedSeconds != 600 || m.RequestsCompleted == 0 || len(m.Gaps.Buckets) != 20 {
			t.Errorf("truth of %s: %+v", m.Model, m)
		}
	}
	resp, err := http.Post(ts.URL+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: status %d, want 405", resp.StatusCode)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

func TestExporterConfig(t *testing.T) {
	eps, err := LoadDemoFleet().Build(1, ".")
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for i := range eps {
		urls = append(urls, "http://127.0.0.1:"+string(rune('1'+i))+"000")
	}
	b, err := NewExporterConfig(eps, urls, time.Second).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `poll_interval: 1s
targets:
    - url: http://127.0.0.1:1000/metrics
      server: vllm
      strategy: always_on
      gpu: H100
      gpus_per_replica: 1
      labels:
        fleet: demo
    - url: http://127.0.0.1:2000/metrics
      server: sglang
      strategy: always_on
      gpu: H100
      gpus_per_replica: 1
      labels:
        fleet: demo
    - url: http://127.0.0.1:3000/metrics
      server: triton
      strategy: always_on
      gpu: L4
      gpus_per_replica: 1
      labels:
        fleet: demo
    - url: http://127.0.0.1:4000/metrics
      server: tgi
      model: phi-3-mini-4k-instruct
      strategy: serverless
      gpu: L4
      gpus_per_replica: 1
      labels:
        fleet: demo
    - url: http://127.0.0.1:5000/metrics
      server: llamacpp
      model: gemma-2-2b-it
      strategy: serverless
      gpu: L4
      gpus_per_replica: 1
      labels:
        fleet: demo
`
	if string(b) != want {
		t.Errorf("exporter config:\n%s\nwant:\n%s", b, want)
	}
}
