package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/placement-exporter/placement_exporter/rules"
)

// MetricsSource starts a server of exporter-shaped series on /metrics, stops
// it through t.Cleanup, and returns its host:port. The fake exporter is one;
// the real exporter polling fleetsim can be another.
type MetricsSource func(t *testing.T) string

// expectations is what the rules must derive from a source's fleet.
type expectations struct {
	recommended map[string]string // model to recommended option
	offer       map[string]string // model to the recommended option's offer
	misplaced   string            // the model PlacementModelShouldBeServerless must name
	labels      map[string]string // that alert's labels, exactly
	description []string          // parts of its description
}

// shortParams are the shipped rule parameters with every window and hold
// time shortened so that the alert fires within seconds: the base rate over
// 5 s, the 1h/1d/7d windows over 20/40/60 s, "for: 1d" and the other holds
// 10 s, everything evaluated every second. Names and thresholds stay.
func shortParams() rules.Params {
	p := rules.DefaultParams()
	p.Base.Range, p.Base.Interval = 5*time.Second, time.Second
	short := map[string]time.Duration{
		"1h": 20 * time.Second, "1d": 40 * time.Second, "7d": time.Minute,
	}
	for i := range p.Windows {
		p.Windows[i].Range, p.Windows[i].Interval = short[p.Windows[i].Name], time.Second
	}
	hold := 10 * time.Second
	p.PlacementFor, p.TargetDownFor, p.NotObservedFor = hold, hold, hold
	p.EvaluationInterval = time.Second
	return p
}

func TestMisplacedModelAlertReachesWebhook(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts Prometheus and Alertmanager")
	}
	run(t, fakeExporter, fakeExpectations)
}

// run starts the source, Alertmanager, a webhook and Prometheus, then checks
// the recommendation of every model and the alert for the misplaced one.
func run(t *testing.T, source MetricsSource, want expectations) {
	prometheus := binary(t, "E2E_PROMETHEUS", "/usr/bin/prometheus", "prometheus")
	alertmanager := binary(t, "E2E_ALERTMANAGER", "/usr/bin/prometheus-alertmanager",
		"prometheus-alertmanager")
	// The source may build binaries first; the deadline covers the wait for
	// rules and alerts, with room for a slow, shared CI machine.
	target := source(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	hook := newWebhook(t)

	amAddr := freeAddr(t)
	amConfig := writeFile(t, dir, "alertmanager.yml", fmt.Sprintf(`
route:
  receiver: default
  routes:
    - receiver: team
      matchers: ['alertname=~"Placement.*"']
      group_by: [alertname, cluster, model]
      group_wait: 1s
      group_interval: 1s
      repeat_interval: 1h
receivers:
  - name: default
  - name: team
    webhook_configs:
      - url: %s
`, hook.url))
	start(t, dir, "alertmanager", alertmanager, "--config.file="+amConfig,
		"--storage.path="+filepath.Join(dir, "alertmanager-data"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	waitReady(ctx, t, "alertmanager", "http://"+amAddr+"/-/ready")

	files, err := rules.Generate(shortParams())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, rules.RecordingFile, string(files.Recording))
	writeFile(t, dir, rules.AlertsFile, string(files.Alerts))
	promAddr := freeAddr(t)
	promConfig := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%s, %s]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: placement_exporter
    static_configs:
      - targets: [%q]
`, rules.RecordingFile, rules.AlertsFile, amAddr, target))
	start(t, dir, "prometheus", prometheus, "--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus-data"),
		"--web.listen-address="+promAddr)
	waitReady(ctx, t, "prometheus", "http://"+promAddr+"/-/ready")

	checkRecommendations(ctx, t, "http://"+promAddr, want)
	checkAlert(ctx, t, hook, want)
}

// checkRecommendations waits until the 7d recommendation series names the
// expected option and offer for every model, and nothing else.
func checkRecommendations(ctx context.Context, t *testing.T, prom string, want expectations) {
	t.Helper()
	// An expectation without an offer accepts any offer.
	describe := func(model, rec, offer string) string {
		if want.offer[model] == "" {
			return rec
		}
		return rec + " on " + offer
	}
	wantSet := map[string]string{}
	for model, rec := range want.recommended {
		wantSet[model] = describe(model, rec, want.offer[model])
	}
	var got map[string]string
	for {
		samples, err := query(ctx, prom, "model:placement_model_recommendation:rate7d")
		if err == nil {
			got = map[string]string{}
			for _, s := range samples {
				m := s.Metric["model"]
				got[m] = describe(m, s.Metric["recommended"], s.Metric["offer"])
			}
			if maps.Equal(got, wantSet) {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("recommendations: got %v (err %v), want %v%s", got, err, wantSet, ruleErrors(prom))
		case <-time.After(time.Second):
		}
	}
}

// checkAlert waits for the misplaced model's alert at the webhook and checks
// its labels and annotations; no other model may be reported misplaced.
func checkAlert(ctx context.Context, t *testing.T, hook *webhook, want expectations) {
	t.Helper()
	const name = "PlacementModelShouldBeServerless"
	a := hook.wait(ctx, t, func(a amAlert) bool {
		return a.Labels["alertname"] == name && a.Status == "firing"
	})

	if !reflect.DeepEqual(a.Labels, want.labels) {
		t.Errorf("%s labels = %v, want %v", name, a.Labels, want.labels)
	}
	if s, w := a.Annotations["summary"], "Model "+want.misplaced+
		" would cost less on serverless GPUs than on its always-on GPUs."; s != w {
		t.Errorf("summary = %q, want %q", s, w)
	}
	if u, w := a.Annotations["runbook_url"], "https://github.com/placement-exporter/placement_exporter/blob/main/"+
		"README.md#runbook-placementmodelshouldbeserverless"; u != w {
		t.Errorf("runbook_url = %q, want %q", u, w)
	}
	for _, part := range want.description {
		if !strings.Contains(a.Annotations["description"], part) {
			t.Errorf("description lacks %q:\n%s", part, a.Annotations["description"])
		}
	}
	for _, other := range hook.all() {
		if other.Labels["alertname"] == name && other.Labels["model"] != want.misplaced {
			t.Errorf("%s also fired for %s", name, other.Labels["model"])
		}
	}
}

// ruleErrors lists the rules Prometheus reports as failing, for a failure
// message; it is empty when there are none or the API cannot be read.
func ruleErrors(prom string) string {
	resp, err := http.Get(prom + "/api/v1/rules")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil {
		return ""
	}
	var b strings.Builder
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			if r.Health == "err" {
				fmt.Fprintf(&b, "\n  rule %s: %s", r.Name, r.LastError)
			}
		}
	}
	return b.String()
}

type sample struct {
	Metric map[string]string `json:"metric"`
}

// query runs an instant query against Prometheus's HTTP API.
func query(ctx context.Context, prom, q string) ([]sample, error) {
	u := prom + "/api/v1/query?query=" + url.QueryEscape(q)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, body.Error)
	}
	return body.Data.Result, nil
}

// amAlert is one alert of an Alertmanager webhook notification.
type amAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// webhook is an HTTP server that records the alerts Alertmanager posts.
type webhook struct {
	url    string
	mu     sync.Mutex
	alerts []amAlert
	notify chan struct{} // receives after each notification
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{notify: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []amAlert `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			t.Errorf("webhook: undecodable notification: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.alerts = append(h.alerts, msg.Alerts...)
		h.mu.Unlock()
		select {
		case h.notify <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/placement"
	return h
}

func (h *webhook) all() []amAlert {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]amAlert(nil), h.alerts...)
}

// wait returns the first alert received that match accepts, waiting for
// more notifications until ctx ends.
func (h *webhook) wait(ctx context.Context, t *testing.T, match func(amAlert) bool) amAlert {
	t.Helper()
	for {
		for _, a := range h.all() {
			if match(a) {
				return a
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no matching alert reached the webhook; received %v", h.all())
		case <-h.notify:
		}
	}
}
