package fleetsim

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// fixtures names the captured pages each format is compared with.
var fixtures = map[string][]string{
	"vllm":     {"vllm-v1-via-dynamo-2026-01.txt"},
	"vllm-v0":  {"vllm-v0-aibrix-runtime-doc.txt"},
	"sglang":   {"sglang-via-dynamo-2026-01.txt"},
	"tgi":      {"tgi-datadog-fixture-excerpt.txt", "tgi-datadog-payload-token-histograms.txt"},
	"triton":   {"triton-core-datadog-fixture.txt"},
	"llamacpp": {"llamacpp-a2df2787-commit-msg-fragment.txt"},
	"trtllm":   {"trtllm-via-dynamo-2026-01.txt"},
}

// refFamily describes a family that no capture contains, from the server's
// source code.
type refFamily struct {
	typ     dto.MetricType
	labels  string // sorted label names, comma-separated, without le
	buckets []float64
}

// documented lists the families the simulator emits beyond the captures.
var documented = map[string]map[string]refFamily{
	// vLLM V0 engine/metrics.py (v0.10): labels model_name; seconds buckets
	// as TensorRT-LLM's collector copied them (NVIDIA/TensorRT-LLM @
	// 050f80de tensorrt_llm/metrics/collector.py); token buckets 1-2-5 up to
	// the context length, as in the V1 capture.
	"vllm-v0": {
		"vllm:time_to_first_token_seconds":    {dto.MetricType_HISTOGRAM, "model_name", vllmTTFTSeconds},
		"vllm:e2e_request_latency_seconds":    {dto.MetricType_HISTOGRAM, "model_name", vllmRequestSeconds},
		"vllm:request_queue_time_seconds":     {dto.MetricType_HISTOGRAM, "model_name", vllmRequestSeconds},
		"vllm:request_inference_time_seconds": {dto.MetricType_HISTOGRAM, "model_name", vllmRequestSeconds},
		"vllm:request_prompt_tokens":          {dto.MetricType_HISTOGRAM, "model_name", vllmTokens},
		"vllm:request_generation_tokens":      {dto.MetricType_HISTOGRAM, "model_name", vllmTokens},
	},
	// llama.cpp tools/server metrics handler: no labels; the seconds and
	// token totals are counters, n_busy_slots_per_decode is typed counter
	// although it is an average.
	"llamacpp": {
		"llamacpp:prompt_tokens_total":            {typ: dto.MetricType_COUNTER},
		"llamacpp:prompt_seconds_total":           {typ: dto.MetricType_COUNTER},
		"llamacpp:tokens_predicted_total":         {typ: dto.MetricType_COUNTER},
		"llamacpp:tokens_predicted_seconds_total": {typ: dto.MetricType_COUNTER},
		"llamacpp:n_decode_total":                 {typ: dto.MetricType_COUNTER},
		"llamacpp:n_busy_slots_per_decode":        {typ: dto.MetricType_COUNTER},
		"llamacpp:prompt_tokens_seconds":          {typ: dto.MetricType_GAUGE},
		"llamacpp:predicted_tokens_seconds":       {typ: dto.MetricType_GAUGE},
	},
	// TensorRT-LLM MetricsCollector (NVIDIA/TensorRT-LLM @ 050f80de):
	// labels engine_type, model_name.
	"trtllm": {
		"trtllm_prompt_tokens_total":          {typ: dto.MetricType_COUNTER, labels: "engine_type,model_name"},
		"trtllm_generation_tokens_total":      {typ: dto.MetricType_COUNTER, labels: "engine_type,model_name"},
		"trtllm_num_requests_completed_total": {typ: dto.MetricType_COUNTER, labels: "engine_type,model_name"},
		"trtllm_kv_cache_utilization":         {typ: dto.MetricType_GAUGE, labels: "engine_type,model_name"},
		"trtllm_num_requests_running":         {typ: dto.MetricType_GAUGE, labels: "engine_type,model_name"},
		"trtllm_num_requests_waiting":         {typ: dto.MetricType_GAUGE, labels: "engine_type,model_name"},
	},
}

// required lists, per format, the families a duty-cycle exporter reads
// (research/metrics-catalog.md, "Signals for duty cycle").
var required = map[string][]string{
	"vllm": {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:request_success_total",
		"vllm:e2e_request_latency_seconds", "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
		"vllm:kv_cache_usage_perc"},
	"vllm-v0": {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:request_success_total",
		"vllm:e2e_request_latency_seconds", "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
		"vllm:gpu_cache_usage_perc"},
	"sglang": {"sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:num_requests_total",
		"sglang:e2e_request_latency_seconds", "sglang:prompt_tokens_total", "sglang:generation_tokens_total",
		"sglang:token_usage"},
	"tgi": {"tgi_batch_current_size", "tgi_queue_size", "tgi_request_success", "tgi_request_duration",
		"tgi_request_input_length", "tgi_request_generated_tokens", "tgi_batch_inference_count",
		"tgi_request_inference_duration"},
	"triton": {"nv_inference_pending_request_count", "nv_inference_request_success", "nv_inference_exec_count",
		"nv_inference_request_duration_us", "nv_inference_compute_infer_duration_us"},
	"llamacpp": {"llamacpp:requests_processing", "llamacpp:requests_deferred", "llamacpp:prompt_tokens_total",
		"llamacpp:tokens_predicted_total", "llamacpp:prompt_seconds_total",
		"llamacpp:tokens_predicted_seconds_total", "llamacpp:n_decode_total"},
	"trtllm": {"trtllm_num_requests_running", "trtllm_num_requests_waiting", "trtllm_request_success_total",
		"trtllm_e2e_request_latency_seconds", "trtllm_prompt_tokens_total", "trtllm_generation_tokens_total",
		"trtllm_kv_cache_utilization"},
}

func parsePage(t *testing.T, name string, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fams
}

func loadFixture(t *testing.T, format string) map[string]*dto.MetricFamily {
	t.Helper()
	all := map[string]*dto.MetricFamily{}
	for _, f := range fixtures[format] {
		b, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for n, fam := range parsePage(t, f, b) {
			all[n] = fam
		}
	}
	return all
}

// labelNames returns the sorted label names of a series, without le and quantile.
func labelNames(m *dto.Metric) string {
	var names []string
	for _, l := range m.GetLabel() {
		if n := l.GetName(); n != "le" && n != "quantile" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func bounds(m *dto.Metric) []float64 {
	var out []float64
	for _, b := range m.GetHistogram().GetBucket() {
		if !math.IsInf(b.GetUpperBound(), 1) {
			out = append(out, b.GetUpperBound())
		}
	}
	return out
}

// busyFleet returns the models of one endpoint of the format, advanced to a
// moment with requests running and waiting.
func busyFleet(t *testing.T, f *Format) []*ModelSim {
	t.Helper()
	n := 1
	if f.MultiModel {
		n = 2
	}
	var models []*ModelSim
	for i := range n {
		tm := TokenModel{Prompt: LogNormal{Median: 300, Sigma: 0.5}, Output: LogNormal{Median: 120, Sigma: 0.5},
			MaxPrompt: 500, MaxOutput: 500}
		cfg := testConfig(2)
		cfg.Name = fmt.Sprintf("model-%d", i)
		m, err := NewModelSim(cfg, NewPoisson(2, tm, 3, cfg.Name), f.Layout)
		if err != nil {
			t.Fatal(err)
		}
		m.AdvanceTo(5 * time.Minute)
		if s := m.Stats(); s.Running == 0 || s.Waiting == 0 || s.Completed == 0 {
			t.Fatalf("test traffic too light: %+v", s)
		}
		models = append(models, m)
	}
	return models
}

func render(t *testing.T, f *Format, models []*ModelSim) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Render(&buf, models, time.Unix(1_768_264_339, 0)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFormatsMatchRealPages(t *testing.T) {
	for _, name := range FormatNames() {
		t.Run(name, func(t *testing.T) {
			f, _ := LookupFormat(name)
			real := loadFixture(t, name)
			sim := parsePage(t, "simulated "+name, render(t, f, busyFleet(t, f)))

			for _, r := range required[name] {
				if sim[r] == nil {
					t.Errorf("family %s is missing", r)
				}
			}
			for fname, fam := range sim {
				want, inCapture := real[fname]
				ref, documentedFam := documented[name][fname]
				base := strings.TrimSuffix(fname, "_created")
				switch {
				case inCapture:
					compareFamily(t, fname, fam, want)
				case documentedFam:
					if fam.GetType() != ref.typ {
						t.Errorf("%s: type %v, want %v", fname, fam.GetType(), ref.typ)
					}
					for _, m := range fam.GetMetric() {
						if got := labelNames(m); got != ref.labels {
							t.Errorf("%s: labels %q, want %q", fname, got, ref.labels)
						}
						if ref.buckets != nil && !slices.Equal(bounds(m), ref.buckets) {
							t.Errorf("%s: buckets %v, want %v", fname, bounds(m), ref.buckets)
						}
					}
				case base != fname && (real[base] != nil || real[base+"_total"] != nil ||
					documentedBase(name, base)):
					// A _created gauge of a family checked above, as
					// prometheus_client adds them.
					if fam.GetType() != dto.MetricType_GAUGE {
						t.Errorf("%s: type %v, want gauge", fname, fam.GetType())
					}
				default:
					t.Errorf("family %s is in no capture and not documented", fname)
				}
			}
		})
	}
}

func documentedBase(format, base string) bool {
	_, ok := documented[format][base+"_total"]
	return ok
}

// compareFamily checks type, label names and bucket layout against the capture.
func compareFamily(t *testing.T, name string, got, want *dto.MetricFamily) {
	t.Helper()
	if got.GetType() != want.GetType() {
		t.Errorf("%s: type %v, capture has %v", name, got.GetType(), want.GetType())
	}
	wantLabels := map[string]bool{}
	for _, m := range want.GetMetric() {
		wantLabels[labelNames(m)] = true
	}
	for _, m := range got.GetMetric() {
		if !wantLabels[labelNames(m)] {
			t.Errorf("%s: label names %q, capture has %v", name, labelNames(m), wantLabels)
		}
		if got.GetType() == dto.MetricType_HISTOGRAM {
			if wb := bounds(want.GetMetric()[0]); !slices.Equal(bounds(m), wb) {
				t.Errorf("%s: buckets %v, capture has %v", name, bounds(m), wb)
			}
		}
	}
}

func TestPagesAreConsistent(t *testing.T) {
	for _, name := range FormatNames() {
		t.Run(name, func(t *testing.T) {
			f, _ := LookupFormat(name)
			models := busyFleet(t, f)
			before := parsePage(t, "first", render(t, f, models))
			for _, m := range models {
				m.AdvanceTo(m.Now() + 90*time.Second)
			}
			after := parsePage(t, "second", render(t, f, models))

			for fname, fam := range after {
				for i, m := range fam.GetMetric() {
					if h := m.GetHistogram(); h != nil {
						var prev uint64
						for _, b := range h.GetBucket() {
							if b.GetCumulativeCount() < prev {
								t.Errorf("%s: buckets not cumulative", fname)
							}
							prev = b.GetCumulativeCount()
						}
						if prev != h.GetSampleCount() {
							t.Errorf("%s: +Inf bucket %d != count %d", fname, prev, h.GetSampleCount())
						}
					}
					if fam.GetType() != dto.MetricType_COUNTER && fam.GetType() != dto.MetricType_HISTOGRAM {
						continue
					}
					old := before[fname].GetMetric()[i]
					if valueOf(m) < valueOf(old) {
						t.Errorf("%s: counter went down from %v to %v", fname, valueOf(old), valueOf(m))
					}
				}
			}
		})
	}
}

func valueOf(m *dto.Metric) float64 {
	if h := m.GetHistogram(); h != nil {
		return float64(h.GetSampleCount())
	}
	return m.GetCounter().GetValue()
}

// pageValue sums the values of one sample name (a histogram's name_sum or
// name_count included) over the series of a model (all series if model is "").
func pageValue(fams map[string]*dto.MetricFamily, sample, model string) (float64, bool) {
	fname, part := sample, ""
	for _, suffix := range []string{"_sum", "_count"} {
		if f := fams[strings.TrimSuffix(sample, suffix)]; strings.HasSuffix(sample, suffix) && f != nil &&
			f.GetType() == dto.MetricType_HISTOGRAM {
			fname, part = strings.TrimSuffix(sample, suffix), suffix
		}
	}
	fam := fams[fname]
	if fam == nil {
		return 0, false
	}
	total := 0.0
	for _, m := range fam.GetMetric() {
		if model != "" && !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
			return (l.GetName() == "model" || l.GetName() == "model_name") && l.GetValue() == model
		}) {
			continue
		}
		switch {
		case part == "_sum":
			total += m.GetHistogram().GetSampleSum()
		case part == "_count":
			total += float64(m.GetHistogram().GetSampleCount())
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		default:
			total += m.GetGauge().GetValue()
		}
	}
	return total, true
}

// readingSources maps each Reading field to the page sample that carries it,
// per format; scale converts the page's unit (Triton's µs) to the field's.
var readingSources = map[string]map[timeline.Field]struct {
	sample string
	scale  float64
}{
	"vllm": {
		timeline.FieldRunning:          {"vllm:num_requests_running", 1},
		timeline.FieldWaiting:          {"vllm:num_requests_waiting", 1},
		timeline.FieldCompleted:        {"vllm:request_success_total", 1},
		timeline.FieldLatency:          {"vllm:e2e_request_latency_seconds_sum", 1},
		timeline.FieldPromptTokens:     {"vllm:prompt_tokens_total", 1},
		timeline.FieldGenerationTokens: {"vllm:generation_tokens_total", 1},
		timeline.FieldKVCache:          {"vllm:kv_cache_usage_perc", 1},
	},
	"vllm-v0": {
		timeline.FieldRunning:          {"vllm:num_requests_running", 1},
		timeline.FieldWaiting:          {"vllm:num_requests_waiting", 1},
		timeline.FieldCompleted:        {"vllm:request_success_total", 1},
		timeline.FieldLatency:          {"vllm:e2e_request_latency_seconds_sum", 1},
		timeline.FieldPromptTokens:     {"vllm:prompt_tokens_total", 1},
		timeline.FieldGenerationTokens: {"vllm:generation_tokens_total", 1},
		timeline.FieldKVCache:          {"vllm:gpu_cache_usage_perc", 1},
	},
	"sglang": {
		timeline.FieldRunning:          {"sglang:num_running_reqs", 1},
		timeline.FieldWaiting:          {"sglang:num_queue_reqs", 1},
		timeline.FieldCompleted:        {"sglang:num_requests_total", 1},
		timeline.FieldLatency:          {"sglang:e2e_request_latency_seconds_sum", 1},
		timeline.FieldPromptTokens:     {"sglang:prompt_tokens_total", 1},
		timeline.FieldGenerationTokens: {"sglang:generation_tokens_total", 1},
		timeline.FieldKVCache:          {"sglang:token_usage", 1},
	},
	"tgi": {
		timeline.FieldRunning:          {"tgi_batch_current_size", 1},
		timeline.FieldWaiting:          {"tgi_queue_size", 1},
		timeline.FieldCompleted:        {"tgi_request_success", 1},
		timeline.FieldLatency:          {"tgi_request_duration_sum", 1},
		timeline.FieldProcessing:       {"tgi_request_inference_duration_sum", 1},
		timeline.FieldPromptTokens:     {"tgi_request_input_length_sum", 1},
		timeline.FieldGenerationTokens: {"tgi_request_generated_tokens_sum", 1},
	},
	"triton": {
		timeline.FieldWaiting:    {"nv_inference_pending_request_count", 1},
		timeline.FieldCompleted:  {"nv_inference_request_success", 1},
		timeline.FieldLatency:    {"nv_inference_request_duration_us", 1e-6},
		timeline.FieldProcessing: {"nv_inference_compute_infer_duration_us", 1e-6},
	},
	"llamacpp": {
		timeline.FieldRunning:          {"llamacpp:requests_processing", 1},
		timeline.FieldWaiting:          {"llamacpp:requests_deferred", 1},
		timeline.FieldPromptTokens:     {"llamacpp:prompt_tokens_total", 1},
		timeline.FieldGenerationTokens: {"llamacpp:tokens_predicted_total", 1},
	},
	"trtllm": {
		timeline.FieldRunning:          {"trtllm_num_requests_running", 1},
		timeline.FieldWaiting:          {"trtllm_num_requests_waiting", 1},
		timeline.FieldCompleted:        {"trtllm_num_requests_completed_total", 1},
		timeline.FieldLatency:          {"trtllm_e2e_request_latency_seconds_sum", 1},
		timeline.FieldPromptTokens:     {"trtllm_prompt_tokens_total", 1},
		timeline.FieldGenerationTokens: {"trtllm_generation_tokens_total", 1},
		timeline.FieldKVCache:          {"trtllm_kv_cache_utilization", 1},
	},
}

func readingField(r timeline.Reading, f timeline.Field) float64 {
	return map[timeline.Field]float64{
		timeline.FieldRunning: r.Running, timeline.FieldWaiting: r.Waiting, timeline.FieldCompleted: r.Completed,
		timeline.FieldLatency: r.LatencySum, timeline.FieldProcessing: r.ProcessingSeconds,
		timeline.FieldPromptTokens: r.PromptTokens, timeline.FieldGenerationTokens: r.GenerationTokens,
		timeline.FieldKVCache: r.KVCacheUsage,
	}[f]
}

func TestPageValuesMatchExpectedReading(t *testing.T) {
	for _, name := range FormatNames() {
		t.Run(name, func(t *testing.T) {
			f, _ := LookupFormat(name)
			models := busyFleet(t, f)
			fams := parsePage(t, name, render(t, f, models))
			for _, m := range models {
				want := f.Expected(m)
				model := ""
				if f.NamesModel {
					model = m.Name()
				}
				for field, src := range readingSources[name] {
					if !want.Present.Has(field) {
						t.Errorf("%s: expected reading lacks field %b", src.sample, field)
						continue
					}
					got, ok := pageValue(fams, src.sample, model)
					if !ok {
						t.Errorf("%s: not on the page", src.sample)
						continue
					}
					if w := readingField(want, field); math.Abs(got*src.scale-w) > 1e-9*math.Max(1, w) {
						t.Errorf("%s = %v, want %v", src.sample, got*src.scale, w)
					}
				}
			}
		})
	}
}

func TestPythonNumbers(t *testing.T) {
	p := page{style: pythonStyle}
	for v, want := range map[float64]string{
		2: "2.0", 0.3: "0.3", 1.7682643398898673e+09: "1.7682643398898673e+09",
		1.883227378129959e-05: "1.883227378129959e-05", 1e16: "1e+16", 0: "0.0",
		1234567: "1.234567e+06", 20000: "20000.0", 12345678901: "1.2345678901e+010", -1: "-1.0",
	} {
		if got := p.num(v); got != want {
			t.Errorf("num(%v) = %s, want %s", v, got, want)
		}
	}
	if got := (&page{style: plainStyle}).num(109); got != strconv.Itoa(109) {
		t.Errorf("plain 109 = %s", got)
	}
}
