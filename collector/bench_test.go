package collector

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/placement-exporter/placement_exporter/collector/billing"
	"github.com/placement-exporter/placement_exporter/collector/timeline"
	"github.com/placement-exporter/placement_exporter/config"
)

var benchPages = []struct{ name, file string }{
	{"vllm-v1", "vllm-v1-via-dynamo-2026-01.txt"},
	{"triton", "triton-core-datadog-fixture.txt"},
}

// BenchmarkParsePage measures ParsePage against two baselines on the same
// page, so that results read as ratios: expfmt's TextParser (what most Go
// exporters use) and a plain textparse loop that builds every series'
// labels. "poll" adds detection and the adapter, the work of one poll.
func BenchmarkParsePage(b *testing.B) {
	for _, pg := range benchPages {
		body := readFixture(b, pg.file)
		b.Run(pg.name+"/ParsePage", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParsePage(body, textType); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(pg.name+"/poll", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := pollOnce(body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(pg.name+"/baseline-expfmt", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				parser := expfmt.NewTextParser(model.UTF8Validation)
				if _, err := parser.TextToMetricFamilies(bytes.NewReader(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(pg.name+"/baseline-textparse-labels", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := textparseLabels(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func pollOnce(body []byte) error {
	p, err := ParsePage(body, textType)
	if err != nil {
		return err
	}
	a, err := Detect(p)
	if err != nil {
		return err
	}
	_, err = a.Models(p, "")
	return err
}

// textparseLabels walks a page the straightforward way: the labels of
// every series.
func textparseLabels(body []byte) error {
	parser := textparse.NewPromParser(body, labels.NewSymbolTable(), false)
	var ls labels.Labels
	for {
		entry, err := parser.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if entry == textparse.EntrySeries {
			parser.Labels(&ls)
		}
	}
}

// BenchmarkParsePageSize parses pages of growing size (half the series
// read by the Triton adapter, each with its own model) and reports the
// time per series, which stays flat when parsing is linear.
func BenchmarkParsePageSize(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		body := tritonPage(n)
		b.Run(fmt.Sprintf("series=%d", 2*n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParsePage(body, textType); err != nil {
					b.Fatal(err)
				}
			}
			perSeries := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(2*n)
			b.ReportMetric(perSeries, "ns/series")
		})
	}
}

// tritonPage returns a page of n read series (one Triton model each) and
// n series no adapter reads.
func tritonPage(n int) []byte {
	var sb strings.Builder
	sb.WriteString("# TYPE nv_inference_request_success counter\n")
	for i := range n {
		fmt.Fprintf(&sb, "nv_inference_request_success{model=\"m%d\",version=\"1\"} %d\n", i, i)
	}
	sb.WriteString("# TYPE nv_gpu_utilization gauge\n")
	for i := range n {
		fmt.Fprintf(&sb, "nv_gpu_utilization{gpu_uuid=\"GPU-%d\"} 0.5\n", i)
	}
	return []byte(sb.String())
}

// BenchmarkScrape is the cost of one scrape of an exporter with 50 targets
// of one H100 model each, every model priced on the catalog's seven H100
// serverless offers and the what-if windows (about 90 series per model).
// Compare with BenchmarkScrapeBaseline: a registry holding as many plain
// gauges, the cost of exposing the same number of series at all.
func BenchmarkScrape(b *testing.B) {
	var cfg strings.Builder
	cfg.WriteString("targets:\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&cfg, "  - {url: http://10.0.0.%d:8000/metrics, gpu: H100, strategy: always_on, labels: {cluster: c%d}}\n", i, i%3)
	}
	c, err := config.Parse([]byte(cfg.String()), "bench.yml")
	if err != nil {
		b.Fatal(err)
	}
	e := New(Options{Manual: true})
	e.Apply(c, billing.DefaultCatalog())
	for _, t := range e.targets {
		t.mu.Lock()
		m := t.model("m")
		now := time.Unix(0, 0)
		for s := 0; s < 100; s++ {
			m.est.Observe(now.Add(time.Duration(s)*time.Second), timeline.Reading{
				Running: float64(s % 3 % 2), Completed: float64(s / 3), LatencySum: float64(s) / 4,
				LatencyCount: float64(s / 3), Present: timeline.FieldRunning | timeline.FieldCompleted | timeline.FieldLatency,
			})
		}
		t.mu.Unlock()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		series += len(mf.GetMetric())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(series), "series")
}

func BenchmarkScrapeBaseline(b *testing.B) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "baseline_series", Help: "A plain gauge."},
		[]string{"target", "model", "offer", "window"})
	for i := 0; i < 50*90; i++ {
		g.WithLabelValues(fmt.Sprintf("10.0.0.%d:8000", i/90), "m", fmt.Sprintf("o%d", i%90), "60").Set(float64(i))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(g)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
