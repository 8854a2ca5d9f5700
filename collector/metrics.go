package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/placement-exporter/placement_exporter/collector/billing"
	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// descs are the descriptions of every exposed series, built for one set of
// configured label names.
type descs struct {
	// Per model: target, model, then the configured labels.
	info, observed, busy, unobserved, gaps, lastBusy, requests, running, waiting,
	requestSeconds, kvCache, promptTokens, generationTokens, restarts *prometheus.Desc
	// Per model and offer.
	billed, coldStarts, coldDelay, cost, breakEven *prometheus.Desc
	// Per offer in use.
	price *prometheus.Desc
	// Per target: target, then the configured labels.
	up, targetInfo, pollDuration, polls, pollErrors *prometheus.Desc
}

func newDescs(labelNames []string, currency string) *descs {
	model := append([]string{"target", "model"}, labelNames...)
	tgt := append([]string{"target"}, labelNames...)
	with := func(base []string, extra ...string) []string {
		return append(append([]string{}, base...), extra...)
	}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &descs{
		info: d("placement_model_info",
			"How a model is deployed, from the exporter's configuration (strategy, gpu, gpus_per_replica) and the detected inference server (server). Always 1.",
			with(model, "server", "strategy", "gpu", "gpus_per_replica")),
		observed: d("placement_model_observed_seconds_total",
			"Seconds of the model's timeline classified as busy or idle: time between two successful polls of its server. Divide busy by this, not by wall time, so that unobserved time never counts as idle.",
			model),
		busy: d("placement_model_busy_seconds_total",
			"Seconds during which at least one request of the model was running or waiting, estimated from the server's running and waiting gauges polled on the exporter's own clock and from its completion and latency counters between polls.",
			model),
		unobserved: d("placement_model_unobserved_seconds_total",
			"Seconds the model could not be seen: failed polls, or pages that did not list the model. Neither busy nor idle.",
			model),
		gaps: d("placement_model_idle_gap_seconds",
			"Completed idle gaps of the model: time from the end of one busy period to the start of the next. Gaps cut by unobserved time are not counted.",
			model),
		lastBusy: d("placement_model_last_busy_timestamp_seconds",
			"Unix time at which the model was last estimated busy. 0 if never seen busy since the exporter started.",
			model),
		requests: d("placement_model_requests_total",
			"Requests the model finished, from the server's completion counter (or latency histogram count), summed across server restarts.",
			model),
		running: d("placement_model_running_requests",
			"Requests the model was running at the last successful poll, from the server's running gauge.",
			model),
		waiting: d("placement_model_waiting_requests",
			"Requests queued for the model at the last successful poll, from the server's waiting gauge.",
			model),
		requestSeconds: d("placement_model_request_seconds_total",
			"Integral over time of the requests running, in request-seconds; its rate is the mean concurrency.",
			model),
		kvCache: d("placement_model_kv_cache_usage_ratio",
			"Share of the model's KV cache in use at the last successful poll, 0 to 1, from the server's KV-cache gauge. Absent for servers that do not expose one.",
			model),
		promptTokens: d("placement_model_prompt_tokens_total",
			"Prompt tokens the model processed, from the server's token counter, summed across server restarts.",
			model),
		generationTokens: d("placement_model_generation_tokens_total",
			"Tokens the model generated, from the server's token counter, summed across server restarts.",
			model),
		restarts: d("placement_model_server_restarts_total",
			"Server restarts seen as counters going down between two polls.",
			model),
		billed: d("placement_model_serverless_billed_seconds_total",
			"GPU-seconds a serverless offer would have billed for the model's observed timeline, at a scale-down window (window, seconds): busy time, warm idle time up to the window after each busy period, billed cold starts, and rounding to the offer's billing increment and minimum.",
			with(model, "offer", "window")),
		coldStarts: d("placement_model_serverless_cold_starts_total",
			"Cold starts a serverless offer would have had for the model at a scale-down window: requests that found no warm replica.",
			with(model, "offer", "window")),
		coldDelay: d("placement_model_serverless_cold_start_delay_seconds_total",
			"Seconds of delay the requests that hit a cold start would have waited, at the offer's typical cold-start time.",
			with(model, "offer", "window")),
		cost: d("placement_model_cost_dollars_total",
			"What the model's observed timeline would have cost, in "+currency+", on a serverless offer at its default scale-down window (strategy=serverless) or on always-on GPUs held all the time (strategy=always_on, replicas × GPUs per replica × hourly price).",
			with(model, "strategy", "offer")),
		breakEven: d("placement_model_break_even_duty_cycle_ratio",
			"Duty cycle (0-1) above which the model's always-on offer costs less than this serverless offer, given the idle-gap pattern measured so far. 1: always-on is never cheaper; 0: always-on is cheaper even for an idle model.",
			with(model, "offer")),
		price: d("placement_offer_price_dollars",
			"Price of an offer in use, in "+currency+" per unit (gpu_second, gpu_minute, gpu_hour, or unit_hour for capacity sold in multi-GPU units), from the price catalog.",
			[]string{"offer", "unit", "gpu"}),
		up: d("placement_target_up",
			"1 if the last poll of the target succeeded and its page was understood, 0 otherwise.",
			tgt),
		targetInfo: d("placement_target_info",
			"The target's inference server (detected or configured) and whether it is configured to scale to zero. Always 1.",
			with(tgt, "server", "scale_to_zero")),
		pollDuration: d("placement_target_poll_duration_seconds",
			"Seconds the last poll of the target took, from sending the request to reading the whole page.",
			tgt),
		polls: d("placement_target_polls_total",
			"Polls of the target, successful or not.",
			tgt),
		pollErrors: d("placement_target_poll_errors_total",
			"Failed polls of the target by reason: unreachable, timeout, http_status, too_large, skipped (too many polls in flight), and the page errors.",
			with(tgt, "reason")),
	}
}

// Describe sends nothing: the label names depend on the configuration, so
// the exporter is an unchecked collector.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect sends the state accumulated by the pollers. It never waits on a
// target, only on the short locks that guard each target's state.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.RLock()
	targets := make([]*target, 0, len(e.targets))
	for _, t := range e.targets {
		targets = append(targets, t)
	}
	names, d := e.labelNames, e.descs
	e.mu.RUnlock()
	if d == nil {
		return // not configured yet
	}

	prices := map[string]billing.Offer{}
	for _, t := range targets {
		s := t.snapshot(names)
		s.collect(d, ch)
		for _, m := range s.models {
			if !m.costs.ok {
				continue
			}
			prices[m.costs.aoOffer.ID] = m.costs.aoOffer
			for _, sv := range m.costs.serverless {
				prices[sv.offer.ID] = sv.offer
			}
		}
	}
	for _, o := range prices {
		ch <- constMetric(d.price, prometheus.GaugeValue, o.Price, []string{o.ID, priceUnit(o), o.GPU})
	}
}

// targetSnapshot is a copy of one target's state, taken under its lock so
// that metrics are built without holding it.
type targetSnapshot struct {
	labels   []string // target, then the configured label values
	server   string
	scale    bool
	up       bool
	polls    uint64
	errors   map[string]uint64
	duration float64
	models   []modelSnapshot
}

type modelSnapshot struct {
	name     string
	totals   timeline.Totals
	costs    costSnapshot
	strategy string
	gpu      string
	gpus     int
}

func (t *target) snapshot(labelNames []string) targetSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := targetSnapshot{
		labels:   append([]string{t.cfg.Name}, labelValues(t.cfg.Labels, labelNames)...),
		server:   t.server,
		scale:    t.cfg.ScaleToZero,
		up:       t.up,
		polls:    t.polls,
		errors:   make(map[string]uint64, len(t.errors)),
		duration: t.duration,
		models:   make([]modelSnapshot, 0, len(t.models)),
	}
	for r, n := range t.errors {
		s.errors[r] = n
	}
	for name, m := range t.models {
		s.models = append(s.models, modelSnapshot{
			name:     name,
			totals:   m.est.Totals(),
			costs:    m.costs.snapshot(),
			strategy: m.settings.Strategy,
			gpu:      m.settings.GPU,
			gpus:     m.settings.GPUsPerReplica,
		})
	}
	return s
}

func labelValues(labels map[string]string, names []string) []string {
	v := make([]string, len(names))
	for i, n := range names {
		v[i] = labels[n]
	}
	return v
}

func (s targetSnapshot) collect(d *descs, ch chan<- prometheus.Metric) {
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(desc, prometheus.GaugeValue, v, labels)
	}
	counter := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(desc, prometheus.CounterValue, v, labels)
	}
	with := func(base []string, extra ...string) []string {
		return append(append(make([]string, 0, len(base)+len(extra)), base...), extra...)
	}

	gauge(d.up, boolValue(s.up), s.labels...)
	gauge(d.targetInfo, 1, with(s.labels, s.server, strconv.FormatBool(s.scale))...)
	gauge(d.pollDuration, s.duration, s.labels...)
	counter(d.polls, float64(s.polls), s.labels...)
	for r, n := range s.errors {
		counter(d.pollErrors, float64(n), with(s.labels, r)...)
	}

	for _, m := range s.models {
		l := make([]string, 0, len(s.labels)+1)
		l = append(l, s.labels[0], m.name)
		l = append(l, s.labels[1:]...)
		t := m.totals
		gauge(d.info, 1, with(l, s.server, m.strategy, m.gpu, strconv.Itoa(m.gpus))...)
		counter(d.observed, t.ObservedSeconds, l...)
		counter(d.busy, t.BusySeconds, l...)
		counter(d.unobserved, t.UnobservedSeconds, l...)
		ch <- gapHistogram(d.gaps, t.Gaps, l)
		last := 0.0
		if !t.LastBusy.IsZero() {
			last = float64(t.LastBusy.UnixNano()) / 1e9
		}
		gauge(d.lastBusy, last, l...)
		counter(d.requests, t.Requests, l...)
		counter(d.requestSeconds, t.RequestSeconds, l...)
		counter(d.promptTokens, t.PromptTokens, l...)
		counter(d.generationTokens, t.GenerationTokens, l...)
		counter(d.restarts, float64(t.Restarts), l...)
		if c := m.costs; c.ok {
			counter(d.cost, c.alwaysOn.Dollars, with(l, "always_on", c.aoOffer.ID)...)
			for _, sv := range c.serverless {
				lw := with(l, sv.offer.ID, sv.window)
				counter(d.billed, sv.totals.BilledSeconds, lw...)
				counter(d.coldStarts, float64(sv.totals.ColdStarts), lw...)
				counter(d.coldDelay, sv.totals.ColdStartDelaySeconds, lw...)
				if sv.whatIf {
					continue
				}
				counter(d.cost, sv.totals.Dollars, with(l, "serverless", sv.offer.ID)...)
				if sv.hasBE {
					gauge(d.breakEven, sv.breakEven, with(l, sv.offer.ID)...)
				}
			}
		}
		if t.HaveReading {
			gauge(d.running, t.Last.Running, l...)
			gauge(d.waiting, t.Last.Waiting, l...)
			if t.Last.Present.Has(timeline.FieldKVCache) {
				gauge(d.kvCache, t.Last.KVCacheUsage, l...)
			}
		}
	}
}

// constMetric builds a metric, or an invalid metric that makes the scrape
// report the error (a label value that is not valid UTF-8, say) instead of
// panicking.
func constMetric(desc *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(desc, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}

func gapHistogram(desc *prometheus.Desc, h timeline.GapHistogram, labels []string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(timeline.GapBuckets))
	for i, b := range timeline.GapBuckets {
		buckets[b] = h.Counts[i]
	}
	m, err := prometheus.NewConstHistogram(desc, h.Count, h.Sum, buckets, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
