package config

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestLoadGood(t *testing.T) {
	c, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.PollInterval != Duration(2*time.Second) || c.PollTimeout != Duration(1500*time.Millisecond) {
		t.Errorf("poll interval/timeout = %s/%s", c.PollInterval, c.PollTimeout)
	}
	if c.MaxConcurrentPolls != 8 || c.MaxResponseSize != 4<<20 {
		t.Errorf("max polls/size = %d/%d", c.MaxConcurrentPolls, c.MaxResponseSize)
	}
	if want := []Duration{Duration(10 * time.Second), Duration(time.Minute)}; !reflect.DeepEqual(c.ScaleDownWindows, want) {
		t.Errorf("windows = %v", c.ScaleDownWindows)
	}
	v := c.Targets[0]
	want := Settings{
		Strategy: "always_on", GPU: "H100", GPUsPerReplica: 2, Replicas: 3,
		ServerlessOffers: []string{"modal/H100", "runpod_serverless/H100"},
		AlwaysOnOffer:    "aws/p5.4xlarge", MinContainers: 1, MaxConcurrencyPerReplica: 16,
	}
	if !reflect.DeepEqual(v.Settings, want) {
		t.Errorf("settings = %+v, want %+v", v.Settings, want)
	}
	if v.Name != "10.0.0.5:8000" || v.Line != 8 || v.Labels["cluster"] != "eu-1" {
		t.Errorf("target name/line/labels = %q/%d/%v", v.Name, v.Line, v.Labels)
	}
	tgi := c.Targets[1]
	if tgi.Name != "tgi.internal:443" || !tgi.ScaleToZero || tgi.Model != "mistral-7b" {
		t.Errorf("tgi target = %+v", tgi)
	}
	if got := tgi.ConfiguredModels(); !reflect.DeepEqual(got, []string{"mistral-7b"}) {
		t.Errorf("configured models = %v", got)
	}
	triton := c.Targets[2]
	if got := triton.ConfiguredModels(); !reflect.DeepEqual(got, []string{"densenet_onnx", "resnet50"}) {
		t.Errorf("configured models = %v", got)
	}
	if s := triton.For("densenet_onnx"); s.Strategy != "serverless" || s.GPU != "L4" || s.Replicas != 1 {
		t.Errorf("densenet settings = %+v", s)
	}
	if s := triton.For("resnet50"); s.Strategy != "unknown" || s.GPU != "A100-80GB" || s.Replicas != 2 {
		t.Errorf("resnet50 settings = %+v", s)
	}
	if s := triton.For("other"); !reflect.DeepEqual(s, triton.Settings) {
		t.Errorf("other settings = %+v, want the target's %+v", s, triton.Settings)
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load("testdata/defaults.yml")
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.PollInterval) != DefaultPollInterval || c.PollTimeout != c.PollInterval {
		t.Errorf("interval/timeout = %s/%s", c.PollInterval, c.PollTimeout)
	}
	if c.MaxConcurrentPolls != DefaultMaxConcurrentPolls || c.MaxResponseSize != DefaultMaxResponseBytes {
		t.Errorf("max polls/size = %d/%d", c.MaxConcurrentPolls, c.MaxResponseSize)
	}
	if len(c.ScaleDownWindows) != 5 {
		t.Errorf("windows = %v", c.ScaleDownWindows)
	}
	s := c.Targets[0].Settings
	if s.Strategy != "unknown" || s.GPUsPerReplica != 1 || s.Replicas != 1 || s.MinContainers != 0 {
		t.Errorf("settings = %+v", s)
	}
	if c, err := Load("testdata/empty.yml"); err != nil || len(c.Targets) != 0 {
		t.Errorf("empty file: %v, %+v", err, c)
	}
}

func TestLoadErrors(t *testing.T) {
	for file, want := range map[string]string{
		"misspelt_key.yml":      `testdata/misspelt_key.yml:3: unknown key "modle" in a target (did you mean "model"? known keys: always_on_offer, gpu, gpus_per_replica, labels, max_concurrency_per_replica, min_containers, model, models, replicas, scale_to_zero, server, serverless_offers, strategy, url)`,
		"misspelt_top_key.yml":  `testdata/misspelt_top_key.yml:1: unknown key "poll_intervall" at the top level (did you mean "poll_interval"? known keys: max_concurrent_polls, max_response_size, poll_interval, poll_timeout, scale_down_windows, targets)`,
		"unknown_model_key.yml": `testdata/unknown_model_key.yml:4: unknown key "gpus" in a models: entry (did you mean "gpu"? known keys: always_on_offer, gpu, gpus_per_replica, max_concurrency_per_replica, min_containers, replicas, serverless_offers, strategy)`,
		"bad_type.yml":          `testdata/bad_type.yml:3: gpus_per_replica: cannot use "two" here: expected a whole number`,
		"bad_duration.yml":      `testdata/bad_duration.yml:1: poll_interval: cannot read "1 second" as a duration (write e.g. 1s, 500ms or 2m)`,
		"bad_size.yml":          `testdata/bad_size.yml:1: max_response_size: cannot read "lots" as a size (write bytes, or a number with a unit such as 8MiB)`,
		"short_interval.yml":    `testdata/short_interval.yml:1: poll_interval 10ms is too short: polling faster than every 100ms loads the inference servers for no gain in accuracy (use 1s)`,
		"bad_strategy.yml":      `testdata/bad_strategy.yml:3: targets[0]: unknown strategy "reserved" (one of always_on, serverless, unknown)`,
		"bad_server.yml":        `testdata/bad_server.yml:3: targets[0]: unknown server "ollama" (one of llamacpp, sglang, tgi, triton, trtllm, vllm, or leave it out to detect it)`,
		"missing_url.yml":       `testdata/missing_url.yml:2: targets[0]: url is missing (e.g. url: http://10.0.0.5:8000/metrics)`,
		"negative_duration.yml": `testdata/negative_duration.yml:1: poll_interval: duration -1s is negative (durations must be positive, e.g. 1s)`,
		"secret_in_url.yml":     `testdata/secret_in_url.yml:3: targets[1]: url "http://127.0.0.1:8000/metrics?token=xxxxx&x=xxxxx" is also targets[0] (list each endpoint once)`,
		"bad_url.yml":           `testdata/bad_url.yml:2: targets[0]: url "127.0.0.1:8000/metrics" has no scheme (write http://127.0.0.1:8000/metrics)`,
		"fractional_count.yml": "testdata/fractional_count.yml:4: replicas: 2.7 is not a whole number (write a count such as 2)\n" +
			"testdata/fractional_count.yml:5: gpus_per_replica: 1.9 is not a whole number (write a count such as 2)",
		"several_mistakes.yml": "testdata/several_mistakes.yml:2: poll_timeout 10m is longer than poll_interval 1s: a poll would still run when the next is due (make poll_timeout at most poll_interval)\n" +
			"testdata/several_mistakes.yml:4: targets[0]: url \"http://127.0.0.1:99999/metrics\" has port 99999, outside 1-65535\n" +
			"testdata/several_mistakes.yml:5: targets[1]: url \"http://admin:xxxxx@127.0.0.1:8000/metrics \" contains white space (remove it, or escape it as %20 in a path)\n" +
			"testdata/several_mistakes.yml:6: targets[2]: cost settings are given but gpu: is not: set gpu: (a GPU type of the price catalog, e.g. H100) or the model gets no cost series",
		"duplicate_url.yml":      `testdata/duplicate_url.yml:3: targets[1]: url "http://127.0.0.1:8000/metrics" is also targets[0] (list each endpoint once)`,
		"colliding_targets.yml":  `testdata/colliding_targets.yml:3: targets[1]: targets[0] and targets[1] both have target label "127.0.0.1:8080" and the same model, so their series would collide (give each a different model:)`,
		"reserved_label.yml":     `testdata/reserved_label.yml:3: targets[0]: label "model" is set by the exporter itself; choose another name (reserved: gpu, gpus_per_replica, le, model, offer, reason, scale_to_zero, server, strategy, target, unit, window)`,
		"bad_label_name.yml":     `testdata/bad_label_name.yml:3: targets[0]: label name "team-name" is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`,
		"model_and_models.yml":   `testdata/model_and_models.yml:4: targets[0]: give either model: (one model) or models: (per-model settings), not both`,
		"negative_replicas.yml":  `testdata/negative_replicas.yml:3: targets[0]: replicas must be at least 1, got -1`,
		"bad_model_override.yml": `testdata/bad_model_override.yml:3: targets[0].models["resnet"]: unknown strategy "sometimes" (one of always_on, serverless, unknown)`,
		"syntax.yml":             `testdata/syntax.yml:3: YAML syntax error: mapping values are not allowed in this context (check indentation and quoting)`,
		"bad_window.yml":         `testdata/bad_window.yml:1: scale_down_windows[1] = 1s500ms: windows must be whole positive seconds (e.g. 60s)`,
	} {
		t.Run(file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", file))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yml")
	want := "reading config: open testdata/nope.yml: no such file or directory (check --config.file)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestKnownKeysListEveryField(t *testing.T) {
	// The "known keys" hint must stay in step with the structs.
	got := yamlKeys(reflect.TypeOf(Target{}))
	if len(got) != 14 {
		t.Errorf("target keys = %v", got)
	}
}
