// Package config reads the exporter's YAML configuration: which inference
// servers to poll, how often, and how each model is deployed today. Decoding
// is strict: an unknown key is an error, and every error names the file, the
// line and the fix.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Defaults for keys the file leaves out.
const (
	// DefaultPollInterval is the time between two polls of a target. The
	// accuracy benchmark (docs/accuracy.md) chose it: the largest interval
	// that keeps the duty cycle within 0.5 percentage points of the truth.
	DefaultPollInterval = time.Second
	// DefaultMaxConcurrentPolls bounds the polls in flight at once.
	DefaultMaxConcurrentPolls = 32
	// DefaultMaxResponseBytes caps the size of a target's page. The largest
	// real pages seen are ~40 KB (vLLM V1 with one engine).
	DefaultMaxResponseBytes = 8 << 20
)

// DefaultScaleDownWindows are the what-if scale-down windows simulated on each
// model's cheapest serverless offer, in seconds: RunPod's default 5 s,
// Knative's 30 s, Modal's 60 s, KEDA's and Koyeb's 300 s, Baseten's 900 s.
var DefaultScaleDownWindows = []time.Duration{
	5 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute,
}

// KnownServers are the values `server:` accepts, one per adapter.
var KnownServers = []string{"llamacpp", "sglang", "tgi", "triton", "trtllm", "vllm"}

// Strategies are the values `strategy:` accepts.
var Strategies = []string{"always_on", "serverless", "unknown"}

// ReservedLabels are label names the exporter sets itself; `labels:` may not
// use them.
var ReservedLabels = []string{
	"gpu", "gpus_per_replica", "le", "model", "offer", "reason", "scale_to_zero",
	"server", "strategy", "target", "unit", "window",
}

// Config is the whole configuration file.
type Config struct {
	// PollInterval is the time between two polls of each target.
	PollInterval Duration `yaml:"poll_interval"`
	// PollTimeout bounds one poll, from connecting to reading the last byte.
	PollTimeout Duration `yaml:"poll_timeout"`
	// MaxConcurrentPolls bounds how many polls run at once across targets.
	MaxConcurrentPolls int `yaml:"max_concurrent_polls"`
	// MaxResponseSize caps a page's size; a larger page is an error.
	MaxResponseSize Bytes `yaml:"max_response_size"`
	// ScaleDownWindows are the what-if windows simulated on each model's
	// cheapest serverless offer.
	ScaleDownWindows []Duration `yaml:"scale_down_windows"`
	// Targets are the inference servers to poll.
	Targets []*Target `yaml:"targets"`

	// File is the path the configuration was read from.
	File string `yaml:"-"`
}

// Settings describe how a model is deployed today and what to compare it
// with. A target carries them for all its models; `models:` can override
// them per model.
type Settings struct {
	// Strategy is how the model is deployed today: always_on, serverless or unknown.
	Strategy string `yaml:"strategy"`
	// GPU is the GPU type, as named in the price catalog (H100, L4, ...).
	GPU string `yaml:"gpu"`
	// GPUsPerReplica is the number of GPUs one replica of the model uses.
	GPUsPerReplica int `yaml:"gpus_per_replica"`
	// Replicas is the number of always-on replicas the deployment runs.
	Replicas int `yaml:"replicas"`
	// ServerlessOffers are the catalog ids of the serverless offers to
	// compare; empty means every catalog offer for the GPU type.
	ServerlessOffers []string `yaml:"serverless_offers"`
	// AlwaysOnOffer is the catalog id of the always-on offer to compare;
	// empty means the cheapest on-demand offer for the GPU type.
	AlwaysOnOffer string `yaml:"always_on_offer"`
	// MinContainers is the number of serverless containers kept warm at all times.
	MinContainers int `yaml:"min_containers"`
	// MaxConcurrencyPerReplica is the number of requests one serverless
	// replica serves at once before the platform starts another; 0 means
	// one replica serves any number.
	MaxConcurrencyPerReplica float64 `yaml:"max_concurrency_per_replica"`
}

// Target is one inference server endpoint.
type Target struct {
	// URL is the server's metrics page.
	URL string `yaml:"url"`
	// Server names the adapter; empty means detect it from the page.
	Server string `yaml:"server"`
	// Model names the model of servers whose metrics carry no model label
	// (TGI, llama.cpp). For servers that label models it keeps only that model.
	Model string `yaml:"model"`
	// Labels are added to every series of the target.
	Labels map[string]string `yaml:"labels"`
	// ScaleToZero says the target is scaled to zero when unreachable.
	ScaleToZero bool `yaml:"scale_to_zero"`

	Settings `yaml:",inline"`

	// Models override Settings per model, for servers that serve several.
	Models map[string]Settings `yaml:"models"`

	// Name is the value of the target label: the URL's host:port.
	Name string `yaml:"-"`
	// Display is the URL with any password replaced, for logs and errors.
	Display string `yaml:"-"`
	// Line is the line of the target in the file, for error messages.
	Line int `yaml:"-"`
}

// For returns the settings of one model of the target: the target's, with
// the model's overrides from `models:` on top.
func (t *Target) For(model string) Settings {
	s := t.Settings
	o, ok := t.Models[model]
	if !ok {
		return s
	}
	if o.Strategy != "" {
		s.Strategy = o.Strategy
	}
	if o.GPU != "" {
		s.GPU = o.GPU
	}
	if o.GPUsPerReplica != 0 {
		s.GPUsPerReplica = o.GPUsPerReplica
	}
	if o.Replicas != 0 {
		s.Replicas = o.Replicas
	}
	if o.ServerlessOffers != nil {
		s.ServerlessOffers = o.ServerlessOffers
	}
	if o.AlwaysOnOffer != "" {
		s.AlwaysOnOffer = o.AlwaysOnOffer
	}
	if o.MinContainers != 0 {
		s.MinContainers = o.MinContainers
	}
	if o.MaxConcurrencyPerReplica != 0 {
		s.MaxConcurrencyPerReplica = o.MaxConcurrencyPerReplica
	}
	return s
}

// ConfiguredModels returns the models the configuration names for the
// target: its `model`, or the keys of `models`, sorted.
func (t *Target) ConfiguredModels() []string {
	if t.Model != "" {
		return []string{t.Model}
	}
	names := make([]string, 0, len(t.Models))
	for m := range t.Models {
		names = append(names, m)
	}
	sort.Strings(names)
	return names
}

// Duration is a time span that YAML gives as a Prometheus duration string
// ("1s", "500ms", "1m30s").
type Duration time.Duration

// UnmarshalYAML reads a duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if strings.HasPrefix(n.Value, "-") {
		return &lineError{n.Line, n.Value, fmt.Sprintf("duration %s is negative (durations must be positive, e.g. 1s)", n.Value)}
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return &lineError{n.Line, n.Value, fmt.Sprintf("cannot read %q as a duration (write e.g. 1s, 500ms or 2m)", n.Value)}
	}
	*d = Duration(v)
	return nil
}

// String formats the duration the way the file writes it.
func (d Duration) String() string { return model.Duration(d).String() }

// Bytes is a size in bytes that YAML may give as a number or as a string
// with a unit ("8MiB", "512KB").
type Bytes int64

// UnmarshalYAML reads a size.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	var i int64
	if err := n.Decode(&i); err == nil {
		*b = Bytes(i)
		return nil
	}
	v, err := units.ParseStrictBytes(n.Value)
	if err != nil {
		return &lineError{n.Line, n.Value, fmt.Sprintf("cannot read %q as a size (write bytes, or a number with a unit such as 8MiB)", n.Value)}
	}
	*b = Bytes(v)
	return nil
}

// lineError is an error of a custom decoder, at a line.
type lineError struct {
	line  int
	value string
	msg   string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// Error is a configuration error at a place in a file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w (check --config.file)", err)
	}
	return Parse(data, path)
}

// Parse decodes and validates a configuration; file names it in errors.
func Parse(data []byte, file string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err, nil)
	}
	cfg := &Config{File: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err, &root)
	}
	p := positions{&root}
	for i, t := range cfg.Targets {
		if t == nil {
			return nil, &Error{file, p.target(i, ""), fmt.Sprintf("targets[%d] is empty (give it at least url:)", i)}
		}
		t.Line = p.target(i, "")
	}
	if err := cfg.defaults(); err != nil {
		return nil, &Error{File: file, Msg: err.Error()}
	}
	if err := cfg.validate(p); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Config) defaults() error {
	if c.PollInterval == 0 {
		c.PollInterval = Duration(DefaultPollInterval)
	}
	if c.PollTimeout == 0 {
		c.PollTimeout = c.PollInterval
	}
	if c.MaxConcurrentPolls == 0 {
		c.MaxConcurrentPolls = DefaultMaxConcurrentPolls
	}
	if c.MaxResponseSize == 0 {
		c.MaxResponseSize = DefaultMaxResponseBytes
	}
	if c.ScaleDownWindows == nil {
		for _, w := range DefaultScaleDownWindows {
			c.ScaleDownWindows = append(c.ScaleDownWindows, Duration(w))
		}
	}
	for _, t := range c.Targets {
		if t.Strategy == "" {
			t.Strategy = "unknown"
		}
		if t.GPUsPerReplica == 0 {
			t.GPUsPerReplica = 1
		}
		if t.Replicas == 0 {
			t.Replicas = 1
		}
	}
	return nil
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// validate checks the decoded configuration and returns every problem,
// each with its line, joined.
func (c *Config) validate(p positions) error {
	var errs []error
	f := c.File
	top := func(key, format string, a ...any) {
		errs = append(errs, &Error{f, p.top(key), fmt.Sprintf(format, a...)})
	}
	if c.PollInterval < Duration(100*time.Millisecond) {
		top("poll_interval", "poll_interval %s is too short: polling faster than every 100ms loads the inference servers for no gain in accuracy (use 1s)", c.PollInterval)
	}
	switch {
	case c.PollTimeout <= 0:
		top("poll_timeout", "poll_timeout must be positive (e.g. 1s)")
	case c.PollTimeout > c.PollInterval:
		top("poll_timeout", "poll_timeout %s is longer than poll_interval %s: a poll would still run when the next is due (make poll_timeout at most poll_interval)", c.PollTimeout, c.PollInterval)
	}
	if c.MaxConcurrentPolls < 0 {
		top("max_concurrent_polls", "max_concurrent_polls must be positive, got %d", c.MaxConcurrentPolls)
	}
	if c.MaxResponseSize < 1024 {
		top("max_response_size", "max_response_size %d bytes is too small for any metrics page (use 8MiB)", c.MaxResponseSize)
	}
	for i, w := range c.ScaleDownWindows {
		if w <= 0 || time.Duration(w)%time.Second != 0 {
			top("scale_down_windows", "scale_down_windows[%d] = %s: windows must be whole positive seconds (e.g. 60s)", i, w)
		}
	}
	seenURL := map[string]int{}
	seenName := map[string]int{}
	for i, t := range c.Targets {
		at := func(key, format string, a ...any) {
			errs = append(errs, &Error{f, p.target(i, key), fmt.Sprintf("targets[%d]: ", i) + fmt.Sprintf(format, a...)})
		}
		if c.validURL(t, at) {
			j, dup := seenURL[t.URL]
			if dup {
				at("url", "url %q is also targets[%d] (list each endpoint once)", t.Display, j)
			}
			seenURL[t.URL] = i
			key := t.Name + "\x00" + t.Model
			if j, ok := seenName[key]; ok && !dup {
				at("url", "targets[%d] and targets[%d] both have target label %q and the same model, so their series would collide (give each a different model:)", j, i, t.Name)
			}
			seenName[key] = i
		}
		if t.Server != "" && !slices.Contains(KnownServers, t.Server) {
			at("server", "unknown server %q (one of %s, or leave it out to detect it)", t.Server, strings.Join(KnownServers, ", "))
		}
		if t.Model != "" && len(t.Models) > 0 {
			at("models", "give either model: (one model) or models: (per-model settings), not both")
		}
		for _, k := range slices.Sorted(maps.Keys(t.Labels)) {
			v := t.Labels[k]
			switch {
			case !labelName.MatchString(k) || strings.HasPrefix(k, "__"):
				at("labels", "label name %q is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", k)
			case slices.Contains(ReservedLabels, k):
				at("labels", "label %q is set by the exporter itself; choose another name (reserved: %s)", k, strings.Join(ReservedLabels, ", "))
			case v == "":
				at("labels", "label %q has an empty value (give it a value or remove it)", k)
			}
		}
		validSettings(t.Settings, at)
		for _, name := range slices.Sorted(maps.Keys(t.Models)) {
			if name == "" {
				at("models", "a model name under models: is empty")
				continue
			}
			s := t.For(name)
			validSettings(s, func(key, format string, a ...any) {
				errs = append(errs, &Error{f, p.target(i, "models"), fmt.Sprintf("targets[%d].models[%q]: ", i, name) + fmt.Sprintf(format, a...)})
			})
		}
	}
	for _, n := range p.fractions() {
		errs = append(errs, &Error{f, n.Line, fmt.Sprintf("%s: %s is not a whole number (write a count such as 2)", n.key, n.value)})
	}
	return errors.Join(errs...)
}

// validURL checks a target's URL and sets its Name and Display.
func (c *Config) validURL(t *Target, at func(key, format string, a ...any)) bool {
	u, err := url.Parse(t.URL)
	switch {
	case t.URL == "":
		at("", "url is missing (e.g. url: http://10.0.0.5:8000/metrics)")
		return false
	case strings.ContainsAny(t.URL, " \t\n"):
		at("url", "url %q contains white space (remove it, or escape it as %%20 in a path)", redact(t.URL))
		return false
	case !strings.Contains(t.URL, "://"):
		at("url", "url %q has no scheme (write http://%s)", redact(t.URL), redact(t.URL))
		return false
	case err != nil:
		at("url", "url %q does not parse (check its host and port)", redact(t.URL))
		return false
	case u.Scheme != "http" && u.Scheme != "https":
		at("url", "url %q must start with http:// or https://", u.Redacted())
		return false
	case u.Host == "" || u.Hostname() == "":
		at("url", "url %q has no host", u.Redacted())
		return false
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			at("url", "url %q has port %s, outside 1-65535", u.Redacted(), port)
			return false
		}
	}
	t.Name = hostPort(u)
	t.Display = display(u)
	return true
}

var userinfo = regexp.MustCompile(`://([^/@:]*):[^/@]*@`)

// display returns the URL for logs: the password and the values of query
// parameters (tokens are often passed there) masked.
func display(u *url.URL) string {
	c := *u
	if q := c.Query(); len(q) > 0 {
		for k := range q {
			q[k] = []string{"xxxxx"}
		}
		c.RawQuery = q.Encode()
	}
	return c.Redacted()
}

// redact hides the password of a URL that may not parse.
func redact(raw string) string {
	return userinfo.ReplaceAllString(raw, "://$1:xxxxx@")
}

// validSettings checks one set of model settings; at records a problem.
func validSettings(s Settings, at func(key, format string, a ...any)) {
	if s.Strategy != "" && !slices.Contains(Strategies, s.Strategy) {
		at("strategy", "unknown strategy %q (one of %s)", s.Strategy, strings.Join(Strategies, ", "))
	}
	if s.GPUsPerReplica < 0 {
		at("gpus_per_replica", "gpus_per_replica must be at least 1, got %d", s.GPUsPerReplica)
	}
	if s.Replicas < 0 {
		at("replicas", "replicas must be at least 1, got %d", s.Replicas)
	}
	if s.MinContainers < 0 {
		at("min_containers", "min_containers must be 0 or more, got %d", s.MinContainers)
	}
	if s.MaxConcurrencyPerReplica < 0 {
		at("max_concurrency_per_replica", "max_concurrency_per_replica must be 0 (unlimited) or more, got %v", s.MaxConcurrencyPerReplica)
	}
	if s.GPU == "" && (len(s.ServerlessOffers) > 0 || s.AlwaysOnOffer != "" || s.MinContainers > 0 || s.MaxConcurrencyPerReplica > 0) {
		at("gpu", "cost settings are given but gpu: is not: set gpu: (a GPU type of the price catalog, e.g. H100) or the model gets no cost series")
	}
}

// hostPort returns the URL's host:port, with the scheme's default port
// when the URL gives none.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
