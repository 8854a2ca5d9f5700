package collector

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// FuzzParsePage feeds arbitrary bytes to ParsePage and every adapter. It
// checks that nothing panics, that every error carries a known reason, and
// that no reading marks present a value that is NaN, infinite or negative.
func FuzzParsePage(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, false)
	}
	for _, tc := range adapterCases {
		f.Add([]byte(tc.page), false)
	}
	f.Add([]byte("# TYPE a counter\na_total{model_name=\"m\"} 1\n# EOF\n"), true)
	f.Add([]byte("vllm:num_requests_running{model_name=\"m\"} NaN\n"), false)
	f.Add([]byte("{\"tgi_queue_size\"} -1\n"), false)

	known := map[string]bool{
		ReasonInvalidPage: true, ReasonTruncated: true, ReasonNoMetrics: true,
		ReasonInvalidValue: true, ReasonUnknownServer: true,
	}
	f.Fuzz(func(t *testing.T, body []byte, om bool) {
		contentType := textType
		if om {
			contentType = omType
		}
		p, err := ParsePage(body, contentType)
		if err != nil {
			if r, ok := ErrorReason(err); !ok || !known[r] {
				t.Fatalf("error without a known reason: %v", err)
			}
			return
		}
		if _, err := Detect(p); err != nil {
			if r, _ := ErrorReason(err); r != ReasonUnknownServer {
				t.Fatalf("Detect error with reason %q: %v", r, err)
			}
		}
		for _, a := range adapters {
			for _, model := range []string{"", "m"} {
				models, err := a.Models(p, model)
				if err != nil {
					if r, _ := ErrorReason(err); r != ReasonInvalidValue {
						t.Fatalf("%s: error with reason %q: %v", a.Name(), r, err)
					}
					continue
				}
				for name, r := range models {
					checkReading(t, a.Name()+" "+name, r)
				}
			}
		}
	})
}

// checkReading fails if a present field of r is NaN, infinite or negative.
func checkReading(t *testing.T, what string, r timeline.Reading) {
	t.Helper()
	fields := []struct {
		f timeline.Field
		v []float64
	}{
		{timeline.FieldRunning, []float64{r.Running}},
		{timeline.FieldWaiting, []float64{r.Waiting}},
		{timeline.FieldCompleted, []float64{r.Completed}},
		{timeline.FieldLatency, []float64{r.LatencySum, r.LatencyCount}},
		{timeline.FieldProcessing, []float64{r.ProcessingSeconds}},
		{timeline.FieldPromptTokens, []float64{r.PromptTokens}},
		{timeline.FieldGenerationTokens, []float64{r.GenerationTokens}},
		{timeline.FieldKVCache, []float64{r.KVCacheUsage}},
	}
	for _, fv := range fields {
		if !r.Present.Has(fv.f) {
			continue
		}
		for _, v := range fv.v {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("%s: field %b has value %v in %+v", what, fv.f, v, r)
			}
		}
	}
}
