package fleetsim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// Server serves a simulated fleet over HTTP with simulated time following a
// clock: sim time = (clock - start) × speed. It advances the models lazily,
// when a page or the truth is asked for.
type Server struct {
	mu    sync.Mutex
	eps   []*Endpoint
	start time.Time
	speed float64
	clock func() time.Time
}

// NewServer returns a server for eps whose simulated time starts at start
// and runs speed times faster than clock.
func NewServer(eps []*Endpoint, start time.Time, speed float64, clock func() time.Time) *Server {
	return &Server{eps: eps, start: start, speed: speed, clock: clock}
}

// Endpoints returns the simulated servers.
func (s *Server) Endpoints() []*Endpoint { return s.eps }

// advance moves every model to the current simulated time; s.mu is held.
func (s *Server) advance() time.Duration {
	t := time.Duration(float64(s.clock().Sub(s.start)) * s.speed)
	for _, ep := range s.eps {
		for _, m := range ep.Models {
			m.AdvanceTo(t)
		}
	}
	return t
}

// Handler serves one endpoint: its metrics page at the format's path (and at
// /metrics) and its models' ground truth at /truth.
func (s *Server) Handler(ep *Endpoint) http.Handler {
	mux := http.NewServeMux()
	metrics := func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.advance()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		// A failed write means the client went away; nothing to tell it.
		_ = ep.Format.Render(w, ep.Models, s.start)
	}
	mux.HandleFunc("GET /metrics", metrics)
	if ep.Format.Path != "/metrics" {
		mux.HandleFunc("GET "+ep.Format.Path, metrics)
	}
	mux.HandleFunc("GET /truth", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		now := s.advance()
		report := s.report(now, []*Endpoint{ep})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(report)
	})
	return mux
}

// TruthReport is the ground truth of a fleet since the start.
type TruthReport struct {
	// SimulatedSeconds is the simulated time the report covers, from 0.
	SimulatedSeconds float64 `json:"simulated_seconds"`
	// StartUnixSeconds is the wall-clock time simulated time 0 stands for.
	StartUnixSeconds float64      `json:"start_unix_seconds"`
	Speed            float64      `json:"speed"`
	Models           []ModelTruth `json:"models"`
}

// ModelTruth is one model's exact busy/idle summary.
type ModelTruth struct {
	Server            string    `json:"server"`
	Format            string    `json:"format"`
	Model             string    `json:"model"`
	BusySeconds       float64   `json:"busy_seconds"`
	ObservedSeconds   float64   `json:"observed_seconds"`
	DutyCycleRatio    float64   `json:"duty_cycle_ratio"`
	MaxInFlight       int       `json:"max_in_flight"`
	InFlight          int       `json:"in_flight"`
	RequestsArrived   uint64    `json:"requests_arrived"`
	RequestsCompleted uint64    `json:"requests_completed"`
	Gaps              GapsTruth `json:"gaps"`
	OpenGapSeconds    float64   `json:"open_gap_seconds"`
	LastBusyAtSeconds *float64  `json:"last_busy_at_seconds,omitempty"`
}

// GapsTruth is the completed idle gaps as a cumulative histogram over
// timeline.GapBuckets.
type GapsTruth struct {
	Count      uint64       `json:"count"`
	SumSeconds float64      `json:"sum_seconds"`
	Buckets    []GapsBucket `json:"buckets"`
}

// GapsBucket is one cumulative bucket.
type GapsBucket struct {
	LE    float64 `json:"le"`
	Count uint64  `json:"count"`
}

// report summarises [0, now) for the models of eps; s.mu is held.
func (s *Server) report(now time.Duration, eps []*Endpoint) TruthReport {
	r := TruthReport{
		SimulatedSeconds: now.Seconds(),
		StartUnixSeconds: float64(s.start.UnixNano()) / 1e9,
		Speed:            s.speed,
		Models:           []ModelTruth{},
	}
	for _, ep := range eps {
		for _, m := range ep.Models {
			r.Models = append(r.Models, modelTruth(ep, m, now))
		}
	}
	return r
}

func modelTruth(ep *Endpoint, m *ModelSim, now time.Duration) ModelTruth {
	w := m.Truth().Window(0, now)
	st := m.Stats()
	mt := ModelTruth{
		Server: ep.Spec.Name, Format: ep.Format.Name, Model: m.Name(),
		BusySeconds: w.BusySeconds, ObservedSeconds: w.ObservedSeconds, DutyCycleRatio: w.DutyCycle,
		MaxInFlight: w.MaxInFlight, InFlight: st.Running + st.Waiting,
		RequestsArrived: st.Arrived, RequestsCompleted: st.Completed,
		Gaps:           GapsTruth{Count: w.Gaps.Count, SumSeconds: w.Gaps.Sum, Buckets: []GapsBucket{}},
		OpenGapSeconds: w.OpenGapSeconds,
	}
	for i, le := range timeline.GapBuckets {
		mt.Gaps.Buckets = append(mt.Gaps.Buckets, GapsBucket{LE: le, Count: w.Gaps.Counts[i]})
	}
	if last, ok := m.Truth().LastBusy(now); ok {
		v := last.Seconds()
		mt.LastBusyAtSeconds = &v
	}
	return mt
}

// Report returns the ground truth of the whole fleet at the current time.
func (s *Server) Report() TruthReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.report(s.advance(), s.eps)
}

// WriteTruthFile writes the fleet's ground truth as JSON to path, through a
// temporary file and a rename so that readers never see half a file.
func (s *Server) WriteTruthFile(path string) error {
	b, err := json.MarshalIndent(s.Report(), "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".truth-*.json")
	if err != nil {
		return fmt.Errorf("truth file %q: %w", path, err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("truth file %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("truth file %q: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// ExporterTarget is one target of the exporter configuration written for a
// fleet; the keys are the exporter's.
type ExporterTarget struct {
	URL            string            `yaml:"url"`
	Server         string            `yaml:"server"`
	Model          string            `yaml:"model,omitempty"`
	Strategy       string            `yaml:"strategy"`
	GPU            string            `yaml:"gpu,omitempty"`
	GPUsPerReplica int               `yaml:"gpus_per_replica,omitempty"`
	Labels         map[string]string `yaml:"labels,omitempty"`
}

// ExporterConfig is the exporter configuration written for a fleet.
type ExporterConfig struct {
	PollInterval string           `yaml:"poll_interval"`
	Targets      []ExporterTarget `yaml:"targets"`
}

// NewExporterConfig returns the exporter configuration that polls eps at
// the given base URLs (like http://127.0.0.1:PORT), one per endpoint.
func NewExporterConfig(eps []*Endpoint, baseURLs []string, poll time.Duration) ExporterConfig {
	c := ExporterConfig{PollInterval: formatDuration(poll)}
	for i, ep := range eps {
		t := ExporterTarget{
			URL: baseURLs[i] + ep.Format.Path, Server: ep.Format.Server, Strategy: ep.Spec.Strategy,
			GPU: ep.Spec.GPU, GPUsPerReplica: ep.Spec.GPUsPerReplica, Labels: ep.Spec.Labels,
		}
		if !ep.Format.NamesModel {
			t.Model = ep.Models[0].Name()
		}
		c.Targets = append(c.Targets, t)
	}
	return c
}

// Marshal returns the configuration as YAML.
func (c ExporterConfig) Marshal() ([]byte, error) { return yaml.Marshal(c) }

// formatDuration writes a duration the way a configuration would: "1s",
// "500ms", "2m".
func formatDuration(d time.Duration) string {
	switch {
	case d%time.Minute == 0 && d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", int64(math.Round(float64(d)/float64(time.Millisecond))))
}
