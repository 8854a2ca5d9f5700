package collector

import (
	"slices"
	"testing"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

const (
	textType = "text/plain; version=0.0.4; charset=utf-8"
	omType   = "application/openmetrics-text; version=1.0.0; charset=utf-8"
)

func TestParsePageErrors(t *testing.T) {
	const (
		htmlMsg = "got an HTML page, not Prometheus metrics (check the URL path, usually /metrics)"
		hint    = "(check that the server has metrics enabled: " +
			"--enable-metrics for SGLang, --metrics for llama.cpp)"
		cutMsg = "page ends in the middle of line 2: the response was cut off " +
			"(a dropped connection or a size limit)"
		jsonMsg = "got a JSON page, not Prometheus metrics (check the URL path: " +
			"/metrics on most servers, /prometheus/metrics on trtllm-serve)"
		dupSuffix = " (its value is ambiguous; check that one process writes this page)"
		textHint  = " (the page is not valid Prometheus text format; " +
			"check that the URL is the server's metrics endpoint)"
	)
	cases := []struct {
		name, body, contentType string
		reason, msg             string
	}{
		{
			name:   "html",
			body:   "\n  <!DOCTYPE html><html><body>Not Found</body></html>\n",
			reason: ReasonInvalidPage, msg: htmlMsg,
		},
		{
			name: "html content type", body: "Moved\n", contentType: "text/html; charset=utf-8",
			reason: ReasonInvalidPage, msg: htmlMsg,
		},
		{
			name:   "json",
			body:   `[{"iter": 1, "numActiveRequests": 0}]` + "\n",
			reason: ReasonInvalidPage, msg: jsonMsg,
		},
		{
			name: "json content type", body: `{"error": "metrics disabled"}` + "\n", contentType: "application/json",
			reason: ReasonInvalidPage, msg: jsonMsg,
		},
		{
			// A gzip stream delivered without Content-Encoding.
			name: "binary", body: "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff",
			reason: ReasonInvalidPage, msg: "got binary data, not Prometheus metrics " +
				"(check the URL; a proxy may be sending a compressed body without saying so)",
		},
		{
			name: "protobuf", body: "\x0a\x0dgo_goroutines\n",
			contentType: "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
			reason:      ReasonInvalidPage,
			msg: "got a protobuf page, not the Prometheus text format " +
				"(the exporter reads the text format only; check the URL)",
		},
		{name: "empty", contentType: textType, reason: ReasonNoMetrics, msg: "empty page " + hint},
		{name: "blank", body: " \n\n\t\n", contentType: textType, reason: ReasonNoMetrics, msg: "empty page " + hint},
		{
			name:   "comments only",
			body:   "# HELP vllm:num_requests_running Running.\n# TYPE vllm:num_requests_running gauge\n",
			reason: ReasonNoMetrics, msg: "page has no samples, only comments " + hint,
		},
		{
			name: "cut mid-line", body: "tgi_queue_size 0\ntgi_batch_current_si", contentType: textType,
			reason: ReasonTruncated, msg: cutMsg,
		},
		{
			name: "cut mid-value", body: "tgi_queue_size 0\ntgi_batch_current_size 1", contentType: textType,
			reason: ReasonTruncated, msg: cutMsg,
		},
		{
			name: "openmetrics without EOF", body: "# TYPE tgi_queue_size gauge\ntgi_queue_size 0\n", contentType: omType,
			reason: ReasonTruncated,
			msg: `OpenMetrics page does not end with "# EOF": the response was cut off ` +
				"(a dropped connection or a size limit)",
		},
		{
			// Blank lines are skipped when naming the line.
			name:   "syntax error",
			body:   "tgi_queue_size 0\n\n  \ntgi_batch_current_size{a=1} 2\n",
			reason: ReasonInvalidPage,
			msg: `line 4: expected label value, got "1" ("INVALID") while parsing: ` +
				`"tgi_batch_current_size{a=1"` + textHint,
		},
		{
			name: "syntax error on first line", body: "tgi_queue_size\n",
			reason: ReasonInvalidPage,
			msg:    `line 1: expected value after metric, got "\n" ("INVALID") while parsing: "tgi_queue_size\n"` + textHint,
		},
		{
			name: "syntax error after comment", body: "# a comment\n# HELP x y\nx 1 2 3\n",
			reason: ReasonInvalidPage,
			msg: `line 3: expected next entry after timestamp, got "3\n" ("TIMESTAMP") ` +
				`while parsing: "x 1 2 3\n"` + textHint,
		},
		{
			name: "openmetrics data after EOF", body: "a 1\n# EOF\nb 1\n", contentType: omType,
			reason: ReasonInvalidPage,
			msg: "line 2: unexpected data after # EOF (the page is not valid OpenMetrics; " +
				"check that the URL is the server's metrics endpoint)",
		},
		{
			name: "duplicate read series",
			body: "# TYPE vllm:num_requests_running gauge\n" +
				"vllm:num_requests_running{model_name=\"m\"} 1\n" +
				"vllm:num_requests_running{model_name=\"m\"} 2\n",
			reason: ReasonInvalidPage,
			msg:    `series vllm:num_requests_running{model_name="m"} appears twice, on lines 2 and 3` + dupSuffix,
		},
		{
			name: "duplicate read series, labels reordered",
			body: "vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"} 1\n" +
				"tgi_queue_size 0\n" +
				"vllm:num_requests_waiting{model_name=\"m\", engine=\"0\"} 2\n",
			reason: ReasonInvalidPage,
			msg: `series vllm:num_requests_waiting{engine="0", model_name="m"} appears twice, ` +
				"on lines 1 and 3" + dupSuffix,
		},
		{
			name:   "duplicate unread series",
			body:   "go_goroutines 8\nprocess_open_fds{a=\"b\"} 3\ngo_threads 2\nprocess_open_fds{a=\"b\"} 4\n",
			reason: ReasonInvalidPage,
			msg:    `series process_open_fds{a="b"} appears twice, on lines 2 and 4` + dupSuffix,
		},
		{
			name: "duplicate series without labels", body: "tgi_queue_size 0\ntgi_queue_size 0\n",
			reason: ReasonInvalidPage,
			msg:    "series tgi_queue_size appears twice, on lines 1 and 2" + dupSuffix,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePage([]byte(tc.body), tc.contentType)
			if err == nil {
				t.Fatalf("no error, page with families %q", p.Families())
			}
			if err.Error() != tc.msg {
				t.Errorf("error:\n got %s\nwant %s", err, tc.msg)
			}
			if r, ok := ErrorReason(err); !ok || r != tc.reason {
				t.Errorf("reason %q, want %q", r, tc.reason)
			}
		})
	}
}

// TestParsePageValid covers pages that must parse, and what they keep.
func TestParsePageValid(t *testing.T) {
	cases := []struct {
		name, body, contentType string
		families                []string
		samples                 int
	}{
		{
			// Same name, different labels: not a duplicate. Timestamps
			// are allowed and ignored.
			"distinct label sets", "vllm:num_requests_running{model_name=\"a\"} 1\n" +
				"vllm:num_requests_running{model_name=\"b\"} 2 1700000000000\n",
			"", []string{"vllm:num_requests_running"}, 2,
		},
		{
			"openmetrics", "# TYPE vllm:prompt_tokens counter\n# UNIT vllm:prompt_tokens tokens\n" +
				"vllm:prompt_tokens_total{model_name=\"m\"} 5.0\nvllm:prompt_tokens_created{model_name=\"m\"} 1.7e9\n# EOF\n",
			omType, []string{"vllm:prompt_tokens"}, 1,
		},
		{
			// NaN and negative values in series no adapter reads are kept
			// out of the page, not rejected.
			"unread invalid values", "vllm:gpu_prefix_cache_hit_rate{model_name=\"m\"} -1\nsglang:utilization NaN\n" +
				"go_gc_duration_seconds{quantile=\"0\"} +Inf\n",
			textType, []string{"go_gc_duration_seconds", "sglang:utilization", "vllm:gpu_prefix_cache_hit_rate"}, 0,
		},
		{
			// A name quoted inside the braces is read like any other.
			"quoted name", "{\"tgi_queue_size\"} 3\n{\"tgi_batch_current_size\", a=\"b\"} 1\n",
			"", []string{"tgi_batch_current_size", "tgi_queue_size"}, 2,
		},
		{
			// Series without metadata name their family without the suffix.
			"families without metadata", "llamacpp:prompt_tokens_total 5\nx_bucket{le=\"1\"} 1\nx_sum 2\nx_count 1\n",
			"", []string{"llamacpp:prompt_tokens", "x"}, 1,
		},
		{"no content type", "tgi_queue_size 0\n", "", []string{"tgi_queue_size"}, 1},
		{"unknown content type", "tgi_queue_size 0\n", "application/octet-stream", []string{"tgi_queue_size"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePage([]byte(tc.body), tc.contentType)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Families(); !slices.Equal(got, tc.families) {
				t.Errorf("families %q, want %q", got, tc.families)
			}
			if len(p.samples) != tc.samples {
				t.Errorf("%d samples kept, want %d", len(p.samples), tc.samples)
			}
		})
	}
}

// TestParsePageLarge parses a page of 200,000 series, half of them read,
// each with its own label set. The duplicate check and the label-set
// interning must stay near linear for this to finish quickly; the timing
// itself is in BenchmarkParsePageSize.
func TestParsePageLarge(t *testing.T) {
	const n = 100_000
	p, err := ParsePage(tritonPage(n), textType)
	if err != nil {
		t.Fatal(err)
	}
	got, err := triton{}.Models(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d models, want %d", len(got), n)
	}
	want := timeline.Reading{Completed: 77_777, Present: timeline.FieldCompleted}
	if r := got["m77777"]; r != want {
		t.Errorf("m77777: got %+v, want %+v", r, want)
	}
}
