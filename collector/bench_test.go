package collector

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
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
