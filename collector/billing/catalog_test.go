package billing

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// near reports whether a and b agree to within 1e-9 relative (float sums).
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestDefaultCatalogEntries(t *testing.T) {
	c := DefaultCatalog()
	if c.Currency() != "USD" {
		t.Errorf("currency %q, want USD", c.Currency())
	}
	for _, o := range c.Offers() {
		if o.Source == "" || !validDate(o.AsOf) {
			t.Errorf("%s: price source %q dated %q, want both", o.ID, o.Source, o.AsOf)
		}
		if !(o.PricePerGPUSecond() > 0) || math.IsInf(o.PricePerGPUSecond(), 0) {
			t.Errorf("%s: price per GPU-second %v", o.ID, o.PricePerGPUSecond())
		}
		if !contains(confidences, o.Confidence) {
			t.Errorf("%s: confidence %q", o.ID, o.Confidence)
		}
		if o.Mode == ModeServerless && (o.TermsSource == "" || !validDate(o.TermsAsOf) ||
			o.ColdStartSource == "") {
			t.Errorf("%s: billing terms source %q dated %q, cold start source %q; want all",
				o.ID, o.TermsSource, o.TermsAsOf, o.ColdStartSource)
		}
	}

	// The offers the exporter's documentation promises, by provider and GPU.
	want := []string{
		"modal/L4", "modal/A10G", "modal/L40S", "modal/A100-80GB", "modal/H100", "modal/H200",
		"runpod_serverless/L4", "runpod_serverless/L40S", "runpod_serverless/A100-80GB",
		"runpod_serverless/H100", "runpod_serverless/H200",
		"cloud_run_gpu/L4", "cloud_run_gpu/L4-zonal",
		"baseten/L4", "baseten/A10G", "baseten/A100-80GB", "baseten/H100",
		"replicate/L40S", "replicate/A100-80GB", "replicate/H100",
		"aws/g6.xlarge", "aws/g6.xlarge/1y", "aws/g5.xlarge", "aws/g6e.xlarge",
		"aws/p4de.24xlarge", "aws/p4de.24xlarge/1y", "aws/p5.4xlarge", "aws/p5.48xlarge",
		"gcp/g2-standard-4", "gcp/a2-ultragpu-1g", "gcp/a3-highgpu-8g",
		"lambda/gpu_8x_a100_80gb_sxm4", "lambda/gpu_1x_h100_sxm5",
		"runpod_pods/l4-secure", "runpod_pods/a100-80gb-sxm-secure",
		"runpod_pods/h100-sxm-secure", "runpod_pods/h200",
	}
	for _, id := range want {
		if _, ok := c.Offer(id); !ok {
			t.Errorf("default catalog lacks %s", id)
		}
	}
}

func TestOfferPrices(t *testing.T) {
	tests := []struct {
		id        string
		perSecond float64
		mode      Mode
		units     int
	}{
		{"modal/H100", 0.001097, ModeServerless, 1},
		{"baseten/H100", 0.10833 / 60, ModeServerless, 1}, // per GPU-minute
		{"fal/H100", 3.99 / 3600, ModeServerless, 1},      // per GPU-hour
		{"aws/p5.4xlarge", 6.88 / 3600, ModeAlwaysOn, 1},
		{"aws/p5.48xlarge", 55.04 / 3600 / 8, ModeAlwaysOn, 8},           // per 8-GPU unit
		{"aws/p4de.24xlarge/1y", 17.40 / 3600 / 8, ModeAlwaysOn, 8},      // 1-year term
		{"lambda/gpu_8x_h100_sxm5", 3.99 / 3600, ModeAlwaysOn, 8},        // per GPU, sold by 8
		{"coreweave/hgx-h100", 49.24 / 3600 / 8, ModeAlwaysOn, 8},        // provider's unit
		{"cloud_run_gpu/L4-zonal", 0.0002909, ModeServerless, 1},         // named offer
		{"runpod_pods/h100-sxm-community", 2.69 / 3600, ModeAlwaysOn, 1}, // pod
	}
	c := DefaultCatalog()
	for _, tc := range tests {
		o, ok := c.Offer(tc.id)
		if !ok {
			t.Errorf("%s missing", tc.id)
			continue
		}
		if !near(o.PricePerGPUSecond(), tc.perSecond) || o.Mode != tc.mode ||
			o.GPUsPerUnit != tc.units {
			t.Errorf("%s: $%v/GPU-s %s ×%d, want $%v/GPU-s %s ×%d", tc.id,
				o.PricePerGPUSecond(), o.Mode, o.GPUsPerUnit, tc.perSecond, tc.mode, tc.units)
		}
	}
	o, _ := c.Offer("aws/p4de.24xlarge/1y")
	if o.Provider != "aws" || o.Name != "p4de.24xlarge" || o.Commitment != "1y" {
		t.Errorf("aws/p4de.24xlarge/1y: provider %q name %q commitment %q", o.Provider, o.Name,
			o.Commitment)
	}
	o, _ = c.Offer("modal/H100")
	if o.Window != (WindowRange{Default: 60, Min: 2, Max: 1200}) || o.GranularitySeconds != 1 ||
		!o.BillsIdleWarm || !o.BillsColdStart || o.ColdStartSeconds != 13.8 {
		t.Errorf("modal/H100 terms: %+v", o)
	}
}

func TestOffersForGPU(t *testing.T) {
	c := DefaultCatalog()
	var ids []string
	for _, o := range c.ServerlessFor("h100") { // GPU matched without case
		ids = append(ids, o.ID)
	}
	want := "baseten/H100 beam/H100 fal/H100 koyeb/H100 modal/H100 replicate/H100 " +
		"runpod_serverless/H100"
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("ServerlessFor(h100) = %s\nwant %s", got, want)
	}
	for _, o := range c.AlwaysOnFor("L4") {
		if o.Mode != ModeAlwaysOn || o.GPU != "L4" {
			t.Errorf("AlwaysOnFor(L4) returned %s (%s, %s)", o.ID, o.Mode, o.GPU)
		}
	}
	if n := len(c.AlwaysOnFor("L4")); n != 4 { // aws g6 on demand and 1y, gcp g2, runpod
		t.Errorf("AlwaysOnFor(L4): %d offers, want 4", n)
	}
}

func TestCheapest(t *testing.T) {
	c := DefaultCatalog()
	ids := []string{"aws/p5.48xlarge", "aws/p5.4xlarge"}
	tests := []struct {
		gpus int
		want string
	}{
		// 1 GPU: $6.88/h against a whole 8-GPU instance at $55.04/h.
		{1, "aws/p5.4xlarge"},
		// 8 GPUs: 8 × $6.88 = $55.04/h, a tie; the first id wins.
		{8, "aws/p5.48xlarge"},
		// 9 GPUs: 2 instances $110.08/h against 9 × $6.88 = $61.92/h.
		{9, "aws/p5.4xlarge"},
	}
	for _, tc := range tests {
		o, err := c.Cheapest(ids, tc.gpus)
		if err != nil || o.ID != tc.want {
			t.Errorf("Cheapest(%d GPUs) = %s, %v; want %s", tc.gpus, o.ID, err, tc.want)
		}
	}
	if _, err := c.Cheapest([]string{"aws/p5.4xlarge", "aws/p9"}, 1); err == nil ||
		err.Error() != `offer "aws/p9" is not in the price catalog` {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := c.Cheapest(nil, 1); err == nil || err.Error() != "no offers to choose from" {
		t.Errorf("no ids: %v", err)
	}
}

func writeCatalog(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prices.yml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadCatalogExtends(t *testing.T) {
	c, err := LoadCatalog(writeCatalog(t, `
providers:
  modal:
    scaledown_window_seconds: {default: 120}   # min and max stay 2 and 1200
  acme:
    mode: always_on
    unit: usd_per_gpu_hour
offers:
  # A negotiated price replaces the default offer.
  - {provider: modal, gpu: H100, price: 0.0009, source: "contract", as_of: "2026-11-01"}
  - {provider: acme, name: rack-h100, gpu: H100, price: 1.80, source: "quote", as_of: "2026-12"}
`))
	if err != nil {
		t.Fatal(err)
	}
	h100, _ := c.Offer("modal/H100")
	if h100.Price != 0.0009 || h100.Source != "contract" ||
		h100.Window != (WindowRange{Default: 120, Min: 2, Max: 1200}) {
		t.Errorf("modal/H100 = %+v", h100)
	}
	if l4, _ := c.Offer("modal/L4"); l4.Price != 0.000222 || l4.Window.Default != 120 {
		t.Errorf("modal/L4 = %+v, want the default price with the new window", l4)
	}
	rack, ok := c.Offer("acme/rack-h100")
	if !ok || !near(rack.PricePerGPUSecond(), 1.80/3600) || rack.Commitment != "none" {
		t.Errorf("acme/rack-h100 = %+v, %v", rack, ok)
	}
	if n, want := len(c.Offers()), len(DefaultCatalog().Offers())+1; n != want {
		t.Errorf("%d offers, want %d", n, want)
	}
}

func TestLoadCatalogReplaces(t *testing.T) {
	c, err := LoadCatalog(writeCatalog(t, `
replace_defaults: true
currency: EUR
providers:
  onprem:
    mode: serverless
    unit: eur_per_gpu_hour
    scaledown_window_seconds: {default: 300, min: 0, max: 3600}   # KEDA cooldownPeriod
    cold_start_seconds: 45
offers:
  - {provider: onprem, gpu: L40S, price: 0.9}
`))
	if err != nil {
		t.Fatal(err)
	}
	offers := c.Offers()
	if c.Currency() != "EUR" || len(offers) != 1 || offers[0].ID != "onprem/L40S" ||
		!near(offers[0].PricePerGPUSecond(), 0.00025) || !offers[0].BillsIdleWarm ||
		offers[0].GranularitySeconds != 1 {
		t.Errorf("catalog: %s %+v", c.Currency(), offers)
	}
}

func TestLoadCatalogAliases(t *testing.T) {
	c, err := LoadCatalog(writeCatalog(t, `
providers:
  modal:
    scaledown_window_seconds: &short {default: 10, min: 2, max: 1200}
  beam:
    scaledown_window_seconds: *short
`))
	if err != nil {
		t.Fatal(err)
	}
	want := WindowRange{Default: 10, Min: 2, Max: 1200}
	for _, id := range []string{"modal/H100", "beam/H100"} {
		if o, _ := c.Offer(id); o.Window != want {
			t.Errorf("%s window %v, want %v", id, o.Window, want)
		}
	}
}

// TestBadCatalogs loads one file per kind of mistake and checks the exact
// error.
func TestBadCatalogs(t *testing.T) {
	tests := map[string]string{
		"negative-price": `:5: offer "modal/H100": price must be > 0, got -1 (prices are in ` +
			`USD per GPU-second for unit usd_per_gpu_second)`,
		"zero-price": `:2: offer "aws/p5.4xlarge": price must be > 0, got 0 (prices are in USD ` +
			`per GPU-hour for unit usd_per_gpu_hour)`,
		"unknown-unit": `:2: offer "modal/H100": unknown unit "usd_per_gpu_day" (use ` +
			`usd_per_gpu_second, usd_per_gpu_minute, usd_per_gpu_hour or usd_per_unit_hour)`,
		"wrong-currency-unit": `:2: offer "aws/p5.4xlarge": unit "eur_per_gpu_hour" does not ` +
			`match the catalog's currency USD (use usd_per_gpu_hour)`,
		"missing-gpu": `:2: offer "modal/big": gpu is missing (set gpu: to the GPU type, ` +
			`such as H100 or A100-80GB)`,
		"unknown-mode": `:3: provider "acme": mode must be serverless or always_on, ` +
			`got "reserved"`,
		"duplicate-id": `:3: offer "acme/box-1": duplicate id, first at line 2 (set name: ` +
			`to tell the offers apart)`,
		"window-outside-range": `:3: provider "modal": scaledown_window_seconds: default ` +
			`1500 s is outside the allowed range 2–1200 s (set default between min and max)`,
		"offer-window-outside-range": `:5: offer "modal/H100": scaledown_window_seconds: ` +
			`default 60 s is outside the allowed range 100–200 s (set default between min ` +
			`and max)`,
		"unknown-key":     `:4: offer "modal/H100": unknown key "prize" (did you mean "price"?)`,
		"unknown-top-key": `:1: unknown key "offer" (did you mean "offers"?)`,
		"unknown-key-far": `:3: provider "modal": unknown key "idle_timeout" (known keys: ` +
			`as_of, billing_granularity_seconds, bills_cold_start, bills_idle_warm, ` +
			`cold_start_seconds, cold_start_source, confidence, gpus_per_unit, ` +
			`min_billed_seconds, mode, scaledown_window_seconds, source, unit)`,
		"wrong-type": `:2: offer "modal/H100": price: want a number, got "cheap"`,
		"unused-provider": `:2: provider "modall": no offer uses this provider (did you mean ` +
			`"modal"? add an offer for it under offers:, or remove the block)`,
		"misspelt-provider": `:2: offer #1 (provider "modl", gpu "H100"): unknown provider ` +
			`"modl"; did you mean "modal"? (a new provider needs a providers: block with mode: ` +
			`and unit:)`,
		"currency-mismatch": `:1: currency EUR differs from the built-in catalog's USD ` +
			`(convert your prices to USD, or set replace_defaults: true to use only this ` +
			`file's offers)`,
		"serverless-key-on-always-on": `:2: offer "aws/p5.4xlarge": scaledown_window_seconds ` +
			`applies only to serverless offers, this one is always_on`,
		"missing-name": `:2: offer #1 (provider "aws", gpu "H100"): name is missing ` +
			`(always-on offers are named after what is rented, such as name: p5.4xlarge)`,
		"missing-cold-start": `:7: offer "acme/H100": cold_start_seconds is missing (set the ` +
			`seconds a new container takes to serve its first request; measure it on your ` +
			`deployment)`,
		"case-clash": `:2: offer "modal/h100": id differs from "modal/H100" only in case ` +
			`(write "modal/H100" to replace that offer, or choose another name:)`,
		"bad-date": `:2: offer "modal/H100": as_of must be a date YYYY-MM-DD or YYYY-MM, ` +
			`got "04/12/2026"`,
		"bad-commitment": `:2: offer "aws/p5.4xlarge/1year": commitment must be none or a ` +
			`term such as 6mo or 1y, got "1year"`,
		"gpus-per-unit-serverless": `:2: offer "modal/H100": gpus_per_unit applies only to ` +
			`always-on offers (serverless prices are per GPU)`,
		"bad-provider-name": `:2: offer #1 (provider "Modal", gpu "H100"): provider must be ` +
			`lower-case letters, digits and _, got "Modal" (write "modal")`,
		"merge-key": `:5: offer "modal/H100": YAML merge keys (<<) are not supported (set ` +
			`the terms offers share once, under providers:)`,
		"empty":    `: the file is empty (add providers: or offers:)`,
		"not-yaml": `:1: did not find expected ',' or '}' (not valid YAML)`,
	}
	files, err := filepath.Glob("testdata/bad/*.yml")
	if err != nil || len(files) != len(tests) {
		t.Fatalf("%d files in testdata/bad, %d expectations (%v)", len(files), len(tests), err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yml")
		want, ok := tests[name]
		if !ok {
			t.Errorf("%s: no expected error", path)
			continue
		}
		_, err := LoadCatalog(path)
		if err == nil || err.Error() != path+want {
			t.Errorf("%s:\n got %v\nwant %s", name, err, path+want)
		}
	}
}

// TestCatalogManyMistakes checks that every mistake is reported, in line
// order, each with its entry.
func TestCatalogManyMistakes(t *testing.T) {
	path := writeCatalog(t, `offers:
  - {provider: modal, gpu: H100, price: 0}
  - {provider: aws, name: p5.4xlarge, gpu: H100, price: 6.2, unit: usd_per_gpu_day}
  - {gpu: H100, price: 1}
`)
	_, err := LoadCatalog(path)
	want := strings.Join([]string{
		path + `:2: offer "modal/H100": price must be > 0, got 0 (prices are in USD per ` +
			`GPU-second for unit usd_per_gpu_second)`,
		path + `:3: offer "aws/p5.4xlarge": unknown unit "usd_per_gpu_day" (use ` +
			`usd_per_gpu_second, usd_per_gpu_minute, usd_per_gpu_hour or usd_per_unit_hour)`,
		path + `:4: offer #3 (provider "", gpu "H100"): provider is missing (set provider: ` +
			`to a lower-case name such as modal)`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant\n%s", err, want)
	}
}

func TestLoadCatalogMissingFile(t *testing.T) {
	_, err := LoadCatalog("testdata/no-such-file.yml")
	want := "price catalog: open testdata/no-such-file.yml: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
