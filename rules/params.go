package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Window is one averaging window of the recording rules.
type Window struct {
	// Name is the window as it appears in rule names ("1h" in
	// model:placement_model_duty_cycle:ratio_rate1h). It stays the same
	// when Range is shortened for a fast end-to-end test, so that every
	// consumer queries the same names.
	Name string
	// Range is the length of the window.
	Range time.Duration
	// Interval is how often the window's rule group is evaluated. It must
	// stay under Prometheus's 5 m lookback so that alerts reading the
	// recorded series never see a gap.
	Interval time.Duration
}

// Params holds every choice the generated rule files depend on: grouping
// labels, windows and alert thresholds. It is the single place to change
// them; DefaultParams documents the shipped values.
type Params struct {
	// GroupBy lists the labels that identify one model across its replicas
	// and targets. Every recording rule aggregates by exactly these labels.
	// A label that a series lacks groups as the empty value, so listing a
	// label no target sets is harmless.
	GroupBy []string
	// TargetLabels lists the labels that identify one polled target on the
	// exporter's series; they join model series to placement_target_info
	// and placement_target_up.
	TargetLabels []string

	// Base is the rate window taken over the exporter's raw counters. The
	// longer windows average these per-model rates instead of reading raw
	// samples again, which keeps a 7 d window cheap for Prometheus. It must
	// span at least four scrapes of the exporter.
	Base Window
	// Windows are the averaging windows of the recording rules, shortest
	// first.
	Windows []Window
	// AlertWindow names the window (one of Windows) whose series the
	// placement alerts compare.
	AlertWindow string
	// PresenceWindow names the window (one of Windows) in which a model must
	// have been observed for the placement alerts to fire, so that a model
	// that left its server stops alerting once this window has passed.
	PresenceWindow string

	// HoursPerMonth turns hourly costs into monthly ones (730 = 8760 / 12).
	HoursPerMonth float64
	// SavingsRatio is the share of its current monthly cost that a model
	// must save by moving before a placement alert fires.
	SavingsRatio float64
	// SavingsDollars is the monthly saving, in dollars, that a model must
	// also reach before a placement alert fires.
	SavingsDollars float64
	// ColdStartsPerHour is the rate of cold starts, at the cheapest
	// serverless setting, above which a serverless model should move to an
	// always-on GPU whatever the cost.
	ColdStartsPerHour float64
	// PlacementFor is how long a placement alert's condition must hold.
	PlacementFor time.Duration
	// TargetDownFor is how long a target must fail its polls before
	// PlacementExporterTargetDown fires.
	TargetDownFor time.Duration
	// NotObservedFor is how long a model's observed counter must stand
	// still before PlacementModelNotObserved fires.
	NotObservedFor time.Duration
	// EvaluationInterval is how often the alert group is evaluated.
	EvaluationInterval time.Duration

	// PlacementSeverity, TargetDownSeverity and NotObservedSeverity are the
	// severity labels of the alerts.
	PlacementSeverity   string
	TargetDownSeverity  string
	NotObservedSeverity string
	// RunbookURL is the runbook link prefix; the lower-cased alert name is
	// appended.
	RunbookURL string

	// RulesOnlyModelLabel is the label that names the model on the
	// inference servers' own metrics (vLLM and SGLang use model_name); it
	// takes the place of "model" in GroupBy for the rules-only file.
	RulesOnlyModelLabel string
	// ScrapeInterval is the scrape interval of the inference servers, used
	// as the rules-only subquery step.
	ScrapeInterval time.Duration
}

// DefaultParams returns the parameters of the committed rule files.
func DefaultParams() Params {
	return Params{
		GroupBy:      []string{"cluster", "model"},
		TargetLabels: []string{"job", "instance", "target"},
		Base:         Window{Name: "5m", Range: 5 * time.Minute, Interval: time.Minute},
		Windows: []Window{
			{Name: "1h", Range: time.Hour, Interval: time.Minute},
			{Name: "1d", Range: 24 * time.Hour, Interval: time.Minute},
			// 7 d of 1 m base samples is 10080 points per series: every
			// 2 m is cheap enough and stays well inside the lookback.
			{Name: "7d", Range: 7 * 24 * time.Hour, Interval: 2 * time.Minute},
		},
		AlertWindow:    "7d",
		PresenceWindow: "1d",

		HoursPerMonth:      730,
		SavingsRatio:       0.20,
		SavingsDollars:     100,
		ColdStartsPerHour:  10,
		PlacementFor:       24 * time.Hour,
		TargetDownFor:      10 * time.Minute,
		NotObservedFor:     30 * time.Minute,
		EvaluationInterval: time.Minute,

		PlacementSeverity:   "info",
		TargetDownSeverity:  "warning",
		NotObservedSeverity: "warning",
		RunbookURL: "https://github.com/placement-exporter/placement_exporter/blob/main/" +
			"README.md#runbook-",

		RulesOnlyModelLabel: "model_name",
		ScrapeInterval:      15 * time.Second,
	}
}

// Validate reports the first parameter that cannot produce working rules.
func (p Params) Validate() error {
	if !contains(p.GroupBy, "model") {
		return errors.New(`group_by: must list "model" ` +
			`(add the labels that tell apart models of the same name)`)
	}
	if !contains(p.TargetLabels, "target") {
		return errors.New(`target labels: must list "target" (the exporter sets it on every series)`)
	}
	for _, l := range append(append([]string{}, p.GroupBy...), p.TargetLabels...) {
		if !validLabel(l) {
			return fmt.Errorf("label %q: not a valid Prometheus label name", l)
		}
	}
	if len(p.Windows) == 0 {
		return errors.New("windows: at least one window is needed")
	}
	all := append([]Window{p.Base}, p.Windows...)
	for i, w := range all {
		if w.Name == "" || w.Range <= 0 || w.Interval <= 0 {
			return fmt.Errorf("window %d: name, range and interval must all be set", i)
		}
		if w.Interval >= 5*time.Minute {
			return fmt.Errorf("window %q: interval %s reaches the 5m lookback (use less than 5m)",
				w.Name, w.Interval)
		}
		if i > 0 && w.Range <= p.Base.Range {
			return fmt.Errorf("window %q: range %s must be longer than the base window %s",
				w.Name, w.Range, p.Base.Range)
		}
	}
	if _, ok := p.window(p.AlertWindow); !ok {
		return fmt.Errorf("alert window %q: not one of the windows", p.AlertWindow)
	}
	if _, ok := p.window(p.PresenceWindow); !ok {
		return fmt.Errorf("presence window %q: not one of the windows", p.PresenceWindow)
	}
	if p.HoursPerMonth <= 0 || p.SavingsRatio < 0 || p.SavingsRatio >= 1 || p.SavingsDollars < 0 ||
		p.ColdStartsPerHour <= 0 {
		return errors.New(thresholdsError)
	}
	if p.PlacementFor < 0 || p.TargetDownFor < 0 || p.NotObservedFor <= 0 || p.EvaluationInterval <= 0 ||
		p.ScrapeInterval <= 0 {
		return errors.New("durations: for durations must be >= 0; " +
			"not-observed window, evaluation and scrape intervals > 0")
	}
	return nil
}

const thresholdsError = "thresholds: need hours per month > 0, 0 <= savings ratio < 1, " +
	"savings dollars >= 0, cold starts per hour > 0"

func (p Params) window(name string) (Window, bool) {
	for _, w := range p.Windows {
		if w.Name == name {
			return w, true
		}
	}
	return Window{}, false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func validLabel(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// promDuration formats d in the largest Prometheus unit that divides it
// evenly (7 d gives "7d", not "1w", so rule files read like their names).
func promDuration(d time.Duration) string {
	units := []struct {
		suffix string
		size   time.Duration
	}{
		{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute},
		{"s", time.Second}, {"ms", time.Millisecond},
	}
	for _, u := range units {
		if d >= u.size && d%u.size == 0 {
			return strconv.FormatInt(int64(d/u.size), 10) + u.suffix
		}
	}
	return "0s"
}

// number formats a threshold the shortest way that reads back exactly.
func number(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
