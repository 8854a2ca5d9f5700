package collector

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// Reason codes of page and adapter errors. The poller uses them as the
// reason label of placement_target_poll_errors_total.
const (
	// ReasonInvalidPage is a page that is not Prometheus text: HTML, JSON,
	// a syntax error or a series listed twice.
	ReasonInvalidPage = "invalid_page"
	// ReasonTruncated is a page cut off before its end.
	ReasonTruncated = "truncated"
	// ReasonNoMetrics is a page with no samples at all.
	ReasonNoMetrics = "no_metrics"
	// ReasonInvalidValue is a NaN, infinite or negative value in a series
	// that an adapter reads.
	ReasonInvalidValue = "invalid_value"
	// ReasonUnknownServer is a page that no adapter recognises.
	ReasonUnknownServer = "unknown_server"
)

// Error is an error about a metrics page, with the reason code to count it under.
type Error struct {
	// Reason is one of the Reason constants.
	Reason string
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// ErrorReason returns the reason code of err if err is or wraps an *Error.
func ErrorReason(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return "", false
}

func pageError(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// Page is what ParsePage keeps of one metrics page: the names of all metric
// families, for detection, and the samples of the series that some adapter
// reads. Series no adapter reads (histogram buckets, Go runtime metrics,
// _created series, ...) are counted and checked but not kept. A Page keeps
// no reference to the body it was parsed from, and is never changed once
// ParsePage returns it, so it is safe for concurrent use.
type Page struct {
	// famNames holds the family names back to back; famEnds[i] is the end
	// of the i-th name. One growing buffer instead of one string per family.
	famNames []byte
	famEnds  []int
	samples  []sample
	// sets are the distinct label sets of the kept samples, without the
	// metric name. Samples refer to them by index: on a vLLM page nearly
	// every kept sample carries the same {engine, model_name} set.
	sets []labels.Labels
}

// sample is one kept series.
type sample struct {
	// name is the metric name as exposed; it is the string held by the
	// known-names table, so keeping it costs no allocation.
	name  string
	set   int32
	value float64
}

// Families returns the metric family names seen on the page, sorted and
// without repeats. Families are named by their TYPE or HELP line, or for a
// series without metadata by its name without a _total, _sum, _count,
// _bucket or _created suffix.
func (p *Page) Families() []string {
	out := make([]string, 0, len(p.famEnds))
	start := 0
	for _, end := range p.famEnds {
		out = append(out, string(p.famNames[start:end]))
		start = end
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// hasFamilyPrefix reports whether a family name starts with prefix.
func (p *Page) hasFamilyPrefix(prefix string) bool {
	start := 0
	for _, end := range p.famEnds {
		f := p.famNames[start:end]
		if len(f) >= len(prefix) && string(f[:len(prefix)]) == prefix {
			return true
		}
		start = end
	}
	return false
}

// value returns the value of s, or an error if it cannot be a count, a
// duration or a ratio. Adapters call it only for samples they use, so a
// NaN in a series nobody reads does not fail the poll.
func (p *Page) value(s sample) (float64, error) {
	v := s.value
	if v >= 0 && v <= math.MaxFloat64 {
		return v, nil
	}
	return 0, pageError(ReasonInvalidValue, "%s has value %v, want a finite number >= 0 "+
		"(the server reported an invalid value; this poll is skipped)",
		p.seriesName(s.name, s.set), v)
}

// seriesName formats a kept series as name{label="value", ...}.
func (p *Page) seriesName(name string, set int32) string {
	if ls := p.sets[set]; !ls.IsEmpty() {
		return name + ls.String()
	}
	return name
}

// ParsePage parses a metrics page in the Prometheus text format (0.0.4) or,
// when contentType says so, OpenMetrics. contentType is the response's
// Content-Type header and may be empty. Every error is an *Error.
func ParsePage(body []byte, contentType string) (*Page, error) {
	media := mediaType(contentType)
	if err := checkShape(body, media); err != nil {
		return nil, err
	}
	om := media == "application/openmetrics-text"
	var parser textparse.Parser
	if om {
		parser = textparse.NewOpenMetricsParser(body, nil)
	} else {
		parser = textparse.NewPromParser(body, nil, false)
	}
	b := pageBuilder{body: body, om: om, last: -1, seed: maphash.MakeSeed()}
	// Every series takes at least one line; sizing the check list up front
	// saves its growth steps.
	b.keys = make([]seriesKey, 0, bytes.Count(body, []byte{'\n'}))
	if err := b.run(parser); err != nil {
		return nil, err
	}
	if len(b.keys) == 0 {
		return nil, pageError(ReasonNoMetrics,
			"page has no samples, only comments (%s)", enableHint)
	}
	if err := b.checkDuplicates(); err != nil {
		return nil, err
	}
	return &b.page, nil
}

const enableHint = "check that the server has metrics enabled: " +
	"--enable-metrics for SGLang, --metrics for llama.cpp"

// mediaType returns the lower-cased media type of a Content-Type header,
// without parameters. It avoids mime.ParseMediaType, which allocates a map
// at every poll.
func mediaType(contentType string) string {
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = contentType[:i]
	}
	return strings.ToLower(strings.TrimSpace(contentType))
}

// checkShape rejects, before parsing, the pages whose problem is better
// named by what they are than by a syntax error.
func checkShape(body []byte, media string) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return pageError(ReasonNoMetrics, "empty page (%s)", enableHint)
	case len(body) > math.MaxInt32:
		// Offsets into the body are kept as int32.
		return pageError(ReasonInvalidPage, "page of %d bytes is larger than 2 GiB "+
			"(check the URL; no inference server writes pages this large)", len(body))
	case media == "text/html" || trimmed[0] == '<':
		return pageError(ReasonInvalidPage,
			"got an HTML page, not Prometheus metrics (check the URL path, usually /metrics)")
	case media == "application/json" || trimmed[0] == '[':
		return pageError(ReasonInvalidPage, "got a JSON page, not Prometheus metrics "+
			"(check the URL path: /metrics on most servers, /prometheus/metrics on trtllm-serve)")
	case media == "application/vnd.google.protobuf":
		return pageError(ReasonInvalidPage, "got a protobuf page, not the Prometheus text format "+
			"(the exporter reads the text format only; check the URL)")
	case bytes.IndexByte(body, 0) >= 0:
		// The text format has no NUL bytes: this is binary data, compressed
		// or not a metrics page at all.
		return pageError(ReasonInvalidPage, "got binary data, not Prometheus metrics "+
			"(check the URL; a proxy may be sending a compressed body without saying so)")
	case body[len(body)-1] != '\n':
		return pageError(ReasonTruncated,
			"page ends in the middle of line %d: the response was cut off "+
				"(a dropped connection or a size limit)", bytes.Count(body, []byte{'\n'})+1)
	}
	return nil
}

// seriesKey identifies one series of the page for the duplicate check.
// Kept series are compared by name and interned label set, so that the
// same labels in another order still count as the same series; the others
// by their text as written.
type seriesKey struct {
	hash uint64
	off  int32 // offset of the compared text in the body
	n    int32 // its length: the name for kept series, the whole series otherwise
	set  int32 // label set of a kept series; -1 for the others
}

// pageBuilder holds the state of one ParsePage call.
type pageBuilder struct {
	body []byte
	om   bool
	page Page
	// last is the body offset of the entry parsed last, -1 before the
	// first; a syntax error is on the next non-blank line.
	last int
	// lastFam is the family name registered last, to skip the series of
	// the same family.
	lastFam []byte
	seed    maphash.Seed
	keys    []seriesKey
	// byText maps the label text of a series, as written, to its set;
	// byHash maps a label set's hash to its set, to merge sets written
	// differently.
	byText map[string]int32
	byHash map[uint64]int32
	lbls   labels.Labels
}

func (b *pageBuilder) run(parser textparse.Parser) error {
	for {
		entry, err := parser.Next()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return b.syntaxError(err)
		}
		switch entry {
		case textparse.EntryType:
			name, _ := parser.Type()
			b.metadata(name)
		case textparse.EntryHelp:
			name, _ := parser.Help()
			b.metadata(name)
		case textparse.EntryUnit:
			name, _ := parser.Unit()
			b.metadata(name)
		case textparse.EntryComment:
			b.last = b.offset(parser.Comment())
		case textparse.EntrySeries:
			b.series(parser)
		}
	}
}

// offset returns the position in the body of sub, a slice the parser cut
// from the body: both share the backing array and end at the same capacity.
func (b *pageBuilder) offset(sub []byte) int {
	off := cap(b.body) - cap(sub)
	if off < 0 || off > len(b.body) {
		return b.last
	}
	return off
}

func (b *pageBuilder) metadata(name []byte) {
	b.last = b.offset(name)
	b.family(name)
}

func (b *pageBuilder) family(name []byte) {
	if bytes.Equal(name, b.lastFam) && len(b.page.famEnds) > 0 {
		return
	}
	start := len(b.page.famNames)
	b.page.famNames = append(b.page.famNames, name...)
	b.page.famEnds = append(b.page.famEnds, len(b.page.famNames))
	b.lastFam = b.page.famNames[start:]
}

// sampleFamily registers the family of a series unless its TYPE or HELP
// line, or an earlier series of the family, already did.
func (b *pageBuilder) sampleFamily(name []byte) {
	if len(b.lastFam) > 0 && bytes.HasPrefix(name, b.lastFam) {
		return
	}
	for _, suffix := range seriesSuffixes {
		if n := len(name) - len(suffix); n > 0 && string(name[n:]) == suffix {
			name = name[:n]
			break
		}
	}
	b.family(name)
}

// seriesSuffixes are the suffixes that series add to their family name.
var seriesSuffixes = [...]string{"_total", "_sum", "_count", "_bucket", "_created"}

func (b *pageBuilder) series(parser textparse.Parser) {
	text, _, v := parser.Series()
	off := b.offset(text)
	b.last = off
	if len(text) > 0 && text[0] == '{' {
		b.quotedSeries(parser, text, off, v)
		return
	}
	name, lset := text, []byte(nil)
	if i := bytes.IndexAny(text, "{ \t"); i >= 0 {
		name, lset = text[:i], bytes.TrimLeft(text[i:], " \t")
	}
	b.sampleFamily(name)
	known, ok := knownNames[string(name)]
	if !ok {
		b.addKey(maphash.Bytes(b.seed, text), off, len(text), -1)
		return
	}
	set := b.setOf(parser, lset)
	b.page.samples = append(b.page.samples, sample{name: known, set: set, value: v})
	b.addKey(maphash.Bytes(b.seed, name)^mix(set), off, len(name), set)
}

func (b *pageBuilder) addKey(hash uint64, off, n int, set int32) {
	b.keys = append(b.keys, seriesKey{hash: hash, off: int32(off), n: int32(n), set: set})
}

// quotedSeries handles a series whose name is quoted inside the braces
// ({"name", label="v"}), which only the label parser can take apart. Such
// series are rare, so this path does not avoid allocations.
func (b *pageBuilder) quotedSeries(parser textparse.Parser, text []byte, off int, v float64) {
	parser.Labels(&b.lbls)
	name := b.lbls.Get(model.MetricNameLabel)
	b.sampleFamily([]byte(name))
	b.addKey(maphash.Bytes(b.seed, text), off, len(text), -1)
	if known, ok := knownNames[name]; ok {
		set := b.intern(b.lbls.DropReserved(isMetricName))
		b.page.samples = append(b.page.samples, sample{name: known, set: set, value: v})
	}
}

func isMetricName(name string) bool { return name == model.MetricNameLabel }

// mix spreads a set index over 64 bits before it is combined with a hash.
func mix(set int32) uint64 { return (uint64(set) + 1) * 0x9e3779b97f4a7c15 }

// setOf returns the label set of the current series, given its label text
// as written. Only text not seen before on the page is parsed into labels.
func (b *pageBuilder) setOf(parser textparse.Parser, text []byte) int32 {
	if set, ok := b.byText[string(text)]; ok {
		return set
	}
	parser.Labels(&b.lbls)
	set := b.intern(b.lbls.DropReserved(isMetricName))
	if b.byText == nil {
		b.byText = make(map[string]int32)
	}
	b.byText[string(text)] = set
	return set
}

func (b *pageBuilder) intern(ls labels.Labels) int32 {
	h := ls.Hash()
	if set, ok := b.byHash[h]; ok && labels.Equal(b.page.sets[set], ls) {
		return set
	}
	set := int32(len(b.page.sets))
	b.page.sets = append(b.page.sets, ls)
	if b.byHash == nil {
		b.byHash = make(map[uint64]int32)
	}
	if _, taken := b.byHash[h]; !taken {
		b.byHash[h] = set
	}
	return set
}

// lineAt returns the 1-based number of the line holding body offset off.
func (b *pageBuilder) lineAt(off int) int {
	return bytes.Count(b.body[:off], []byte{'\n'}) + 1
}

// syntaxError turns a parser error into an *Error that gives the line.
// The parser consumes one line per entry, so the error is on the first
// line after the last entry that parsed, blank lines aside.
func (b *pageBuilder) syntaxError(err error) error {
	if b.om && strings.Contains(err.Error(), "does not end with # EOF") {
		return pageError(ReasonTruncated, "OpenMetrics page does not end with \"# EOF\": "+
			"the response was cut off (a dropped connection or a size limit)")
	}
	start := 0
	if b.last >= 0 {
		if i := bytes.IndexByte(b.body[b.last:], '\n'); i >= 0 {
			start = b.last + i + 1
		}
	}
	// The Prometheus text format allows blank lines; OpenMetrics does not.
	for !b.om && start < len(b.body) {
		end := bytes.IndexByte(b.body[start:], '\n')
		if end < 0 || len(bytes.Trim(b.body[start:start+end], " \t")) > 0 {
			break
		}
		start += end + 1
	}
	format := "Prometheus text format"
	if b.om {
		format = "OpenMetrics"
	}
	return pageError(ReasonInvalidPage, "line %d: %v (the page is not valid %s; "+
		"check that the URL is the server's metrics endpoint)", b.lineAt(start), err, format)
}

// checkDuplicates reports the first series listed twice. Sorting the keys
// by hash keeps the check O(n log n) whatever the page size.
func (b *pageBuilder) checkDuplicates() error {
	keys := b.keys
	slices.SortFunc(keys, func(x, y seriesKey) int {
		if x.hash != y.hash {
			if x.hash < y.hash {
				return -1
			}
			return 1
		}
		return int(x.off - y.off)
	})
	for i := 1; i < len(keys); i++ {
		x, y := keys[i-1], keys[i]
		if x.hash != y.hash || x.set != y.set ||
			!bytes.Equal(b.body[x.off:x.off+x.n], b.body[y.off:y.off+y.n]) {
			continue
		}
		series := string(b.body[x.off : x.off+x.n])
		if x.set >= 0 {
			series = b.page.seriesName(series, x.set)
		}
		return pageError(ReasonInvalidPage, "series %s appears twice, on lines %d and %d "+
			"(its value is ambiguous; check that one process writes this page)",
			series, b.lineAt(int(x.off)), b.lineAt(int(y.off)))
	}
	return nil
}
