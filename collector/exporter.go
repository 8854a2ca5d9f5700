// Package collector polls inference servers, turns their metrics into
// per-model busy/idle timelines and cost simulations, and exposes the result
// as a Prometheus collector. Scrapes never wait on a target: they read the
// state the pollers have accumulated.
package collector

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/billing"
	"github.com/placement-exporter/placement_exporter/collector/timeline"
	"github.com/placement-exporter/placement_exporter/config"
)

// Options configure an Exporter.
type Options struct {
	// Logger receives the exporter's logs.
	Logger *slog.Logger
	// UserAgent is sent with every poll.
	UserAgent string
	// Client makes the polls; nil means a client with no overall timeout,
	// since every poll carries its own deadline.
	Client *http.Client
	// Now returns the current time; nil means time.Now. Its readings must
	// carry the monotonic clock.
	Now func() time.Time
	// Manual, when set, starts no poll loops: the caller polls with PollAll.
	Manual bool
}

// Exporter polls the configured targets and collects their series.
type Exporter struct {
	logger    *slog.Logger
	client    *http.Client
	userAgent string
	now       func() time.Time
	manual    bool

	mu         sync.RWMutex // guards everything below
	cfg        *config.Config
	catalog    *billing.Catalog
	targets    map[string]*target // by URL
	labelNames []string           // union of the targets' configured label names
	descs      *descs             // the series' descriptions for labelNames
	sem        chan struct{}      // bounds the polls in flight
}

// New returns an Exporter with no targets; Apply gives it some.
func New(opts Options) *Exporter {
	e := &Exporter{
		logger:    opts.Logger,
		client:    opts.Client,
		userAgent: opts.UserAgent,
		now:       opts.Now,
		manual:    opts.Manual,
		targets:   map[string]*target{},
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	if e.client == nil {
		e.client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.userAgent == "" {
		e.userAgent = "placement_exporter"
	}
	return e
}

// Apply makes cfg the running configuration, priced with cat (nil: no
// cost series). Targets that stay keep their state, and their models keep
// the totals of every cost simulation whose settings did not change; new
// targets start polling; removed ones stop and lose their series. Check the
// configuration with CheckCosts first: a model whose costs cannot be
// planned is logged and left without cost series.
func (e *Exporter) Apply(cfg *config.Config, cat *billing.Catalog) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.catalog = cat

	if e.sem == nil || cap(e.sem) != cfg.MaxConcurrentPolls {
		e.sem = make(chan struct{}, cfg.MaxConcurrentPolls)
	}
	keep := map[string]bool{}
	names := map[string]bool{}
	for _, tc := range cfg.Targets {
		keep[tc.URL] = true
		for k := range tc.Labels {
			names[k] = true
		}
		t, ok := e.targets[tc.URL]
		if ok {
			t.stopLoop()
			t.reconfigure(cfg, tc, cat, e.logger)
		} else {
			t = newTarget(cfg, tc, cat, e.logger)
			e.targets[tc.URL] = t
			e.logger.Info("target added", "target", tc.Name, "url", tc.Display)
		}
		if !e.manual {
			t.startLoop(e, e.sem)
		}
	}
	for u, t := range e.targets {
		if !keep[u] {
			t.stopLoop()
			delete(e.targets, u)
			e.logger.Info("target removed", "target", t.cfg.Name, "url", t.cfg.Display)
		}
	}
	// A new slice, not the old one reused: a scrape may still be reading it.
	e.labelNames = make([]string, 0, len(names))
	for k := range names {
		e.labelNames = append(e.labelNames, k)
	}
	sort.Strings(e.labelNames)
	currency := "USD"
	if cat != nil {
		currency = cat.Currency()
	}
	e.descs = newDescs(e.labelNames, currency)
	e.cfg = cfg
}

// Stop ends every poll loop.
func (e *Exporter) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.targets {
		t.stopLoop()
	}
}

// PollAll polls every target once, concurrently within the configured bound,
// and returns when all polls are done. It is how tests drive the exporter.
func (e *Exporter) PollAll(ctx context.Context) {
	e.mu.RLock()
	targets := make([]*target, 0, len(e.targets))
	for _, t := range e.targets {
		targets = append(targets, t)
	}
	sem := e.sem
	e.mu.RUnlock()
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.poll(ctx, e, sem)
		}()
	}
	wg.Wait()
}

// Ready reports whether every target has been polled at least once.
func (e *Exporter) Ready() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, t := range e.targets {
		t.mu.Lock()
		polled := t.polls > 0
		t.mu.Unlock()
		if !polled {
			return false
		}
	}
	return true
}

// target is one polled endpoint and the models it serves.
type target struct {
	mu       sync.Mutex // guards everything below but the loop fields
	cfg      *config.Target
	interval time.Duration
	timeout  time.Duration
	limit    int64
	windows  []time.Duration
	models   map[string]*modelState
	server   string // adapter of the last good poll, or the configured one
	up       bool
	healthy  *bool // last health logged; nil before the first poll
	polls    uint64
	errors   map[string]uint64
	duration float64 // seconds the last poll took
	catalog  *billing.Catalog
	logger   *slog.Logger

	cancel context.CancelFunc // loop fields, guarded by Exporter.mu
	done   chan struct{}
}

func newTarget(cfg *config.Config, tc *config.Target, cat *billing.Catalog, logger *slog.Logger) *target {
	t := &target{models: map[string]*modelState{}, errors: map[string]uint64{}}
	for _, r := range pollReasons {
		t.errors[r] = 0
	}
	t.reconfigure(cfg, tc, cat, logger)
	return t
}

// reconfigure applies new settings and keeps the models' state.
func (t *target) reconfigure(cfg *config.Config, tc *config.Target, cat *billing.Catalog, logger *slog.Logger) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cfg = tc
	t.catalog = cat
	t.logger = logger
	t.interval = time.Duration(cfg.PollInterval)
	t.timeout = time.Duration(cfg.PollTimeout)
	t.limit = int64(cfg.MaxResponseSize)
	t.windows = t.windows[:0]
	for _, w := range cfg.ScaleDownWindows {
		t.windows = append(t.windows, time.Duration(w))
	}
	if tc.Server != "" {
		t.server = tc.Server
	}
	// Existing models take the new settings; a configured model not seen
	// yet is created with them (and planned once).
	for name, m := range t.models {
		m.reconfigure(t, name)
	}
	for _, m := range tc.ConfiguredModels() {
		t.model(m)
	}
}

// model returns the state of a model, creating it on first sight.
func (t *target) model(name string) *modelState {
	m, ok := t.models[name]
	if !ok {
		m = newModelState(t, name)
		t.models[name] = m
	}
	return m
}

func (t *target) startLoop(e *Exporter, sem chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel, t.done = cancel, make(chan struct{})
	t.mu.Lock()
	interval := t.interval
	t.mu.Unlock()
	go func() {
		defer close(t.done)
		// Spread the targets' polls over the interval so that they do not
		// all hit the network, and the inference servers' scrape handlers,
		// at the same instant.
		first := time.NewTimer(rand.N(interval))
		select {
		case <-ctx.Done():
			first.Stop()
			return
		case <-first.C:
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			t.poll(ctx, e, sem)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

func (t *target) stopLoop() {
	if t.cancel == nil {
		return
	}
	t.cancel()
	<-t.done
	t.cancel, t.done = nil, nil
}

// poll polls the target once and feeds the result to its models.
func (t *target) poll(ctx context.Context, e *Exporter, sem chan struct{}) {
	t.mu.Lock()
	url, interval, timeout, limit := t.cfg.URL, t.interval, t.timeout, t.limit
	server, model := t.cfg.Server, t.cfg.Model
	t.mu.Unlock()

	// Wait for a free slot, but not past the next poll: a poll that
	// cannot start in time is counted as skipped.
	wait := time.NewTimer(interval)
	select {
	case sem <- struct{}{}:
		wait.Stop()
	case <-wait.C:
		t.fail(e, e.now(), &PollError{ReasonSkipped, errors.New("too many polls in flight (raise max_concurrent_polls or poll_interval)")}, 0)
		return
	case <-ctx.Done():
		wait.Stop()
		return
	}
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	body, contentType, err := fetch(pctx, e.client, url, e.userAgent, limit)
	cancel()
	<-sem
	took := time.Since(start).Seconds()
	if ctx.Err() != nil {
		return // stopping: a cancelled poll says nothing about the target
	}
	now := e.now()
	if err != nil {
		t.fail(e, now, err, took)
		return
	}
	adapter, readings, err := decode(body, contentType, server, model)
	if err != nil {
		t.fail(e, now, err, took)
		return
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	t.polls++
	t.duration = took
	t.up = true
	t.server = adapter
	for name, r := range readings {
		t.model(name).est.Observe(now, r)
	}
	for name, m := range t.models {
		if _, ok := readings[name]; !ok {
			m.est.Absent(now)
		}
	}
	if t.healthy == nil || !*t.healthy {
		if t.healthy != nil {
			e.logger.Info("target recovered", "target", t.cfg.Name, "server", adapter, "models", len(readings))
		} else {
			e.logger.Debug("target polled", "target", t.cfg.Name, "server", adapter, "models", len(readings))
		}
		ok := true
		t.healthy = &ok
	}
}

// fail records a failed poll.
func (t *target) fail(e *Exporter, now time.Time, err error, took float64) {
	reason := reasonOf(err)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.polls++
	t.errors[reason]++
	t.duration = took
	t.up = false
	for _, m := range t.models {
		m.est.Miss(now)
	}
	if t.healthy == nil || *t.healthy {
		e.logger.Warn("target poll failed", "target", t.cfg.Name, "url", t.cfg.Display, "reason", reason, "err", err)
		bad := false
		t.healthy = &bad
	} else {
		e.logger.Debug("target poll failed", "target", t.cfg.Name, "reason", reason, "err", err)
	}
}

// reasonOf returns the reason label for a poll error.
func reasonOf(err error) string {
	var pe *PollError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	if r, ok := ErrorReason(err); ok {
		return r
	}
	return ReasonInvalidPage
}

// modelState is one model on one target: its timeline and what that
// timeline would cost.
type modelState struct {
	est      *timeline.Estimator
	costs    *costs
	settings config.Settings
	scale    bool
}

func newModelState(t *target, name string) *modelState {
	m := &modelState{}
	m.est = timeline.NewEstimator(timeline.Options{ScaleToZero: t.cfg.ScaleToZero}, m)
	m.reconfigure(t, name)
	return m
}

// Add passes the model's timeline to its cost simulations.
func (m *modelState) Add(s timeline.Segment) {
	if m.costs != nil {
		m.costs.Add(s)
	}
}

func (m *modelState) reconfigure(t *target, name string) {
	m.settings = t.cfg.For(name)
	if m.scale != t.cfg.ScaleToZero {
		m.scale = t.cfg.ScaleToZero
		m.est.SetOptions(timeline.Options{ScaleToZero: t.cfg.ScaleToZero})
	}
	plan, err := planCosts(t.catalog, m.settings, t.windows)
	if err == nil {
		var c *costs
		if c, err = newCosts(plan, m.costs); err == nil {
			m.costs = c
			return
		}
	}
	m.costs = nil
	t.logger.Warn("no cost series for the model", "target", t.cfg.Name, "model", name, "err", err)
}
