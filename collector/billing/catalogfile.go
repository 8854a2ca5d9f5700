package billing

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/placement-exporter/placement_exporter/internal/suggest"
)

// A catalog file is decoded key by key from the YAML node tree rather than
// with yaml.v3's KnownFields, so that every mistake is reported with its own
// line, the entry it belongs to and the fix, and all mistakes at once.

// rawWindow is a scale-down window block as written.
type rawWindow struct {
	Default *float64 `yaml:"default"`
	Min     *float64 `yaml:"min"`
	Max     *float64 `yaml:"max"`
}

// rawTerms are the billing terms a provider block sets for all its offers
// and an offer may set for itself. Nil means "not set here".
type rawTerms struct {
	Mode             *string    `yaml:"mode"`
	Unit             *string    `yaml:"unit"`
	GPUsPerUnit      *int       `yaml:"gpus_per_unit"`
	Granularity      *float64   `yaml:"billing_granularity_seconds"`
	MinBilled        *float64   `yaml:"min_billed_seconds"`
	Window           *rawWindow `yaml:"scaledown_window_seconds"`
	BillsIdleWarm    *bool      `yaml:"bills_idle_warm"`
	BillsColdStart   *bool      `yaml:"bills_cold_start"`
	ColdStartSeconds *float64   `yaml:"cold_start_seconds"`
	ColdStartSource  *string    `yaml:"cold_start_source"`
}

// serverlessOnlyKeys are the terms that mean nothing for always-on capacity.
var serverlessOnlyKeys = []string{
	"billing_granularity_seconds", "min_billed_seconds", "scaledown_window_seconds",
	"bills_idle_warm", "bills_cold_start", "cold_start_seconds", "cold_start_source",
}

// rawBlock is what provider blocks and offers share: terms and their source.
type rawBlock struct {
	rawTerms   `yaml:",inline"`
	Source     *string `yaml:"source"`
	AsOf       *string `yaml:"as_of"`
	Confidence *string `yaml:"confidence"`

	file   string
	line   int
	lines  map[string]int // line of each key set in this block
	issues []blockIssue   // decoding mistakes, reported with the entry's name
}

type rawProvider struct {
	rawBlock `yaml:",inline"`
	name     string
}

type rawOffer struct {
	Provider   *string  `yaml:"provider"`
	Name       *string  `yaml:"name"`
	Product    *string  `yaml:"product"`
	GPU        *string  `yaml:"gpu"`
	Commitment *string  `yaml:"commitment"`
	Price      *float64 `yaml:"price"`
	rawBlock   `yaml:",inline"`

	index int // 1-based position in its file's offer list
}

// catalogFile is one decoded catalog file, not yet merged or validated.
type catalogFile struct {
	name            string
	currency        string
	currencyLine    int
	replaceDefaults bool
	providers       []*rawProvider
	offers          []*rawOffer
}

// blockIssue is a mistake found while decoding a block, before the name of
// the entry it belongs to is known.
type blockIssue struct {
	line int
	msg  string
}

// mistake is one problem found in a catalog file.
type mistake struct {
	file string
	line int
	msg  string
}

// mistakes collects problems, each shown as "file:line: entry: message".
type mistakes []mistake

func (l *mistakes) add(file string, line int, entry, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if entry != "" {
		msg = entry + ": " + msg
	}
	*l = append(*l, mistake{file, line, msg})
}

// maxReported caps how many mistakes one error lists.
const maxReported = 20

// err returns the mistakes in file and line order as one error, or nil.
func (l mistakes) err() error {
	if len(l) == 0 {
		return nil
	}
	fileOrder := map[string]int{}
	for _, is := range l {
		if _, ok := fileOrder[is.file]; !ok {
			fileOrder[is.file] = len(fileOrder)
		}
	}
	sort.SliceStable(l, func(i, j int) bool {
		if fi, fj := fileOrder[l[i].file], fileOrder[l[j].file]; fi != fj {
			return fi < fj
		}
		return l[i].line < l[j].line
	})
	lines := make([]string, 0, maxReported+1)
	for i, is := range l {
		if i == maxReported {
			lines = append(lines, fmt.Sprintf("... and %d more mistakes", len(l)-maxReported))
			break
		}
		lines = append(lines, fmt.Sprintf("%s:%d: %s", is.file, is.line, is.msg))
	}
	return errors.New(strings.Join(lines, "\n"))
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parseCatalogFile(name string, data []byte) (*catalogFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("%s:%s: %s (not valid YAML)", name, m[1], m[2])
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty (add providers: or offers:)", name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping with the keys providers and offers",
			name, root.Line)
	}

	f := &catalogFile{name: name}
	var errs mistakes
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if prev, dup := seen[k.Value]; dup {
			errs.add(name, k.Line, "", "key %q appears twice (also at line %d)", k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		switch k.Value {
		case "schema_version":
			if v.Value != "1" || v.Tag != "!!int" {
				errs.add(name, v.Line, "", "schema_version must be 1, got %q", v.Value)
			}
		case "currency":
			f.currency, f.currencyLine = v.Value, v.Line
			if !currencyRE.MatchString(v.Value) {
				errs.add(name, v.Line, "", "currency must be an ISO 4217 code such as USD, got %q",
					v.Value)
			}
		case "replace_defaults":
			if err := v.Decode(&f.replaceDefaults); err != nil || v.Kind != yaml.ScalarNode {
				errs.add(name, v.Line, "", "replace_defaults: want true or false, got %s",
					describeNode(v))
			}
		case "providers":
			f.decodeProviders(v, &errs)
		case "offers":
			f.decodeOffers(v, &errs)
		default:
			errs.add(name, k.Line, "", "%s", unknownKey(k.Value, []string{"currency", "offers",
				"providers", "replace_defaults", "schema_version"}))
		}
	}
	if len(errs) == 0 && len(f.providers) == 0 && len(f.offers) == 0 {
		errs.add(name, root.Line, "", "no providers or offers (add providers: or offers:)")
	}
	return f, errs.err()
}

func (f *catalogFile) decodeProviders(n *yaml.Node, errs *mistakes) {
	if n.Kind != yaml.MappingNode {
		errs.add(f.name, n.Line, "", "providers: want a mapping from provider name to its "+
			"billing terms, got %s", describeNode(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		entry := fmt.Sprintf("provider %q", k.Value)
		if prev, dup := seen[k.Value]; dup {
			errs.add(f.name, k.Line, entry, "listed twice (also at line %d)", prev)
			continue
		}
		seen[k.Value] = k.Line
		if !providerRE.MatchString(k.Value) {
			errs.add(f.name, k.Line, entry, "provider names are lower-case letters, "+
				"digits and _ (for example runpod_serverless)")
		}
		p := &rawProvider{name: k.Value}
		p.file, p.line = f.name, k.Line
		p.issues = decodeBlock(v, p)
		p.lines = blockLines(v)
		for _, is := range p.issues {
			errs.add(f.name, is.line, entry, "%s", is.msg)
		}
		f.providers = append(f.providers, p)
	}
}

func (f *catalogFile) decodeOffers(n *yaml.Node, errs *mistakes) {
	if n.Kind != yaml.SequenceNode {
		errs.add(f.name, n.Line, "", "offers: want a list of offers, got %s", describeNode(n))
		return
	}
	for i, item := range n.Content {
		o := &rawOffer{index: i + 1}
		o.file, o.line = f.name, item.Line
		o.issues = decodeBlock(item, o)
		o.lines = blockLines(item)
		f.offers = append(f.offers, o)
	}
}

// deref follows YAML aliases (*name) to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for range 100 { // yaml.v3 refuses alias cycles; the bound is only a guard
		if n.Kind != yaml.AliasNode || n.Alias == nil {
			break
		}
		n = n.Alias
	}
	return n
}

// blockLines returns the line of each key of a mapping node.
func blockLines(n *yaml.Node) map[string]int {
	n = deref(n)
	lines := map[string]int{}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			lines[n.Content[i].Value] = n.Content[i].Line
		}
	}
	return lines
}

// decodeBlock decodes a mapping node into the struct out points to, key by
// key through the yaml tags of its pointer fields (inline structs included),
// and returns every unknown key, repeated key and value of the wrong type.
func decodeBlock(n *yaml.Node, out any) []blockIssue {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return []blockIssue{{n.Line, "want a mapping of keys such as provider: and price:, got " +
			describeNode(n)}}
	}
	fields := map[string]reflect.Value{}
	collectFields(reflect.ValueOf(out).Elem(), fields)
	var found []blockIssue
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if prev, dup := seen[k.Value]; dup {
			found = append(found, blockIssue{k.Line,
				fmt.Sprintf("key %q appears twice (also at line %d)", k.Value, prev)})
			continue
		}
		seen[k.Value] = k.Line
		field, ok := fields[k.Value]
		switch {
		case k.Value == "<<":
			found = append(found, blockIssue{k.Line, "YAML merge keys (<<) are not supported " +
				"(set the terms offers share once, under providers:)"})
			continue
		case !ok:
			found = append(found, blockIssue{k.Line, unknownKey(k.Value, sortedKeys(fields))})
			continue
		}
		if v.Tag == "!!null" {
			continue
		}
		elem := reflect.New(field.Type().Elem())
		if elem.Elem().Kind() == reflect.Struct {
			for _, is := range decodeBlock(v, elem.Interface()) {
				found = append(found, blockIssue{is.line, k.Value + ": " + is.msg})
			}
		} else if err := v.Decode(elem.Interface()); err != nil || v.Kind != yaml.ScalarNode {
			found = append(found, blockIssue{v.Line, fmt.Sprintf("%s: want %s, got %s",
				k.Value, kindName(elem.Elem().Kind()), describeNode(v))})
			continue
		}
		field.Set(elem)
	}
	return found
}

func collectFields(v reflect.Value, into map[string]reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		tag, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		switch {
		case opts == "inline":
			collectFields(v.Field(i), into)
		case tag != "" && tag != "-":
			into[tag] = v.Field(i)
		}
	}
}

// unknownKey says that key is not one of known (sorted), suggesting the
// closest known key when it is one or two edits away.
func unknownKey(key string, known []string) string {
	if best := suggest.Closest(key, known); best != "" {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", key, best)
	}
	return fmt.Sprintf("unknown key %q (known keys: %s)", key, strings.Join(known, ", "))
}

func sortedKeys(m map[string]reflect.Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Float64:
		return "a number"
	case reflect.Int:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	}
	return "a string"
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// overlay copies every non-nil pointer field of src over dst (both pointers
// to the same struct type), descending into inline structs and merging
// nested blocks such as the window key by key.
func overlay(dst, src any) {
	overlayValue(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem())
}

func overlayValue(dst, src reflect.Value) {
	t := dst.Type()
	for i := range t.NumField() {
		d, s := dst.Field(i), src.Field(i)
		_, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		switch {
		case opts == "inline":
			overlayValue(d, s)
		case !t.Field(i).IsExported() || s.Kind() != reflect.Pointer || s.IsNil():
		case s.Elem().Kind() == reflect.Struct && !d.IsNil():
			merged := reflect.New(s.Elem().Type())
			merged.Elem().Set(d.Elem())
			overlayValue(merged.Elem(), s.Elem())
			d.Set(merged)
		default:
			d.Set(s)
		}
	}
}

var (
	currencyRE   = regexp.MustCompile(`^[A-Z]{3}$`)
	providerRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	nameRE       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	commitmentRE = regexp.MustCompile(`^(none|[1-9][0-9]*(mo|y))$`)
)

var confidences = []string{"official", "third_party", "third_party_code", "undated"}

// unitKinds maps a unit without its currency prefix to the divisor that
// turns it into a price per GPU-second (the unit price is further divided by
// gpus_per_unit) and to the words used in error messages.
var unitKinds = map[string]struct {
	seconds float64
	perUnit bool
	words   string
}{
	"per_gpu_second": {1, false, "per GPU-second"},
	"per_gpu_minute": {60, false, "per GPU-minute"},
	"per_gpu_hour":   {3600, false, "per GPU-hour"},
	"per_unit_hour":  {3600, true, "per hour of a unit of gpus_per_unit GPUs"},
}

func unitChoices(currency string) string {
	cur := strings.ToLower(currency)
	return fmt.Sprintf("%[1]s_per_gpu_second, %[1]s_per_gpu_minute, %[1]s_per_gpu_hour "+
		"or %[1]s_per_unit_hour", cur)
}

// secondsValue is a duration a block sets: its key, how to name it in a
// message, and its value (nil when not set).
type secondsValue struct {
	key, what string
	v         *float64
}

// checkBlock checks the values a provider block or an offer sets, each on
// its own; rules that need the resolved offer are in resolveOffer.
func checkBlock(b *rawBlock, currency string, report func(key, format string, args ...any)) {
	if b.Mode != nil && Mode(*b.Mode) != ModeServerless && Mode(*b.Mode) != ModeAlwaysOn {
		report("mode", "mode must be serverless or always_on, got %q", *b.Mode)
	}
	if b.Unit != nil {
		cur, kind, _ := strings.Cut(*b.Unit, "_")
		if _, ok := unitKinds[kind]; !ok {
			report("unit", "unknown unit %q (use %s)", *b.Unit, unitChoices(currency))
		} else if !strings.EqualFold(cur, currency) || cur != strings.ToLower(cur) {
			report("unit", "unit %q does not match the catalog's currency %s (use %s_%s)",
				*b.Unit, currency, strings.ToLower(currency), kind)
		}
	}
	if b.GPUsPerUnit != nil && *b.GPUsPerUnit < 1 {
		report("gpus_per_unit", "gpus_per_unit must be at least 1, got %d", *b.GPUsPerUnit)
	}
	if b.Granularity != nil && !(*b.Granularity > 0 && !math.IsInf(*b.Granularity, 1)) {
		report("billing_granularity_seconds", "billing_granularity_seconds must be > 0, "+
			"got %g (1 = per second, 60 = per started minute)", *b.Granularity)
	}
	seconds := []secondsValue{
		{"min_billed_seconds", "min_billed_seconds", b.MinBilled},
		{"cold_start_seconds", "cold_start_seconds", b.ColdStartSeconds},
	}
	if w := b.Window; w != nil {
		const key = "scaledown_window_seconds"
		seconds = append(seconds, secondsValue{key, key + ": default", w.Default},
			secondsValue{key, key + ": min", w.Min}, secondsValue{key, key + ": max", w.Max})
	}
	for _, s := range seconds {
		if s.v != nil && !(*s.v >= 0 && !math.IsInf(*s.v, 1)) {
			report(s.key, "%s must be a number of seconds ≥ 0, got %g", s.what, *s.v)
		}
	}
	if b.AsOf != nil && !validDate(*b.AsOf) {
		report("as_of", "as_of must be a date YYYY-MM-DD or YYYY-MM, got %q", *b.AsOf)
	}
	if b.Confidence != nil && !contains(confidences, *b.Confidence) {
		report("confidence", "confidence must be one of %s, got %q",
			strings.Join(confidences, ", "), *b.Confidence)
	}
}

func validDate(s string) bool {
	for _, layout := range []string{"2006-01-02", "2006-01"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// resolveWindow returns a window block as a range, and an error message if
// its default is missing or outside its own bounds.
func resolveWindow(w *rawWindow) (WindowRange, string) {
	r := WindowRange{Min: 0, Max: math.Inf(1)}
	if w.Min != nil {
		r.Min = *w.Min
	}
	if w.Max != nil {
		r.Max = *w.Max
	}
	if w.Default == nil {
		return r, "scaledown_window_seconds: default is missing (set default: to the " +
			"provider's scale-down window in seconds)"
	}
	r.Default = *w.Default
	if r.Min > r.Max {
		return r, fmt.Sprintf("scaledown_window_seconds: min %g is above max %g", r.Min, r.Max)
	}
	if !r.Contains(r.Default) {
		return r, fmt.Sprintf("scaledown_window_seconds: default %g s is outside the allowed "+
			"range %s (set default between min and max)", r.Default, r)
	}
	return r, ""
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
