package collector

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/placement-exporter/placement_exporter/collector/billing"
	"github.com/placement-exporter/placement_exporter/config"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(s float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Unix(1_700_000_000, 0).Add(time.Duration(s * float64(time.Second)))
}

// pageServer serves whatever page the test last set.
type pageServer struct {
	*httptest.Server
	mu   sync.Mutex
	page string
}

func newPageServer(t *testing.T, page string) *pageServer {
	s := &pageServer{page: page}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, s.page)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *pageServer) set(page string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.page = page
}

func (s *pageServer) hostPort() string { return strings.TrimPrefix(s.URL, "http://") }

// vllmPage renders a minimal vLLM V1 page for model m.
func vllmPage(m string, running, waiting, success, latSum float64) string {
	return fmt.Sprintf(`# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="%[1]s"} %[2]v
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="%[1]s"} %[3]v
# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="%[1]s"} %[4]v
# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="%[1]s"} %[4]v
vllm:e2e_request_latency_seconds_count{engine="0",model_name="%[1]s"} %[4]v
vllm:e2e_request_latency_seconds_sum{engine="0",model_name="%[1]s"} %[5]v
`, m, running, waiting, success, latSum)
}

// newTestExporter returns a manually polled exporter for the given config.
func newTestExporter(t *testing.T, yaml string, logs *bytes.Buffer) (*Exporter, *fakeClock) {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	clock.Set(0)
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	e := New(Options{Manual: true, Now: clock.Now, Logger: logger})
	e.Apply(cfg, billing.DefaultCatalog())
	t.Cleanup(e.Stop)
	return e, clock
}

func TestExporterTimelineFromChangingPages(t *testing.T) {
	srv := newPageServer(t, vllmPage("m", 0, 0, 0, 0))
	e, clock := newTestExporter(t, fmt.Sprintf(`
targets:
  - url: %s/metrics
    labels: {team: search}
    strategy: always_on
    gpu: H100
`, srv.URL), nil)

	// One 0.7 s request is seen running at t=1 and has finished by t=2;
	// another of 0.4 s starts and finishes between t=12 and t=13.
	pages := map[int]string{
		1:  vllmPage("m", 1, 0, 0, 0),
		2:  vllmPage("m", 0, 0, 1, 0.7),
		13: vllmPage("m", 0, 0, 2, 1.1),
	}
	for s := 0; s <= 14; s++ {
		if p, ok := pages[s]; ok {
			srv.set(p)
		}
		clock.Set(float64(s))
		e.PollAll(context.Background())
	}

	// Busy: 0.7 + 0.4 = 1.1 s of 14 observed. The first request's 0.7 s is
	// split evenly over (0, 1] and (1, 2], so it ends at 1.35; the second
	// is placed mid-interval, 12.3 to 12.7. The gap between them is
	// 12.3 - 1.35 = 10.95 s, in the le="15" bucket. The last busy moment is
	// 12.7 s after the start.
	tl := `target="` + srv.hostPort() + `",team="search"`
	want := fmt.Sprintf(`
# HELP placement_model_requests_total Requests the model finished, from the server's completion counter (or latency histogram count), summed across server restarts.
# TYPE placement_model_requests_total counter
placement_model_requests_total{model="m",%[1]s} 2
# HELP placement_model_last_busy_timestamp_seconds Unix time at which the model was last estimated busy. 0 if never seen busy since the exporter started.
# TYPE placement_model_last_busy_timestamp_seconds gauge
placement_model_last_busy_timestamp_seconds{model="m",%[1]s} 1.7000000127e+09
# HELP placement_model_info How a model is deployed, from the exporter's configuration (strategy, gpu, gpus_per_replica) and the detected inference server (server). Always 1.
# TYPE placement_model_info gauge
placement_model_info{gpu="H100",gpus_per_replica="1",model="m",server="vllm",strategy="always_on",%[1]s} 1
# HELP placement_target_up 1 if the last poll of the target succeeded and its page was understood, 0 otherwise.
# TYPE placement_target_up gauge
placement_target_up{%[1]s} 1
`, tl)
	for name, v := range map[string]float64{
		"placement_model_busy_seconds_total":     1.1,
		"placement_model_observed_seconds_total": 14,
	} {
		if got := value(t, e, name, "model", "m"); !closeTo(got, v) {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	names := []string{
		"placement_model_requests_total", "placement_model_last_busy_timestamp_seconds",
		"placement_model_info", "placement_target_up",
	}
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	h := gatherHistogram(t, e, "placement_model_idle_gap_seconds")
	if h.GetSampleCount() != 1 || !closeTo(h.GetSampleSum(), 10.95) {
		t.Errorf("idle gaps: count %d sum %v, want 1 and 10.95", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 15 {
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
}

func closeTo(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func gatherHistogram(t *testing.T, c prometheus.Collector, name string) *dto.Histogram {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetHistogram()
		}
	}
	t.Fatalf("no single %s series", name)
	return nil
}

func TestExporterBadTargets(t *testing.T) {
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/metrics"
	}()
	block := make(chan struct{})
	defer close(block)
	handler := func(f func(w http.ResponseWriter)) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { f(w) }))
		t.Cleanup(s.Close)
		return s.URL + "/metrics"
	}
	hungSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	}))
	t.Cleanup(hungSrv.Close)
	hung := hungSrv.URL + "/metrics"
	var bigSent int64
	var bigMu sync.Mutex
	for _, tc := range []struct {
		name, url, reason, logged string
	}{
		{"unreachable", closed, ReasonUnreachable, "cannot connect"},
		{"timeout", hung, ReasonTimeout, "no complete answer within poll_timeout"},
		{"http 500", handler(func(w http.ResponseWriter) { http.Error(w, "boom", 500) }), ReasonHTTPStatus, "server answered 500 Internal Server Error"},
		{"html", handler(func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Welcome</body></html>\n")
		}), ReasonInvalidPage, "HTML"},
		{"truncated", handler(func(w http.ResponseWriter) {
			fmt.Fprint(w, strings.TrimSuffix(vllmPage("m", 0, 0, 3, 1.5), "\n")[:200])
		}), ReasonTruncated, "truncated"},
		{"cut connection", handler(func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "100000")
			fmt.Fprint(w, vllmPage("m", 0, 0, 3, 1.5))
		}), ReasonUnreachable, "connection closed before the page was complete"},
		{"50 MB page", handler(func(w http.ResponseWriter) {
			line := []byte("# filler comment that makes the page very large ................\n")
			for n := int64(0); n < 50<<20; n += int64(len(line)) {
				if _, err := w.Write(line); err != nil {
					break
				}
				bigMu.Lock()
				bigSent = n
				bigMu.Unlock()
			}
		}), ReasonTooLarge, "larger than max_response_size"},
		{"NaN", handler(func(w http.ResponseWriter) {
			fmt.Fprint(w, strings.Replace(vllmPage("m", 0, 0, 3, 1.5), "} 1.5", "} NaN", 1))
		}), ReasonInvalidValue, "NaN"},
		{"negative", handler(func(w http.ResponseWriter) { fmt.Fprint(w, vllmPage("m", -2, 0, 3, 1.5)) }), ReasonInvalidValue, "-2"},
		{"duplicate series", handler(func(w http.ResponseWriter) {
			p := vllmPage("m", 1, 0, 3, 1.5)
			fmt.Fprint(w, p+`vllm:num_requests_running{engine="0",model_name="m"} 1`+"\n")
		}), ReasonInvalidPage, "appears twice"},
		{"unknown server", handler(func(w http.ResponseWriter) {
			fmt.Fprint(w, "# TYPE http_requests_total counter\nhttp_requests_total 3\n")
		}), ReasonUnknownServer, "set server: explicitly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			e, clock := newTestExporter(t, fmt.Sprintf(`
poll_timeout: 300ms
max_response_size: 1MiB
targets:
  - url: %s
    model: m
`, tc.url), &logs)
			for s := 0; s < 3; s++ {
				clock.Set(float64(s))
				e.PollAll(context.Background())
			}
			target := strings.TrimSuffix(strings.TrimPrefix(tc.url, "http://"), "/metrics")
			want := fmt.Sprintf(`
# HELP placement_target_up 1 if the last poll of the target succeeded and its page was understood, 0 otherwise.
# TYPE placement_target_up gauge
placement_target_up{target=%q} 0
# HELP placement_model_observed_seconds_total Seconds of the model's timeline classified as busy or idle: time between two successful polls of its server. Divide busy by this, not by wall time, so that unobserved time never counts as idle.
# TYPE placement_model_observed_seconds_total counter
placement_model_observed_seconds_total{model="m",target=%q} 0
`, target, target)
			if err := testutil.CollectAndCompare(e, strings.NewReader(want),
				"placement_target_up", "placement_model_observed_seconds_total"); err != nil {
				t.Error(err)
			}
			if got := errorCount(t, e, tc.reason); got != 3 {
				t.Errorf("poll errors with reason %s = %v, want 3", tc.reason, got)
			}
			// One warning when the target turns bad, not one per poll.
			warns := strings.Count(logs.String(), "level=WARN")
			if warns != 1 || !strings.Contains(logs.String(), tc.logged) || !strings.Contains(logs.String(), target) {
				t.Errorf("want one warning naming the target and %q, got:\n%s", tc.logged, logs.String())
			}
		})
	}
	bigMu.Lock()
	defer bigMu.Unlock()
	if bigSent > 10<<20 {
		t.Errorf("the exporter read %d bytes of a 50 MB page; it must stop at max_response_size", bigSent)
	}
}

// errorCount returns placement_target_poll_errors_total for a reason.
func errorCount(t *testing.T, e *Exporter, reason string) float64 {
	t.Helper()
	return value(t, e, "placement_target_poll_errors_total", "reason", reason)
}

// value returns the value of the one series of a counter or gauge family
// with the label pair given, or -1.
func value(t *testing.T, e *Exporter, family, label, labelValue string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == labelValue {
					if m.GetCounter() != nil {
						return m.GetCounter().GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

func TestExporterScaleToZeroAndVanishingModel(t *testing.T) {
	srv := newPageServer(t, vllmPage("m", 0, 0, 0, 0))
	down := func() string {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/metrics"
	}()
	e, clock := newTestExporter(t, fmt.Sprintf(`
targets:
  - url: %s/metrics
  - url: %s
    model: sleeper
    scale_to_zero: true
`, srv.URL, down), nil)
	for s := 0; s <= 10; s++ {
		switch s {
		case 4:
			// The model leaves the page (the server now serves another).
			srv.set(vllmPage("other", 0, 0, 0, 0))
		case 7:
			srv.set(vllmPage("m", 0, 0, 0, 0))
		}
		clock.Set(float64(s))
		e.PollAll(context.Background())
	}
	// m: observed (0,3] and (7,10]; (3,7] unobserved. other: seen at 4, 5,
	// 6, gone from 7: observed (4,6], unobserved (6,10]. sleeper: the
	// unreachable scale-to-zero target is idle for all 10 s.
	want := fmt.Sprintf(`
# HELP placement_model_observed_seconds_total Seconds of the model's timeline classified as busy or idle: time between two successful polls of its server. Divide busy by this, not by wall time, so that unobserved time never counts as idle.
# TYPE placement_model_observed_seconds_total counter
placement_model_observed_seconds_total{model="m",target=%[1]q} 6
placement_model_observed_seconds_total{model="other",target=%[1]q} 2
placement_model_observed_seconds_total{model="sleeper",target=%[2]q} 10
# HELP placement_model_unobserved_seconds_total Seconds the model could not be seen: failed polls, or pages that did not list the model. Neither busy nor idle.
# TYPE placement_model_unobserved_seconds_total counter
placement_model_unobserved_seconds_total{model="m",target=%[1]q} 4
placement_model_unobserved_seconds_total{model="other",target=%[1]q} 4
placement_model_unobserved_seconds_total{model="sleeper",target=%[2]q} 0
`, srv.hostPort(), strings.TrimSuffix(strings.TrimPrefix(down, "http://"), "/metrics"))
	if err := testutil.CollectAndCompare(e, strings.NewReader(want),
		"placement_model_observed_seconds_total", "placement_model_unobserved_seconds_total"); err != nil {
		t.Error(err)
	}
}

func TestExporterReloadKeepsState(t *testing.T) {
	a := newPageServer(t, vllmPage("a", 1, 0, 0, 0))
	b := newPageServer(t, vllmPage("b", 0, 0, 0, 0))
	e, clock := newTestExporter(t, fmt.Sprintf("targets:\n  - url: %s/metrics\n  - url: %s/metrics\n", a.URL, b.URL), nil)
	for s := 0; s <= 3; s++ {
		clock.Set(float64(s))
		e.PollAll(context.Background())
	}
	// Keep a with a new label, drop b, add c.
	c := newPageServer(t, vllmPage("c", 0, 0, 0, 0))
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
targets:
  - url: %s/metrics
    labels: {cluster: x}
  - url: %s/metrics
`, a.URL, c.URL)), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	e.Apply(cfg, billing.DefaultCatalog())
	a.set(vllmPage("a", 0, 0, 1, 3.5))
	for s := 4; s <= 5; s++ {
		clock.Set(float64(s))
		e.PollAll(context.Background())
	}
	got := map[string]float64{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e)
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "placement_model_observed_seconds_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var model, cluster string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "model":
					model = l.GetValue()
				case "cluster":
					cluster = l.GetValue()
				}
			}
			got[model+"/"+cluster] = m.GetCounter().GetValue()
		}
	}
	// a kept its state: busy from 0 to 3.5 (a run held, then settled by the
	// idle poll at 4), 5 s observed, now with cluster="x". b is gone; c has
	// been polled at 4 and 5.
	want := map[string]float64{"a/x": 5, "c/": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("observed seconds = %v, want %v", got, want)
	}
}

func TestKnownServersMatchAdapters(t *testing.T) {
	names := AdapterNames()
	sort.Strings(names)
	if !reflect.DeepEqual(config.KnownServers, names) {
		t.Errorf("config.KnownServers = %v, adapters = %v", config.KnownServers, AdapterNames())
	}
}
