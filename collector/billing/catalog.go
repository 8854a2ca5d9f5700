// Package billing prices a model's busy/idle timeline: a catalog of GPU
// offers, a simulation of what a serverless offer would bill for the
// timeline, the cost of always-on capacity over the same time, and the duty
// cycle at which the two cost the same. It reads no clock and does no I/O
// apart from loading a catalog file.
package billing

import (
	_ "embed"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
)

// Mode says how an offer is billed.
type Mode string

// The billing modes.
const (
	// ModeServerless offers scale to zero and bill per second of container
	// life (see Serverless).
	ModeServerless Mode = "serverless"
	// ModeAlwaysOn offers bill every hour the capacity is held, used or not:
	// on-demand instances and committed (reserved) terms alike.
	ModeAlwaysOn Mode = "always_on"
)

// WindowRange is a serverless offer's scale-down window, in seconds: how long
// an idle container stays warm (and billed) before it scales to zero.
type WindowRange struct {
	// Default is the provider's default window.
	Default float64
	// Min and Max bound the windows the provider allows. Min is 0 and Max is
	// +Inf where the provider states no bound.
	Min, Max float64
}

// Contains reports whether a window of the given seconds is allowed.
func (w WindowRange) Contains(seconds float64) bool {
	return seconds >= w.Min && seconds <= w.Max
}

// String formats the range as "2–1200 s", or "≥ 0 s" without a maximum.
func (w WindowRange) String() string {
	if math.IsInf(w.Max, 1) {
		return fmt.Sprintf("≥ %g s", w.Min)
	}
	return fmt.Sprintf("%g–%g s", w.Min, w.Max)
}

// Offer is one priced way to run a GPU, resolved from the catalog: the
// provider's billing terms with the offer's own settings on top.
type Offer struct {
	// ID is the stable identifier "provider/name", or
	// "provider/name/commitment" for committed terms.
	ID string
	// Provider is the lower-case provider key (modal, aws, runpod_pods).
	Provider string
	// Name tells the provider's offers apart: the GPU for serverless offers,
	// the instance type for always-on ones.
	Name string
	// Product is an optional description of what is sold.
	Product string
	// GPU is the GPU type (H100, A100-80GB, L4...).
	GPU string
	// Mode is serverless or always-on.
	Mode Mode
	// Commitment is "none" for on-demand capacity, else the term ("1y").
	// Serverless offers always have "none".
	Commitment string
	// Price is the price as written in the catalog, in Unit.
	Price float64
	// Unit is the unit of Price: "<currency>_per_gpu_second",
	// "_per_gpu_minute", "_per_gpu_hour" or "_per_unit_hour".
	Unit string
	// Currency is the catalog's ISO 4217 currency code (USD).
	Currency string
	// GPUsPerUnit is the number of GPUs capacity is sold in (8 for an
	// 8-GPU-only instance), 1 for serverless offers.
	GPUsPerUnit int

	// GranularitySeconds is the billing increment of a container's life
	// (1 = per second, 60 = per started minute). Serverless only.
	GranularitySeconds float64
	// MinBilledSeconds is the least a container start is billed. Serverless
	// only.
	MinBilledSeconds float64
	// Window is the scale-down window the provider uses and allows.
	// Serverless only.
	Window WindowRange
	// BillsIdleWarm says whether a warm container waiting for requests is
	// billed. Serverless only.
	BillsIdleWarm bool
	// BillsColdStart says whether the time a new container spends starting
	// and loading the model is billed. Serverless only.
	BillsColdStart bool
	// ColdStartSeconds is the typical time from a request that finds no warm
	// container to that container serving it. Serverless only.
	ColdStartSeconds float64
	// ColdStartSource says where ColdStartSeconds comes from, or that it is
	// a placeholder.
	ColdStartSource string

	// Source and AsOf name where the price comes from and its date
	// (YYYY-MM-DD or YYYY-MM). Confidence grades the source.
	Source, AsOf, Confidence string
	// TermsSource and TermsAsOf name where the provider's billing terms
	// (window, granularity, cold starts) come from, when the catalog says.
	TermsSource, TermsAsOf string

	perGPUSecond float64
}

// PricePerGPUSecond returns the offer's price converted to the catalog's
// currency per GPU-second.
func (o Offer) PricePerGPUSecond() float64 { return o.perGPUSecond }

// BilledGPUs returns how many GPUs an always-on offer bills to provide gpus
// GPUs: gpus rounded up to a whole number of units. One GPU from an
// 8-GPU-only offer bills 8. Serverless offers bill gpus as they are.
func (o Offer) BilledGPUs(gpus int) int {
	u := max(o.GPUsPerUnit, 1)
	return (gpus + u - 1) / u * u
}

// CheckWindow returns an error unless seconds is a scale-down window the
// serverless offer allows.
func (o Offer) CheckWindow(seconds float64) error {
	if o.Mode != ModeServerless {
		return fmt.Errorf("offer %q: a scale-down window applies only to serverless offers, "+
			"this one is %s", o.ID, o.Mode)
	}
	if math.IsNaN(seconds) || !o.Window.Contains(seconds) {
		return fmt.Errorf("offer %q: window %g s is outside the allowed range %s "+
			"(the provider's default is %g s)", o.ID, seconds, o.Window, o.Window.Default)
	}
	return nil
}

// Catalog is a validated, read-only set of offers.
type Catalog struct {
	currency string
	offers   []Offer // sorted by ID
	byID     map[string]int
}

//go:embed catalog.yaml
var defaultCatalogYAML []byte

// defaultCatalogName names the built-in catalog in error messages.
const defaultCatalogName = "catalog.yaml (built in)"

// builtIn is the built-in catalog file, decoded once.
var builtIn = sync.OnceValues(func() (*catalogFile, error) {
	return parseCatalogFile(defaultCatalogName, defaultCatalogYAML)
})

var defaultCatalog = sync.OnceValue(func() *Catalog {
	f, err := builtIn()
	if err == nil {
		var c *Catalog
		if c, err = compile(nil, f); err == nil {
			return c
		}
	}
	panic("billing: built-in price catalog: " + err.Error())
})

// DefaultCatalog returns the built-in catalog. Its data is checked by the
// package's tests, so a failure here is a build defect and panics.
func DefaultCatalog() *Catalog { return defaultCatalog() }

// LoadCatalog reads a user catalog from path and applies it to the built-in
// one. In the file, a provider block changes only the keys it sets; an offer
// whose id is already in the catalog replaces that offer; an offer with a new
// id is added. With "replace_defaults: true" the file is the whole catalog.
// Unknown keys are errors, and every error names the file, the line, the
// entry and the fix.
func LoadCatalog(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("price catalog: %w", err)
	}
	return loadCatalog(path, data)
}

func loadCatalog(name string, data []byte) (*Catalog, error) {
	user, err := parseCatalogFile(name, data)
	if err != nil {
		return nil, err
	}
	base, err := builtIn()
	if err != nil {
		return nil, err
	}
	if user.replaceDefaults {
		base = nil
	}
	return compile(base, user)
}

// Currency returns the catalog's ISO 4217 currency code.
func (c *Catalog) Currency() string { return c.currency }

// Offers returns every offer, sorted by ID.
func (c *Catalog) Offers() []Offer { return append([]Offer(nil), c.offers...) }

// Offer returns the offer with the given ID.
func (c *Catalog) Offer(id string) (Offer, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Offer{}, false
	}
	return c.offers[i], true
}

// ServerlessFor returns the serverless offers for a GPU type (matched without
// regard to case), sorted by ID.
func (c *Catalog) ServerlessFor(gpu string) []Offer { return c.filter(gpu, ModeServerless) }

// AlwaysOnFor returns the always-on offers for a GPU type (matched without
// regard to case), sorted by ID.
func (c *Catalog) AlwaysOnFor(gpu string) []Offer { return c.filter(gpu, ModeAlwaysOn) }

func (c *Catalog) filter(gpu string, m Mode) []Offer {
	var out []Offer
	for _, o := range c.offers {
		if o.Mode == m && strings.EqualFold(o.GPU, gpu) {
			out = append(out, o)
		}
	}
	return out
}

// Cheapest returns, among the offers with the given IDs, the one whose
// price for gpus GPUs per second is lowest, counting whole units for offers
// sold in units (so a 1-GPU need is not matched with an 8-GPU-only price
// per GPU). Ties go to the earlier ID in ids. An unknown ID is an error.
func (c *Catalog) Cheapest(ids []string, gpus int) (Offer, error) {
	var best Offer
	bestCost := math.Inf(1)
	for _, id := range ids {
		o, ok := c.Offer(id)
		if !ok {
			return Offer{}, fmt.Errorf("offer %q is not in the price catalog", id)
		}
		if cost := o.PricePerGPUSecond() * float64(o.BilledGPUs(gpus)); cost < bestCost {
			best, bestCost = o, cost
		}
	}
	if len(ids) == 0 {
		return Offer{}, fmt.Errorf("no offers to choose from")
	}
	return best, nil
}

func newCatalog(currency string, offers []Offer) *Catalog {
	sort.Slice(offers, func(i, j int) bool { return offers[i].ID < offers[j].ID })
	c := &Catalog{currency: currency, offers: offers, byID: make(map[string]int, len(offers))}
	for i, o := range offers {
		c.byID[o.ID] = i
	}
	return c
}
