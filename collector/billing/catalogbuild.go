package billing

import (
	"fmt"
	"math"
	"strings"

	"github.com/placement-exporter/placement_exporter/internal/suggest"
)

// compile merges a user catalog file over the built-in one (base, nil when
// the user file replaces it), validates the result and resolves each offer.
func compile(base, user *catalogFile) (*Catalog, error) {
	files := []*catalogFile{user}
	if base != nil {
		files = []*catalogFile{base, user}
	}
	var errs mistakes

	currency := "USD"
	if files[0].currency != "" {
		currency = files[0].currency
	}
	if user.currency != "" && user.currency != currency {
		errs.add(user.name, user.currencyLine, "", "currency %s differs from the built-in "+
			"catalog's %s (convert your prices to %[2]s, or set replace_defaults: true "+
			"to use only this file's offers)", user.currency, currency)
		return nil, errs.err()
	}

	providers := mergeProviders(files, currency, &errs)
	offers := mergeOffers(files, providers, &errs)
	checkUnusedProviders(user, offers, &errs)

	resolved := make([]Offer, 0, len(offers))
	for _, o := range offers {
		if off, ok := resolveOffer(o, providers[str(o.Provider)], currency, &errs); ok {
			resolved = append(resolved, off)
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return newCatalog(currency, resolved), nil
}

// checkUnusedProviders reports a provider block of the user file that no
// offer uses: most likely a misspelt provider, whose settings would
// otherwise be ignored without a word.
func checkUnusedProviders(user *catalogFile, offers []*rawOffer, errs *mistakes) {
	used := map[string]bool{}
	var names []string
	for _, o := range offers {
		if p := str(o.Provider); !used[p] {
			used[p] = true
			names = append(names, p)
		}
	}
	for _, p := range user.providers {
		if used[p.name] {
			continue
		}
		hint := "add an offer for it under offers:, or remove the block"
		if near := suggest.Closest(p.name, names); near != "" {
			hint = fmt.Sprintf("did you mean %q? ", near) + hint
		}
		errs.add(p.file, p.line, fmt.Sprintf("provider %q", p.name), "no offer uses this provider (%s)", hint)
	}
}

// mergeProviders checks every provider block and merges later files' blocks
// over earlier ones key by key.
func mergeProviders(files []*catalogFile, currency string, errs *mistakes) map[string]*rawProvider {
	merged := map[string]*rawProvider{}
	for _, f := range files {
		for _, p := range f.providers {
			entry := fmt.Sprintf("provider %q", p.name)
			checkBlock(&p.rawBlock, currency, reporter(errs, &p.rawBlock, entry))
			if prev, ok := merged[p.name]; ok {
				m := *prev
				overlay(&m, p)
				m.file, m.line, m.lines = p.file, p.line, p.lines
				p = &m
			}
			merged[p.name] = p
			if p.Window == nil {
				continue
			}
			if _, msg := resolveWindow(p.Window); msg != "" {
				reporter(errs, &p.rawBlock, entry)("scaledown_window_seconds", "%s", msg)
			}
		}
	}
	return merged
}

// mergeOffers lists the offers of all files in order, a later file's offer
// replacing an earlier one with the same id, and reports ids repeated within
// one file or differing from an existing id only in case.
func mergeOffers(files []*catalogFile, providers map[string]*rawProvider,
	errs *mistakes) []*rawOffer {
	var list []*rawOffer
	index := map[string]int{}     // id -> position in list
	folded := map[string]string{} // lower-case id -> id
	for _, f := range files {
		inFile := map[string]*rawOffer{}
		for _, o := range f.offers {
			id, entry := offerID(o, providers)
			if len(o.issues) > 0 {
				for _, is := range o.issues {
					errs.add(o.file, is.line, entry, "%s", is.msg)
				}
				continue
			}
			if id == "" {
				list = append(list, o) // resolveOffer says what is missing
				continue
			}
			if prev, dup := inFile[id]; dup {
				errs.add(o.file, o.line, entry, "duplicate id, first at line %d "+
					"(set name: to tell the offers apart)", prev.line)
				continue
			}
			inFile[id] = o
			if other, ok := folded[strings.ToLower(id)]; ok && other != id {
				errs.add(o.file, o.line, entry, "id differs from %q only in case (write %q "+
					"to replace that offer, or choose another name:)", other, other)
				continue
			}
			folded[strings.ToLower(id)] = id
			if i, ok := index[id]; ok {
				list[i] = o
				continue
			}
			index[id] = len(list)
			list = append(list, o)
		}
	}
	return list
}

// offerMode returns the mode an offer sets, or else its provider's.
func offerMode(o *rawOffer, providers map[string]*rawProvider) Mode {
	if o.Mode != nil {
		return Mode(*o.Mode)
	}
	if p := providers[str(o.Provider)]; p != nil && p.Mode != nil {
		return Mode(*p.Mode)
	}
	return ""
}

// offerID returns an offer's id, "provider/name[/commitment]", where name
// defaults to the GPU for serverless offers, and the entry's name for
// messages. The id is empty when the offer lacks what it is made of.
func offerID(o *rawOffer, providers map[string]*rawProvider) (id, entry string) {
	name := str(o.Name)
	if name == "" && offerMode(o, providers) == ModeServerless {
		name = str(o.GPU)
	}
	if o.Provider == nil || name == "" {
		return "", fmt.Sprintf("offer #%d (provider %q, gpu %q)", o.index, str(o.Provider),
			str(o.GPU))
	}
	id = *o.Provider + "/" + name
	if c := str(o.Commitment); c != "" && c != "none" {
		id += "/" + c
	}
	return id, fmt.Sprintf("offer %q", id)
}

// reporter returns a function that reports a mistake at the line of a key
// of a block, or at the block's first line when the key is not set there.
func reporter(errs *mistakes, b *rawBlock, entry string) func(key, format string, args ...any) {
	return func(key, format string, args ...any) {
		line, ok := b.lines[key]
		if !ok {
			line = b.line
		}
		errs.add(b.file, line, entry, format, args...)
	}
}

// resolveOffer applies an offer's settings over its provider's terms and
// checks what the resolved offer needs.
func resolveOffer(o *rawOffer, prov *rawProvider, currency string, errs *mistakes) (Offer, bool) {
	_, entry := offerID(o, map[string]*rawProvider{str(o.Provider): prov})
	n := len(*errs)
	report := reporter(errs, &o.rawBlock, entry)
	checkBlock(&o.rawBlock, currency, report)

	var t rawTerms
	off := Offer{Currency: currency, Commitment: "none", GranularitySeconds: 1,
		BillsIdleWarm: true, BillsColdStart: true, GPUsPerUnit: 1}
	if prov != nil {
		t = prov.rawTerms
		off.TermsSource, off.TermsAsOf, off.Confidence = str(prov.Source), str(prov.AsOf),
			str(prov.Confidence)
	}
	overlay(&t, &o.rawTerms)
	off.Provider, off.Name, off.Product, off.GPU = str(o.Provider), str(o.Name), str(o.Product),
		str(o.GPU)
	off.Source, off.AsOf = str(o.Source), str(o.AsOf)
	if o.Confidence != nil {
		off.Confidence = *o.Confidence
	}
	where := "on the offer"
	if off.Provider != "" {
		where = fmt.Sprintf("on the offer or in providers: %s", off.Provider)
	}

	switch {
	case o.Provider == nil:
		report("provider", "provider is missing (set provider: to a lower-case name such "+
			"as modal)")
		return Offer{}, false // what else is missing depends on the provider
	case !providerRE.MatchString(off.Provider):
		fix := ""
		if lower := strings.ToLower(off.Provider); providerRE.MatchString(lower) {
			fix = fmt.Sprintf(" (write %q)", lower)
		}
		report("provider", "provider must be lower-case letters, digits and _, got %q%s",
			off.Provider, fix)
		return Offer{}, false
	case prov == nil && o.Mode == nil:
		// A new provider needs its terms; a near miss of a known one is a typo.
		if near := suggest.Closest(off.Provider, knownProviders()); near != "" {
			report("provider", "unknown provider %q; did you mean %q? (a new provider needs a "+
				"providers: block with mode: and unit:)", off.Provider, near)
			return Offer{}, false
		}
	}
	if o.GPU == nil {
		report("gpu", "gpu is missing (set gpu: to the GPU type, such as H100 or A100-80GB)")
	} else if !nameRE.MatchString(off.GPU) {
		report("gpu", "gpu must be letters, digits, '.', '_' and '-', got %q", off.GPU)
	}
	if t.Mode == nil {
		report("mode", "mode is missing (set mode: serverless or mode: always_on %s)", where)
	} else {
		off.Mode = Mode(*t.Mode)
	}
	if t.Unit == nil {
		report("unit", "unit is missing (set unit: to one of %s %s)", unitChoices(currency),
			where)
	} else {
		off.Unit = *t.Unit
	}
	_, kind, _ := strings.Cut(off.Unit, "_")
	unit, unitOK := unitKinds[kind]
	if t.GPUsPerUnit != nil {
		off.GPUsPerUnit = *t.GPUsPerUnit
	}

	switch {
	case o.Price == nil:
		report("price", "price is missing (set price: in %s)", orUnknown(off.Unit))
	case math.IsInf(*o.Price, 1):
		report("price", "price must be a finite number, got %g", *o.Price)
	case !(*o.Price > 0):
		words := ""
		if unitOK {
			words = fmt.Sprintf(" (prices are in %s %s for unit %s)", currency, unit.words,
				off.Unit)
		}
		report("price", "price must be > 0, got %g%s", *o.Price, words)
	default:
		off.Price = *o.Price
	}

	if off.Name == "" && off.Mode == ModeServerless {
		off.Name = off.GPU
	}
	switch {
	case off.Name == "" && off.Mode == ModeAlwaysOn:
		report("name", "name is missing (always-on offers are named after what is rented, "+
			"such as name: p5.4xlarge)")
	case off.Name != "" && !nameRE.MatchString(off.Name):
		report("name", "name must be letters, digits, '.', '_' and '-', got %q", off.Name)
	}

	switch off.Mode {
	case ModeServerless:
		resolveServerless(o, t, &off, report)
	case ModeAlwaysOn:
		for _, key := range serverlessOnlyKeys {
			if _, set := o.lines[key]; set {
				report(key, "%s applies only to serverless offers, this one is always_on", key)
			}
		}
		if o.Commitment != nil {
			off.Commitment = *o.Commitment
		}
		if !commitmentRE.MatchString(off.Commitment) {
			report("commitment", "commitment must be none or a term such as 6mo or 1y, got %q",
				off.Commitment)
		}
	}

	if len(*errs) > n || !unitOK {
		return Offer{}, false // a bad unit set by the provider is reported there
	}
	off.ID, _ = offerID(o, map[string]*rawProvider{off.Provider: prov})
	off.perGPUSecond = off.Price / unit.seconds
	if unit.perUnit {
		off.perGPUSecond /= float64(off.GPUsPerUnit)
	}
	return off, true
}

// resolveServerless fills in and checks the terms only serverless offers have.
func resolveServerless(o *rawOffer, t rawTerms, off *Offer, report func(string, string, ...any)) {
	if o.Commitment != nil && *o.Commitment != "none" {
		report("commitment", "commitment applies only to always-on offers, this one is "+
			"serverless")
	}
	if off.GPUsPerUnit != 1 {
		report("gpus_per_unit", "gpus_per_unit applies only to always-on offers "+
			"(serverless prices are per GPU)")
	}
	if strings.HasSuffix(off.Unit, "_per_unit_hour") {
		report("unit", "unit %s applies only to always-on offers (serverless prices are "+
			"per GPU)", off.Unit)
	}
	switch {
	case t.Window == nil:
		report("scaledown_window_seconds", "scaledown_window_seconds is missing (set "+
			"{default: S}, with min: and max: if the provider bounds it)")
	default:
		w, msg := resolveWindow(t.Window)
		if _, own := o.lines["scaledown_window_seconds"]; msg != "" && own {
			report("scaledown_window_seconds", "%s", msg)
		}
		off.Window = w
	}
	if t.ColdStartSeconds == nil {
		report("cold_start_seconds", "cold_start_seconds is missing (set the seconds a new "+
			"container takes to serve its first request; measure it on your deployment)")
	} else {
		off.ColdStartSeconds = *t.ColdStartSeconds
	}
	off.ColdStartSource = str(t.ColdStartSource)
	if t.Granularity != nil {
		off.GranularitySeconds = *t.Granularity
	}
	if t.MinBilled != nil {
		off.MinBilledSeconds = *t.MinBilled
	}
	if t.BillsIdleWarm != nil {
		off.BillsIdleWarm = *t.BillsIdleWarm
	}
	if t.BillsColdStart != nil {
		off.BillsColdStart = *t.BillsColdStart
	}
}

func orUnknown(unit string) string {
	if unit == "" {
		return "the offer's unit"
	}
	return unit
}

// knownProviders lists the providers of the built-in catalog.
func knownProviders() []string {
	f, err := builtIn()
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(f.providers))
	for _, p := range f.providers {
		names = append(names, p.name)
	}
	return names
}
