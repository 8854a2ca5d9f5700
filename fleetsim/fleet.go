package fleetsim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/placement-exporter/placement_exporter/internal/suggest"
)

// Duration is a YAML duration such as "250ms", "20s" or "3m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration (write it like 250ms, 20s or 3m)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// FleetFile is the fleet file: the simulated servers to start.
type FleetFile struct {
	// Servers are the simulated inference servers, one HTTP listener each.
	Servers []ServerSpec `yaml:"servers"`
}

// ServerSpec is one simulated inference server.
type ServerSpec struct {
	// Name identifies the server in logs and in the truth file.
	Name string `yaml:"name"`
	// Format is the exposition format it serves (see FormatNames).
	Format string `yaml:"format"`
	// Port is the TCP port on the listen host; 0 picks a free one.
	Port int `yaml:"port"`
	// Strategy, GPU, GPUsPerReplica and Labels are copied into the exporter
	// configuration written for the fleet.
	Strategy       string            `yaml:"strategy"`
	GPU            string            `yaml:"gpu"`
	GPUsPerReplica int               `yaml:"gpus_per_replica"`
	Labels         map[string]string `yaml:"labels"`
	// Models are the models it serves; only triton serves more than one.
	Models []ModelSpec `yaml:"models"`
	Line   int         `yaml:"-"`
}

// ModelSpec is one simulated model and its traffic.
type ModelSpec struct {
	Name                   string      `yaml:"name"`
	MaxConcurrency         int         `yaml:"max_concurrency"`
	PrefillTokensPerSecond float64     `yaml:"prefill_tokens_per_second"`
	TimePerOutputToken     Duration    `yaml:"time_per_output_token"`
	KVCapacityTokens       int         `yaml:"kv_capacity_tokens"`
	Traffic                TrafficSpec `yaml:"traffic"`
	Line                   int         `yaml:"-"`
}

// TrafficSpec describes a model's requests. Kind selects which other keys
// apply: poisson (rate), bursts (rate, on, off, start_quiet), daily (trough,
// peak, peak_at, compression) or trace (path, keep, time_scale, loop).
// Synthetic kinds draw tokens from prompt_tokens and output_tokens.
type TrafficSpec struct {
	Kind         string        `yaml:"kind"`
	Rate         float64       `yaml:"rate"`
	On           *DurationDist `yaml:"on"`
	Off          *DurationDist `yaml:"off"`
	StartQuiet   bool          `yaml:"start_quiet"`
	Trough       float64       `yaml:"trough"`
	Peak         float64       `yaml:"peak"`
	PeakAt       Duration      `yaml:"peak_at"`
	Compression  float64       `yaml:"compression"`
	Path         string        `yaml:"path"`
	Keep         float64       `yaml:"keep"`
	TimeScale    float64       `yaml:"time_scale"`
	Loop         bool          `yaml:"loop"`
	PromptTokens *TokenDist    `yaml:"prompt_tokens"`
	OutputTokens *TokenDist    `yaml:"output_tokens"`
	Line         int           `yaml:"-"`
}

// TokenDist is a token count distribution: fixed (value), uniform (min,
// max), exponential (mean) or lognormal (median, sigma); max also caps
// draws of the other kinds.
type TokenDist struct {
	Dist   string  `yaml:"dist"`
	Value  float64 `yaml:"value"`
	Mean   float64 `yaml:"mean"`
	Median float64 `yaml:"median"`
	Sigma  float64 `yaml:"sigma"`
	Min    float64 `yaml:"min"`
	Max    float64 `yaml:"max"`
	Line   int     `yaml:"-"`
}

// DurationDist is a distribution of period lengths, with the keys of
// TokenDist written as durations (sigma stays a number).
type DurationDist struct {
	Dist   string   `yaml:"dist"`
	Value  Duration `yaml:"value"`
	Mean   Duration `yaml:"mean"`
	Median Duration `yaml:"median"`
	Sigma  float64  `yaml:"sigma"`
	Min    Duration `yaml:"min"`
	Max    Duration `yaml:"max"`
	Line   int      `yaml:"-"`
}

// Strategies are the deployment strategies an exporter target may name.
var Strategies = []string{"always_on", "serverless", "unknown"}

// LoadFleetFile reads and checks a fleet file.
func LoadFleetFile(path string) (*FleetFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFleet(path, b)
}

// ParseFleet decodes a fleet file strictly: an unknown key, a value of the
// wrong type or an impossible setting is an error that names the file, the
// line and the fix. name is the file name used in errors.
func ParseFleet(name string, data []byte) (*FleetFile, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty fleet file (it needs a servers: list)", name)
		}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("%s:%s: %s (the file is not valid YAML)", name, m[1], m[2])
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var f FleetFile
	d := strictDecoder{file: name}
	if err := d.decode(root.Content[0], reflect.ValueOf(&f).Elem(), "the fleet file"); err != nil {
		return nil, err
	}
	if err := f.check(name); err != nil {
		return nil, err
	}
	return &f, nil
}

// yamlLine picks the line out of a yaml.v3 syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// strictDecoder decodes a YAML node tree into a struct, rejecting unknown
// keys with the line they are on and the keys that are allowed there, and
// recording each struct's line in its Line field.
type strictDecoder struct{ file string }

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (d strictDecoder) decode(n *yaml.Node, v reflect.Value, where string) error {
	if v.Kind() == reflect.Pointer && n.Tag != "!!null" {
		v.Set(reflect.New(v.Type().Elem()))
		return d.decode(n, v.Elem(), where)
	}
	if v.Kind() == reflect.Struct && !reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		return d.decodeStruct(n, v, where)
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct {
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s:%d: %s must be a list (each item starting with \"- \")", d.file, n.Line, where)
		}
		v.Set(reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content)))
		for i, item := range n.Content {
			if err := d.decode(item, v.Index(i), fmt.Sprintf("item %d of %s", i+1, where)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		msg := err.Error()
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg = te.Errors[0]
			if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
				msg = msg[i+2:]
			}
		}
		return fmt.Errorf("%s:%d: %s: %s", d.file, n.Line, where, msg)
	}
	return nil
}

func (d strictDecoder) decodeStruct(n *yaml.Node, v reflect.Value, where string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: %s must be a mapping of keys to values", d.file, n.Line, where)
	}
	t := v.Type()
	var known []string
	fields := map[string]int{}
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			known = append(known, tag)
			fields[tag] = i
		}
	}
	if f, ok := t.FieldByName("Line"); ok && f.Type.Kind() == reflect.Int {
		v.FieldByIndex(f.Index).SetInt(int64(n.Line))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[key.Value]
		if !ok {
			hint := ""
			if s := suggest.Closest(key.Value, known); s != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", s)
			}
			return fmt.Errorf("%s:%d: unknown key %q in %s%s; known keys: %s",
				d.file, key.Line, key.Value, where, hint, strings.Join(known, ", "))
		}
		if err := d.decode(val, v.Field(idx), key.Value); err != nil {
			return err
		}
	}
	return nil
}

// check validates the decoded settings, naming the line of the offender.
func (f *FleetFile) check(file string) error {
	if len(f.Servers) == 0 {
		return fmt.Errorf("%s: no servers (add a servers: list with at least one server)", file)
	}
	names := map[string]bool{}
	ports := map[int]string{}
	for _, s := range f.Servers {
		at := fmt.Sprintf("%s:%d: server %q", file, s.Line, s.Name)
		switch {
		case s.Name == "":
			return fmt.Errorf("%s:%d: server has no name (add name: ...)", file, s.Line)
		case names[s.Name]:
			return fmt.Errorf("%s: the name is used twice (give each server its own name)", at)
		case s.Port < 0 || s.Port > 65535:
			return fmt.Errorf("%s: port %d is out of range (use 1-65535, or 0 for a free port)", at, s.Port)
		case s.Port != 0 && ports[s.Port] != "":
			return fmt.Errorf("%s: port %d is also used by server %q", at, s.Port, ports[s.Port])
		case !slices.Contains(Strategies, s.Strategy):
			return fmt.Errorf("%s: strategy %q is not known (use one of %s)", at, s.Strategy,
				strings.Join(Strategies, ", "))
		case s.GPUsPerReplica < 0:
			return fmt.Errorf("%s: gpus_per_replica must not be negative", at)
		case len(s.Models) == 0:
			return fmt.Errorf("%s: no models (add a models: list)", at)
		}
		names[s.Name] = true
		if s.Port != 0 {
			ports[s.Port] = s.Name
		}
		format, err := LookupFormat(s.Format)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if len(s.Models) > 1 && !format.MultiModel {
			return fmt.Errorf("%s: format %s serves one model, got %d (use one server per model, or triton)",
				at, s.Format, len(s.Models))
		}
		models := map[string]bool{}
		for _, m := range s.Models {
			if models[m.Name] {
				return fmt.Errorf("%s:%d: model %q appears twice on server %q", file, m.Line, m.Name, s.Name)
			}
			models[m.Name] = true
			if err := m.config().Validate(); err != nil {
				return fmt.Errorf("%s:%d: %w", file, m.Line, err)
			}
			if err := m.Traffic.check(); err != nil {
				return fmt.Errorf("%s:%d: model %q: traffic: %w", file, m.Traffic.Line, m.Name, err)
			}
		}
	}
	return nil
}

func (m ModelSpec) config() ModelConfig {
	return ModelConfig{
		Name: m.Name, MaxConcurrency: m.MaxConcurrency, PrefillTokensPerSecond: m.PrefillTokensPerSecond,
		TimePerOutputToken: time.Duration(m.TimePerOutputToken), KVCapacityTokens: m.KVCapacityTokens,
	}
}

func (t TrafficSpec) check() error {
	synthetic := func() error {
		if t.PromptTokens == nil || t.OutputTokens == nil {
			return fmt.Errorf("kind %s needs prompt_tokens and output_tokens distributions", t.Kind)
		}
		for _, d := range []*TokenDist{t.PromptTokens, t.OutputTokens} {
			if _, err := d.dist(); err != nil {
				return err
			}
		}
		return nil
	}
	switch t.Kind {
	case "poisson":
		if !(t.Rate > 0) {
			return fmt.Errorf("poisson needs a positive rate (requests per second)")
		}
		return synthetic()
	case "bursts":
		if !(t.Rate > 0) || t.On == nil || t.Off == nil {
			return fmt.Errorf("bursts needs a positive rate and on and off period distributions")
		}
		for _, d := range []*DurationDist{t.On, t.Off} {
			if _, err := d.dist(); err != nil {
				return err
			}
		}
		if on, _ := t.On.dist(); !(on.Mean() > 0) {
			return fmt.Errorf("bursts needs on periods longer than zero")
		}
		return synthetic()
	case "daily":
		if t.Trough < 0 || !(t.Peak > 0) || t.Compression < 0 {
			return fmt.Errorf("daily needs trough >= 0, peak > 0 (requests per second) and compression >= 0")
		}
		return synthetic()
	case "trace":
		if t.Path == "" {
			return fmt.Errorf("trace needs a path to a CSV file")
		}
		if t.Keep < 0 || t.Keep > 1 || t.TimeScale < 0 {
			return fmt.Errorf("keep must be within 0-1 and time_scale positive")
		}
		return nil
	}
	return fmt.Errorf("kind %q is not known (use poisson, bursts, daily or trace)", t.Kind)
}

func (d *TokenDist) dist() (Dist, error) {
	return makeDist(d.Dist, d.Value, d.Mean, d.Median, d.Sigma, d.Min, d.Max)
}

func (d *DurationDist) dist() (Dist, error) {
	s := func(v Duration) float64 { return time.Duration(v).Seconds() }
	return makeDist(d.Dist, s(d.Value), s(d.Mean), s(d.Median), d.Sigma, s(d.Min), s(d.Max))
}

func makeDist(kind string, value, mean, median, sigma, lo, hi float64) (Dist, error) {
	switch kind {
	case "fixed":
		return Fixed(value), nil
	case "uniform":
		if hi < lo {
			return nil, fmt.Errorf("uniform needs min <= max")
		}
		return Uniform{Min: lo, Max: hi}, nil
	case "exponential":
		if !(mean > 0) {
			return nil, fmt.Errorf("exponential needs a positive mean")
		}
		return Exponential{MeanValue: mean}, nil
	case "lognormal":
		if !(median > 0) || sigma < 0 {
			return nil, fmt.Errorf("lognormal needs a positive median and sigma >= 0")
		}
		return LogNormal{Median: median, Sigma: sigma}, nil
	}
	return nil, fmt.Errorf("dist %q is not known (use fixed, uniform, exponential or lognormal)", kind)
}

// Endpoint is one simulated server: its specification, format and models.
type Endpoint struct {
	Spec   ServerSpec
	Format *Format
	Models []*ModelSim
}

// Build creates the simulations of a checked fleet file. seed makes the
// traffic reproducible; baseDir resolves relative trace paths.
func (f *FleetFile) Build(seed uint64, baseDir string) ([]*Endpoint, error) {
	traces := map[string]*Trace{}
	var eps []*Endpoint
	for _, s := range f.Servers {
		format, err := LookupFormat(s.Format)
		if err != nil {
			return nil, err
		}
		ep := &Endpoint{Spec: s, Format: format}
		for _, m := range s.Models {
			src, err := m.Traffic.source(seed, s.Name+"/"+m.Name, baseDir, traces)
			if err != nil {
				return nil, fmt.Errorf("server %q, model %q: %w", s.Name, m.Name, err)
			}
			sim, err := NewModelSim(m.config(), src, format.Layout)
			if err != nil {
				return nil, err
			}
			ep.Models = append(ep.Models, sim)
		}
		eps = append(eps, ep)
	}
	return eps, nil
}

func (t TrafficSpec) source(seed uint64, stream, baseDir string, traces map[string]*Trace) (Source, error) {
	if t.Kind == "trace" {
		path := t.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		tr, ok := traces[path]
		if !ok {
			var err error
			if tr, err = LoadTrace(path); err != nil {
				return nil, err
			}
			traces[path] = tr
		}
		return NewReplay(tr, ReplayConfig{Keep: t.Keep, TimeScale: t.TimeScale, Loop: t.Loop}, seed, stream), nil
	}
	prompt, _ := t.PromptTokens.dist()
	output, _ := t.OutputTokens.dist()
	tm := TokenModel{Prompt: prompt, Output: output, MaxPrompt: int(t.PromptTokens.Max),
		MaxOutput: int(t.OutputTokens.Max)}
	switch t.Kind {
	case "poisson":
		return NewPoisson(t.Rate, tm, seed, stream), nil
	case "bursts":
		on, _ := t.On.dist()
		off, _ := t.Off.dist()
		return NewBursts(BurstConfig{Rate: t.Rate, On: on, Off: off, StartQuiet: t.StartQuiet}, tm, seed, stream), nil
	}
	return NewDaily(DailyConfig{Trough: t.Trough, Peak: t.Peak, PeakAt: time.Duration(t.PeakAt),
		Compression: t.Compression}, tm, seed, stream), nil
}
