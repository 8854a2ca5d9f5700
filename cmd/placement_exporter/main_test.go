package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixtureServer serves a real captured page from the collector's test data.
func fixtureServer(t *testing.T, name string) string {
	t.Helper()
	page, err := os.ReadFile(filepath.Join("..", "..", "collector", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(page)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the exporter with args until the test ends and returns its
// address and a function that stops it and returns its exit code.
func start(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append(args, "--web.listen-address="+addr), io.Discard, io.Discard)
	}()
	var once sync.Once
	code := -1
	stop := func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Error("the exporter did not stop within 10 s")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return addr, stop
}

// scrape returns the exporter's /metrics page once every want line is on
// it, or fails after a few seconds.
func scrape(t *testing.T, addr string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			missing := false
			for _, w := range want {
				if !strings.Contains(body, w) {
					missing = true
				}
			}
			if !missing {
				return body
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	return body
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "placement_exporter.yml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestServesRealPages(t *testing.T) {
	vllm := fixtureServer(t, "vllm-v1-via-dynamo-2026-01.txt")
	sglang := fixtureServer(t, "sglang-via-dynamo-2026-01.txt")
	tgi := fixtureServer(t, "tgi-datadog-fixture-excerpt.txt")
	triton := fixtureServer(t, "triton-core-datadog-fixture.txt")
	cfg := writeConfig(t, fmt.Sprintf(`
poll_interval: 200ms
targets:
  - {url: %s/metrics, gpu: H100, strategy: always_on}
  - {url: %s/metrics, gpu: A100-80GB}
  - {url: %s/metrics, model: mistral-7b, gpu: L4, strategy: serverless}
  - {url: %s/metrics, gpu: L40S}
`, vllm, sglang, tgi, triton))
	addr, stop := start(t, "--config.file="+cfg)

	host := func(u string) string { return strings.TrimPrefix(u, "http://") }
	want := []string{
		fmt.Sprintf(`placement_target_up{target=%q} 1`, host(vllm)),
		fmt.Sprintf(`placement_target_up{target=%q} 1`, host(sglang)),
		fmt.Sprintf(`placement_target_up{target=%q} 1`, host(tgi)),
		fmt.Sprintf(`placement_target_up{target=%q} 1`, host(triton)),
		fmt.Sprintf(`placement_model_info{gpu="H100",gpus_per_replica="1",model="Qwen/Qwen3-0.6B",server="vllm",strategy="always_on",target=%q} 1`, host(vllm)),
		fmt.Sprintf(`placement_model_info{gpu="A100-80GB",gpus_per_replica="1",model="Qwen/Qwen3-0.6B",server="sglang",strategy="unknown",target=%q} 1`, host(sglang)),
		fmt.Sprintf(`placement_model_info{gpu="L4",gpus_per_replica="1",model="mistral-7b",server="tgi",strategy="serverless",target=%q} 1`, host(tgi)),
		"placement_exporter_build_info{",
		"placement_exporter_config_last_reload_successful 1",
	}
	for _, m := range []string{"densenet_onnx", "inception_graphdef", "simple", "simple_dyna_sequence",
		"simple_identity", "simple_int8", "simple_sequence", "simple_string"} {
		want = append(want, fmt.Sprintf(`placement_model_observed_seconds_total{model=%q,target=%q}`, m, host(triton)))
	}
	scrape(t, addr, want...)

	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	landing, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(landing), "/metrics") || strings.Contains(string(landing), "/debug/pprof") {
		t.Errorf("the landing page must link /metrics and no profiling endpoint:\n%s", landing)
	}
	for path, code := range map[string]int{"/-/healthy": 200, "/-/ready": 200, "/": 200, "/-/reload": 405} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, code)
		}
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestReload(t *testing.T) {
	a := fixtureServer(t, "vllm-v1-via-dynamo-2026-01.txt")
	cfg := writeConfig(t, fmt.Sprintf("poll_interval: 200ms\ntargets:\n  - url: %s/metrics\n", a))
	addr, _ := start(t, "--config.file="+cfg)
	scrape(t, addr, "placement_target_up{")

	post := func() int {
		resp, err := http.Post("http://"+addr+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// A misspelt key: the reload fails and the last good configuration stays.
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("targets:\n  - urll: %s/metrics\n", a)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := post(); code != http.StatusInternalServerError {
		t.Errorf("bad reload: %d, want 500", code)
	}
	scrape(t, addr, "placement_exporter_config_last_reload_successful 0", "placement_target_up{")

	// A good file with a label: the target stays and gains the label.
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("targets:\n  - url: %s/metrics\n    labels: {team: x}\n", a)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := post(); code != http.StatusOK {
		t.Errorf("good reload: %d, want 200", code)
	}
	scrape(t, addr, "placement_exporter_config_last_reload_successful 1", `placement_target_up{target="`+strings.TrimPrefix(a, "http://")+`",team="x"} 1`)
}

func TestConfigCheck(t *testing.T) {
	good := writeConfig(t, "targets:\n  - {url: http://127.0.0.1:8000/metrics, gpu: H100}\n")
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"--config.file=" + good, "--config.check"}, &out, &errs); code != 0 {
		t.Errorf("exit %d, stderr %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "configuration OK (1 target,") {
		t.Errorf("stdout = %q", out.String())
	}

	bad := writeConfig(t, "targets:\n  - url: http://127.0.0.1:8000/metrics\n    gpu: H100\n    stratgy: always_on\n")
	out.Reset()
	errs.Reset()
	if code := run(context.Background(), []string{"--config.file=" + bad, "--config.check"}, &out, &errs); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if want := `unknown key "stratgy" in a target (did you mean "strategy"?`; !strings.Contains(errs.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, errs.String())
	}
}
