package collector

import (
	"fmt"
	"math"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// Adapter reads the metrics page of one kind of inference server. Adapters
// hold no state: one value serves every target.
type Adapter interface {
	// Name is the server name used in the configuration: "vllm", "sglang",
	// "tgi", "triton", "llamacpp" or "trtllm".
	Name() string
	// Detect reports whether the page comes from this kind of server.
	Detect(p *Page) bool
	// Models returns a reading per model found on the page. model is the
	// configured model name: servers whose metrics carry no model label
	// report under it (or under "unknown" when it is empty), and for the
	// others a non-empty model restricts the result to that model. A model
	// missing from the page is missing from the map, without error.
	Models(p *Page, model string) (map[string]timeline.Reading, error)
}

// UnknownModel names the model of a server without a model label when no
// model name is configured.
const UnknownModel = "unknown"

// adapters lists every adapter in the order AdapterNames shows them.
var adapters = []adapter{vllm{}, sglang{}, tgi{}, triton{}, llamacpp{}, trtllm{}}

// detectOrder is the order in which Detect tries the adapters. Triton comes
// first because it hosts other engines as backends and re-exports their
// families: its vLLM backend exposes vllm: families labelled model and
// version, which must not be read as a vLLM server. The engines follow; a
// Dynamo worker page passes an engine's own families through next to its
// dynamo_* families, which no adapter claims, so it is detected as that
// engine. No two engines share a prefix, so their order among themselves
// does not matter.
var detectOrder = []adapter{triton{}, vllm{}, sglang{}, trtllm{}, tgi{}, llamacpp{}}

// adapter is what every adapter of this package implements: the public
// interface and the list of metric names it reads, which decides the
// samples ParsePage keeps.
type adapter interface {
	Adapter
	reads() []string
}

// knownNames maps every metric name an adapter reads to itself, so that a
// kept sample holds this string instead of a copy. Built once, never written.
var knownNames = func() map[string]string {
	m := make(map[string]string)
	for _, a := range adapters {
		for _, n := range a.reads() {
			m[n] = n
		}
	}
	return m
}()

// AdapterFor returns the adapter of the named server.
func AdapterFor(name string) (Adapter, bool) {
	for _, a := range adapters {
		if a.Name() == name {
			return a, true
		}
	}
	return nil, false
}

// AdapterNames returns the server names an adapter exists for.
func AdapterNames() []string {
	names := make([]string, len(adapters))
	for i, a := range adapters {
		names[i] = a.Name()
	}
	return names
}

// Detect returns the first adapter, in detection order, that recognises the
// page. If none does, the error lists some of the page's families and the
// server names that can be configured instead.
func Detect(p *Page) (Adapter, error) {
	for _, a := range detectOrder {
		if a.Detect(p) {
			return a, nil
		}
	}
	return nil, pageError(ReasonUnknownServer, "no known inference server metrics found "+
		"(families seen: %s; set server: explicitly, one of %s)",
		familySummary(p.Families(), 5), strings.Join(AdapterNames(), ", "))
}

// familySummary lists the first n families and how many more there are.
func familySummary(fams []string, n int) string {
	if len(fams) <= n {
		return strings.Join(fams, ", ")
	}
	return fmt.Sprintf("%s, … %d more", strings.Join(fams[:n], ", "), len(fams)-n)
}

// slot names an accumulator of a model's reading.
type slot uint8

// The accumulators. The Alt slots hold a second source that is used only
// when the first is missing from the page.
const (
	slotNone slot = iota
	slotRunning
	slotWaiting
	slotCompleted
	slotCompletedAlt
	slotLatencySum
	slotLatencyCount
	slotLatencySumAlt
	slotLatencyCountAlt
	slotProcessing
	slotPrompt
	slotGeneration
	// slotKV averages over the series it gets (engines, versions): each
	// has its own cache of the same size.
	slotKV
	slotKVAlt
	// slotKVUsed and slotKVMax give the KV share as a block ratio when no
	// series gives it directly.
	slotKVUsed
	slotKVMax
	slotCount
)

// route says where the value of a sample goes.
type route struct {
	to, also slot // slotNone: nowhere
	// per converts the value to base units by division (1e6 for
	// microseconds; dividing rounds once, multiplying by 1e-6 twice);
	// 0 means 1.
	per float64
	// keepMax keeps, within a group, the largest of the metric's series
	// instead of their sum: for a gauge that several ranks report about
	// the same batch.
	keepMax bool
}

// acc accumulates the series that feed one slot.
type acc struct {
	sum float64
	n   int
}

func (a *acc) add(v float64, keepMax bool) {
	if keepMax {
		if a.n == 0 || v > a.sum {
			a.sum = v
		}
		a.n = 1
		return
	}
	a.sum += v
	a.n++
}

func (a acc) mean() float64 { return a.sum / float64(a.n) }

// accs are the accumulators of one model, or of one group of its series.
type accs [slotCount]acc

// groupKey identifies series of a model that are reduced together before
// being summed into the model. group separates SGLang's data-parallel
// ranks; metric separates the metrics whose series are reduced by maximum,
// so that the maximum is taken over the ranks of one metric, never across
// two metrics that feed the same slot.
type groupKey struct{ model, group, metric string }

// collect returns the readings of the models on the page: the body of
// every adapter's Models.
func collect(p *Page, only string,
	routeOf func(name string, ls labels.Labels) route,
	keyOf func(ls labels.Labels) (key groupKey, ok bool),
) (map[string]timeline.Reading, error) {
	groups, err := gather(p, only, routeOf, keyOf)
	if err != nil {
		return nil, err
	}
	return readings(groups)
}

func overflow(what, model string) error {
	return pageError(ReasonInvalidValue, "%s of model %q overflows "+
		"(the server reported an invalid value; this poll is skipped)", what, model)
}

// gather is the loop every adapter runs: it finds each kept sample's
// route, model and group, checks the value of the samples it uses, and
// accumulates them. keyOf returns ok false for a sample it cannot attribute.
func gather(p *Page, only string,
	routeOf func(name string, ls labels.Labels) route,
	keyOf func(ls labels.Labels) (key groupKey, ok bool),
) (map[groupKey]*accs, error) {
	groups := make(map[groupKey]*accs)
	for _, s := range p.samples {
		r := routeOf(s.name, p.sets[s.set])
		if r.to == slotNone {
			continue
		}
		key, ok := keyOf(p.sets[s.set])
		if !ok || (only != "" && key.model != only) {
			continue
		}
		v, err := p.value(s)
		if err != nil {
			return nil, err
		}
		if r.per != 0 {
			v /= r.per
		}
		if r.keepMax {
			key.metric = s.name
		}
		g := groups[key]
		if g == nil {
			g = new(accs)
			groups[key] = g
		}
		g[r.to].add(v, r.keepMax)
		if r.also != slotNone {
			g[r.also].add(v, r.keepMax)
		}
		// g[slotNone] stays zero, so checking also is safe when unset.
		if math.IsInf(g[r.to].sum, 0) || math.IsInf(g[r.also].sum, 0) {
			return nil, overflow("the sum of the "+s.name+" series", key.model)
		}
	}
	return groups, nil
}

// readings merges the groups of each model and turns them into readings.
// Sums and counts add up, so the KV share, a mean, is averaged over every
// series or group that gave one.
func readings(groups map[groupKey]*accs) (map[string]timeline.Reading, error) {
	models := make(map[string]*accs, len(groups))
	for key, g := range groups {
		m := models[key.model]
		if m == nil {
			m = new(accs)
			models[key.model] = m
		}
		for i := range g {
			m[i].sum += g[i].sum
			m[i].n += g[i].n
			if math.IsInf(m[i].sum, 0) {
				return nil, overflow("the sum of the series", key.model)
			}
		}
	}
	out := make(map[string]timeline.Reading, len(models))
	for model, m := range models {
		out[model] = m.reading()
	}
	return out, nil
}

// reading fills a Reading from the accumulators, marking present every
// field the page had a series for.
func (a *accs) reading() timeline.Reading {
	var r timeline.Reading
	set := func(f timeline.Field, dst *float64, s, alt slot) {
		switch {
		case a[s].n > 0:
			*dst = a[s].sum
		case alt != slotNone && a[alt].n > 0:
			*dst = a[alt].sum
		default:
			return
		}
		r.Present |= f
	}
	set(timeline.FieldRunning, &r.Running, slotRunning, slotNone)
	set(timeline.FieldWaiting, &r.Waiting, slotWaiting, slotNone)
	set(timeline.FieldCompleted, &r.Completed, slotCompleted, slotCompletedAlt)
	set(timeline.FieldProcessing, &r.ProcessingSeconds, slotProcessing, slotNone)
	set(timeline.FieldPromptTokens, &r.PromptTokens, slotPrompt, slotNone)
	set(timeline.FieldGenerationTokens, &r.GenerationTokens, slotGeneration, slotNone)

	// Latency needs its sum and its count from the same source.
	switch {
	case a[slotLatencySum].n > 0 && a[slotLatencyCount].n > 0:
		r.LatencySum, r.LatencyCount = a[slotLatencySum].sum, a[slotLatencyCount].sum
		r.Present |= timeline.FieldLatency
	case a[slotLatencySumAlt].n > 0 && a[slotLatencyCountAlt].n > 0:
		r.LatencySum, r.LatencyCount = a[slotLatencySumAlt].sum, a[slotLatencyCountAlt].sum
		r.Present |= timeline.FieldLatency
	}

	switch {
	case a[slotKV].n > 0:
		r.KVCacheUsage = a[slotKV].mean()
	case a[slotKVAlt].n > 0:
		r.KVCacheUsage = a[slotKVAlt].mean()
	case a[slotKVUsed].n > 0 && a[slotKVMax].sum >= 1:
		// Block counts: a maximum of at least one keeps the ratio finite.
		r.KVCacheUsage = a[slotKVUsed].sum / a[slotKVMax].sum
	default:
		return r
	}
	r.Present |= timeline.FieldKVCache
	return r
}

// modelLabel returns a keyOf function for servers that label their series
// with the model name, skipping series without the label.
func modelLabel(name string) func(labels.Labels) (groupKey, bool) {
	return func(ls labels.Labels) (groupKey, bool) {
		m := ls.Get(name)
		return groupKey{model: m}, m != ""
	}
}

// fixedModel returns a keyOf function for servers without a model label:
// every series belongs to the configured model, or to UnknownModel.
func fixedModel(model string) func(labels.Labels) (groupKey, bool) {
	if model == "" {
		model = UnknownModel
	}
	return func(labels.Labels) (groupKey, bool) { return groupKey{model: model}, true }
}
