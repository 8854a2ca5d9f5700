package fleetsim

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// Format renders simulated models in one inference server's exposition
// format, as captured from the real server (see testdata/SOURCES.md).
type Format struct {
	// Name is the format's name in a fleet file: vllm, vllm-v0, sglang, tgi,
	// triton, llamacpp or trtllm.
	Name string
	// Server is the server kind an exporter configuration names (vllm for
	// both vLLM engines).
	Server string
	// Path is the URL path of the metrics page.
	Path string
	// MultiModel says whether one endpoint serves several models.
	MultiModel bool
	// NamesModel says whether the page labels series with the model name;
	// for servers that do not, the exporter must be told the model.
	NamesModel bool
	// Layout lists the per-request histograms the page shows.
	Layout Layout

	render   func(p *page, models []*ModelSim)
	expected func(s Stats, cfg ModelConfig) timeline.Reading
}

var formats = map[string]*Format{}

func register(f *Format) *Format {
	formats[f.Name] = f
	return f
}

// FormatNames returns the known format names, sorted.
func FormatNames() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupFormat returns the format with the given name.
func LookupFormat(name string) (*Format, error) {
	if f, ok := formats[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("format %q is not known (use one of %s)", name, strings.Join(FormatNames(), ", "))
}

// Render writes the metrics page of models at their current simulated time.
// start is the wall-clock time the simulated servers started, which pages
// show in _created series.
func (f *Format) Render(w io.Writer, models []*ModelSim, start time.Time) error {
	if len(models) > 1 && !f.MultiModel {
		return fmt.Errorf("format %s serves one model per endpoint, got %d", f.Name, len(models))
	}
	p := &page{w: bufio.NewWriter(w), style: f.style(), created: float64(start.UnixNano()) / 1e9}
	f.render(p, models)
	return p.w.Flush()
}

// Expected returns the reading an adapter should derive from this format's
// page for m: the fields the page exposes, with the page's own semantics
// (for example llama.cpp counts generated tokens when a request finishes,
// Triton rounds durations to whole microseconds).
func (f *Format) Expected(m *ModelSim) timeline.Reading {
	return f.expected(m.Stats(), m.Config())
}

// numStyle is how a server's metrics library prints numbers.
type numStyle int

const (
	// pythonStyle is prometheus_client: repr() of a float, "2.0", "1.7e+09".
	pythonStyle numStyle = iota
	// plainStyle prints the shortest decimal that round-trips, without
	// exponent: Rust's metrics-exporter-prometheus, prometheus-cpp, llama.cpp.
	plainStyle
)

func (f *Format) style() numStyle {
	switch f.Name {
	case "tgi", "triton", "llamacpp":
		return plainStyle
	}
	return pythonStyle
}

// label is one name="value" pair.
type label struct{ name, value string }

// page writes exposition text in a server's own dialect.
type page struct {
	w       *bufio.Writer
	style   numStyle
	created float64 // Unix seconds for _created series
	// blankLines separates families by an empty line (TGI).
	blankLines bool
	// leLast puts le after the other labels (TGI) instead of in sorted order.
	leLast   bool
	families int
}

func (p *page) num(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	if p.style == plainStyle {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return pythonFloat(v)
}

// pythonFloat formats v as prometheus_client's floatToGoString does: Python's
// repr, except that a positive number with more than six digits before the
// point is written as mantissa and "e+0" exponent (so 1e10 becomes
// "1e+010", a quirk kept on purpose).
func pythonFloat(v float64) string {
	var s string
	if a := math.Abs(v); a != 0 && (a < 1e-4 || a >= 1e16) {
		s = strconv.FormatFloat(v, 'e', -1, 64) // repr switches to exponent form here
	} else {
		s = strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
	}
	if dot := strings.IndexByte(s, '.'); v > 0 && dot > 6 {
		mantissa := strings.TrimRight(s[:1]+"."+s[1:dot]+s[dot+1:], "0.")
		return mantissa + "e+0" + strconv.Itoa(dot-1)
	}
	return s
}

// family starts a metric family; an empty help omits the HELP line, as some
// servers do.
func (p *page) family(name, typ, help string) {
	if p.blankLines && p.families > 0 {
		p.w.WriteString("\n")
	}
	p.families++
	if help != "" {
		fmt.Fprintf(p.w, "# HELP %s %s\n", name, help)
	}
	fmt.Fprintf(p.w, "# TYPE %s %s\n", name, typ)
}

func (p *page) sample(name string, labels []label, v float64) {
	p.w.WriteString(name)
	if len(labels) > 0 {
		p.w.WriteString("{")
		for i, l := range labels {
			if i > 0 {
				p.w.WriteString(",")
			}
			fmt.Fprintf(p.w, "%s=\"%s\"", l.name, labelEscaper.Replace(l.value))
		}
		p.w.WriteString("}")
	}
	p.w.WriteString(" ")
	p.w.WriteString(p.num(v))
	p.w.WriteString("\n")
}

// withLabel returns labels plus one more, sorted by name unless the page
// puts le last.
func (p *page) withLabel(labels []label, l label) []label {
	out := append(append(make([]label, 0, len(labels)+1), labels...), l)
	if !(p.leLast && l.name == "le") {
		sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	}
	return out
}

// labelEscaper escapes a label value as the text format requires.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// histOrder says where a server prints _sum and _count around the buckets.
type histOrder int

const (
	bucketsCountSum histOrder = iota // prometheus_client single process
	sumBucketsCount                  // prometheus_client multiprocess
	bucketsSumCount                  // Rust metrics-exporter-prometheus
)

func (p *page) histogram(name string, labels []label, h *Histogram, order histOrder) {
	sum := func() { p.sample(name+"_sum", labels, h.Sum) }
	count := func() { p.sample(name+"_count", labels, float64(h.Count)) }
	if order == sumBucketsCount {
		sum()
	}
	cum := h.Cumulative()
	for i, b := range h.Bounds {
		p.sample(name+"_bucket", p.withLabel(labels, label{"le", p.num(b)}), float64(cum[i]))
	}
	p.sample(name+"_bucket", p.withLabel(labels, label{"le", "+Inf"}), float64(h.Count))
	switch order {
	case bucketsCountSum:
		count()
		sum()
	case bucketsSumCount:
		sum()
		count()
	case sumBucketsCount:
		count()
	}
}

// createdFamily writes the _created gauge family that prometheus_client adds
// after a counter or histogram in single-process mode. base is the name
// without _total.
func (p *page) createdFamily(base, help string, series ...[]label) {
	p.family(base+"_created", "gauge", help)
	for _, l := range series {
		p.sample(base+"_created", l, p.created)
	}
}

// seconds converts a duration sum to seconds.
func secs(d time.Duration) float64 { return d.Seconds() }

// micros converts a duration sum to whole microseconds, as Triton counts.
func micros(d time.Duration) float64 { return float64(d / time.Microsecond) }

// client writes one model's families the way Python's prometheus_client
// does: counters named with _total, and, in single-process mode (created),
// a _created gauge family after each counter and histogram.
type client struct {
	p       *page
	m       *ModelSim
	ls      []label
	created bool
	order   histOrder
}

func (c client) gauge(name, help string, v float64) {
	c.p.family(name, "gauge", help)
	c.p.sample(name, c.ls, v)
}

// counter writes base_total (and base_created).
func (c client) counter(base, help string, v float64) {
	c.p.family(base+"_total", "counter", help)
	c.p.sample(base+"_total", c.ls, v)
	if c.created {
		c.p.createdFamily(base, help, c.ls)
	}
}

func (c client) hist(name, help string, q Quantity) {
	c.p.family(name, "histogram", help)
	c.p.histogram(name, c.ls, c.m.Histogram(q), c.order)
	if c.created {
		c.p.createdFamily(name, help, c.ls)
	}
}
