package collector

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/billing"
	"github.com/placement-exporter/placement_exporter/collector/timeline"
	"github.com/placement-exporter/placement_exporter/config"
	"github.com/placement-exporter/placement_exporter/internal/suggest"
)

// costPlan is what a model is priced against: its serverless offers at
// their default windows, the what-if windows on the cheapest of them, and
// one always-on offer.
type costPlan struct {
	serverless []planned // default windows first, then the what-if windows
	alwaysOn   billing.Offer
	replicas   int
	gpus       int
	opts       billing.Options
}

type planned struct {
	offer  billing.Offer
	window float64 // seconds
	whatIf bool
}

// key identifies a plan, so that a reload which does not change it keeps
// the simulations' totals.
func (p planned) key(opts billing.Options) string {
	return fmt.Sprintf("%s/%g/%d/%g/%d", p.offer.ID, p.window, opts.MinContainers,
		opts.MaxConcurrencyPerReplica, opts.GPUsPerReplica)
}

// planCosts resolves a model's settings against the catalog. A model with
// no GPU type has no plan and no cost series.
func planCosts(cat *billing.Catalog, s config.Settings, windows []time.Duration) (*costPlan, error) {
	if s.GPU == "" || cat == nil {
		return nil, nil
	}
	p := &costPlan{
		replicas: s.Replicas,
		gpus:     s.GPUsPerReplica,
		opts: billing.Options{
			MinContainers:            s.MinContainers,
			MaxConcurrencyPerReplica: s.MaxConcurrencyPerReplica,
			GPUsPerReplica:           s.GPUsPerReplica,
		},
	}

	if canonical := catalogGPU(cat, s.GPU); canonical != s.GPU {
		if canonical == "" {
			return nil, fmt.Errorf("GPU %q is not in the price catalog (%s; add it with --prices.file)", s.GPU, knownGPUs(cat))
		}
		return nil, fmt.Errorf("GPU %q is not in the price catalog; did you mean %q? (GPU types are case-sensitive)", s.GPU, canonical)
	}
	offers := cat.ServerlessFor(s.GPU)
	if len(s.ServerlessOffers) > 0 {
		offers = offers[:0:0]
		for _, id := range s.ServerlessOffers {
			o, ok := cat.Offer(id)
			switch {
			case !ok:
				return nil, fmt.Errorf("serverless offer %q is not in the price catalog (%s)", id, offerHint(cat, id, billing.ModeServerless))
			case o.Mode != billing.ModeServerless:
				return nil, fmt.Errorf("offer %q is always-on; list it as always_on_offer, not under serverless_offers", id)
			case o.GPU != s.GPU:
				return nil, fmt.Errorf("serverless offer %q is for GPU %s, but the model runs on %s", id, o.GPU, s.GPU)
			}
			offers = append(offers, o)
		}
	}
	if len(offers) == 0 {
		return nil, fmt.Errorf("the price catalog has no serverless offer for GPU %q (%s; add one with --prices.file)", s.GPU, knownGPUs(cat))
	}
	for _, o := range offers {
		p.serverless = append(p.serverless, planned{offer: o, window: o.Window.Default})
	}
	cheapest := offers[0]
	for _, o := range offers[1:] {
		if o.PricePerGPUSecond() < cheapest.PricePerGPUSecond() {
			cheapest = o
		}
	}
	for _, w := range windows {
		sec := w.Seconds()
		if sec == cheapest.Window.Default || cheapest.CheckWindow(sec) != nil {
			// The default window is simulated already; a window the
			// provider does not allow is not a choice.
			continue
		}
		p.serverless = append(p.serverless, planned{offer: cheapest, window: sec, whatIf: true})
	}

	if s.AlwaysOnOffer != "" {
		o, ok := cat.Offer(s.AlwaysOnOffer)
		switch {
		case !ok:
			return nil, fmt.Errorf("always_on_offer %q is not in the price catalog (%s)", s.AlwaysOnOffer, offerHint(cat, s.AlwaysOnOffer, billing.ModeAlwaysOn))
		case o.Mode != billing.ModeAlwaysOn:
			return nil, fmt.Errorf("always_on_offer %q is a serverless offer; list it under serverless_offers", s.AlwaysOnOffer)
		case o.GPU != s.GPU:
			return nil, fmt.Errorf("always_on_offer %q is for GPU %s, but the model runs on %s", o.ID, o.GPU, s.GPU)
		}
		p.alwaysOn = o
	} else {
		var ids []string
		for _, o := range cat.AlwaysOnFor(s.GPU) {
			if o.Commitment == "none" {
				ids = append(ids, o.ID)
			}
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("the price catalog has no on-demand always-on offer for GPU %q (set always_on_offer, or add one with --prices.file)", s.GPU)
		}
		o, err := cat.Cheapest(ids, s.Replicas*s.GPUsPerReplica)
		if err != nil {
			return nil, err
		}
		p.alwaysOn = o
	}
	return p, nil
}

// catalogGPU returns the catalog's spelling of a GPU type: gpu itself, the
// one that differs only in case, or "" when there is none.
func catalogGPU(cat *billing.Catalog, gpu string) string {
	match := ""
	for _, o := range cat.Offers() {
		if o.GPU == gpu {
			return gpu
		}
		if strings.EqualFold(o.GPU, gpu) {
			match = o.GPU
		}
	}
	return match
}

func knownGPUs(cat *billing.Catalog) string {
	seen := map[string]bool{}
	var gpus []string
	for _, o := range cat.Offers() {
		if !seen[o.GPU] {
			seen[o.GPU] = true
			gpus = append(gpus, o.GPU)
		}
	}
	sort.Strings(gpus)
	return "GPU types priced: " + strings.Join(gpus, ", ")
}

// offerHint lists the catalog's offers of one mode whose id shares the
// provider of id, or all providers when none does.
func offerHint(cat *billing.Catalog, id string, mode billing.Mode) string {
	provider, _, _ := strings.Cut(id, "/")
	var same, providers []string
	seen := map[string]bool{}
	for _, o := range cat.Offers() {
		if o.Mode != mode {
			continue
		}
		if o.Provider == provider {
			same = append(same, o.ID)
		}
		if !seen[o.Provider] {
			seen[o.Provider] = true
			providers = append(providers, o.Provider)
		}
	}
	if len(same) > 0 {
		hint := ""
		if near := suggest.Closest(id, same); near != "" {
			hint = fmt.Sprintf("did you mean %q? ", near)
		}
		return hint + "offers of " + provider + ": " + strings.Join(same, ", ")
	}
	return "providers: " + strings.Join(providers, ", ")
}

// CheckCosts resolves every model's cost settings in cfg against the
// catalog, so that a bad offer or GPU type is refused when the
// configuration is loaded, with its file and line.
func CheckCosts(cfg *config.Config, cat *billing.Catalog) error {
	var windows []time.Duration
	for _, w := range cfg.ScaleDownWindows {
		windows = append(windows, time.Duration(w))
	}
	var errs []error
	for i, t := range cfg.Targets {
		if _, err := planCosts(cat, t.Settings, windows); err != nil {
			errs = append(errs, &config.Error{File: cfg.File, Line: t.Line, Msg: fmt.Sprintf("targets[%d]: %v", i, err)})
		}
		for _, m := range t.ConfiguredModels() {
			if _, ok := t.Models[m]; !ok {
				continue
			}
			if _, err := planCosts(cat, t.For(m), windows); err != nil {
				errs = append(errs, &config.Error{File: cfg.File, Line: t.Line, Msg: fmt.Sprintf("targets[%d].models[%q]: %v", i, m, err)})
			}
		}
	}
	return errors.Join(errs...)
}

// costs are the running cost simulations of one model. It is a
// timeline.Sink fed by the model's estimator.
type costs struct {
	plan       *costPlan
	serverless []*billing.Serverless // in plan order
	keys       []string
	alwaysOn   *billing.AlwaysOn
}

func newCosts(p *costPlan, old *costs) (*costs, error) {
	c := &costs{plan: p}
	if p == nil {
		return c, nil
	}
	kept := map[string]*billing.Serverless{}
	if old != nil {
		for i, k := range old.keys {
			kept[k] = old.serverless[i]
		}
	}
	for _, sp := range p.serverless {
		k := sp.key(p.opts)
		sim, ok := kept[k]
		if !ok {
			var err error
			if sim, err = billing.NewServerless(sp.offer, sp.window, p.opts); err != nil {
				return nil, err
			}
		}
		c.serverless = append(c.serverless, sim)
		c.keys = append(c.keys, k)
	}
	if old != nil && old.alwaysOn != nil && old.plan != nil && old.plan.alwaysOn.ID == p.alwaysOn.ID &&
		old.plan.replicas == p.replicas && old.plan.gpus == p.gpus {
		c.alwaysOn = old.alwaysOn
	} else {
		var err error
		if c.alwaysOn, err = billing.NewAlwaysOn(p.alwaysOn, p.replicas, p.gpus); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Add feeds a segment to every simulation.
func (c *costs) Add(s timeline.Segment) {
	for _, sim := range c.serverless {
		sim.Add(s)
	}
	if c.alwaysOn != nil {
		c.alwaysOn.Add(s)
	}
}

// costSnapshot is what a scrape reports of a model's costs.
type costSnapshot struct {
	serverless []serverlessSnapshot
	alwaysOn   billing.Totals
	aoOffer    billing.Offer
	ok         bool
}

type serverlessSnapshot struct {
	offer     billing.Offer
	window    string
	whatIf    bool
	totals    billing.Totals
	breakEven float64
	hasBE     bool
}

func (c *costs) snapshot() costSnapshot {
	if c == nil || c.plan == nil {
		return costSnapshot{}
	}
	s := costSnapshot{ok: true, alwaysOn: c.alwaysOn.Totals(), aoOffer: c.plan.alwaysOn}
	perSecond := c.alwaysOn.DollarsPerSecond()
	for i, sim := range c.serverless {
		sp := c.plan.serverless[i]
		ss := serverlessSnapshot{
			offer:  sp.offer,
			window: formatWindow(sp.window),
			whatIf: sp.whatIf,
			totals: sim.Totals(),
		}
		if !sp.whatIf {
			ss.breakEven, ss.hasBE = sim.BreakEven(perSecond)
		}
		s.serverless = append(s.serverless, ss)
	}
	return s
}

// formatWindow is the window label: whole seconds, no exponent.
func formatWindow(seconds float64) string { return strconv.FormatFloat(seconds, 'f', -1, 64) }

// priceUnit is the unit label of placement_offer_price_dollars: the
// catalog's unit without its currency prefix (gpu_second, gpu_hour, ...).
func priceUnit(o billing.Offer) string {
	return strings.TrimPrefix(o.Unit, strings.ToLower(o.Currency)+"_per_")
}
