package fleetsim

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Trace is a recorded request trace: arrival offsets from the first request,
// in arrival order, with token counts.
type Trace struct {
	// Requests are in arrival order; the first arrives at 0.
	Requests []Request
}

// Period returns the length of one pass of the trace when it loops: the span
// from the first to the last arrival plus one mean gap, so that the first
// request of the next pass does not land on the last of this one.
func (t *Trace) Period() time.Duration {
	n := len(t.Requests)
	if n == 0 {
		return 0
	}
	span := t.Requests[n-1].Arrival
	if n == 1 || span == 0 {
		return span + time.Second
	}
	return span + span/time.Duration(n-1)
}

// Column names accepted in a trace header, matched without regard to case.
// The first of each list is the Azure LLM inference trace's name.
var (
	arrivalColumns = []string{"TIMESTAMP", "arrival", "arrival_seconds"}
	promptColumns  = []string{"ContextTokens", "prompt_tokens", "input_tokens"}
	outputColumns  = []string{"GeneratedTokens", "output_tokens", "generation_tokens"}
)

// timestampLayout is the Azure trace's timestamp form, e.g.
// "2023-11-16 18:17:03.9799600"; the fraction may have any length.
const timestampLayout = "2006-01-02 15:04:05.999999999"

// LoadTrace reads a CSV trace from a file; see ParseTrace.
func LoadTrace(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trace %q: %w", path, err)
	}
	defer f.Close()
	return ParseTrace(path, f)
}

// ParseTrace reads a CSV trace with a header row naming an arrival column
// (TIMESTAMP, arrival or arrival_seconds: a timestamp like
// "2023-11-16 18:17:03.97996" or a number of seconds), a prompt token column
// (ContextTokens, prompt_tokens or input_tokens) and an output token column
// (GeneratedTokens, output_tokens or generation_tokens). Rows are sorted by
// arrival and offset so that the first arrives at 0. name appears in errors.
func ParseTrace(name string, r io.Reader) (*Trace, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("trace %q: empty file (want a header row with %s, %s and %s)",
			name, arrivalColumns[0], promptColumns[0], outputColumns[0])
	}
	if err != nil {
		return nil, fmt.Errorf("trace %q: %w", name, err)
	}
	cols := [3]int{}
	for i, names := range [][]string{arrivalColumns, promptColumns, outputColumns} {
		cols[i] = slices.IndexFunc(header, func(h string) bool {
			return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(strings.TrimSpace(h), n) })
		})
		if cols[i] < 0 {
			return nil, fmt.Errorf("trace %q: header has no %s column (accepted names: %s)",
				name, names[0], strings.Join(names, ", "))
		}
	}

	type row struct {
		at  time.Duration // since the Unix epoch, or since 0 for numeric arrivals
		req Request
	}
	var rows []row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("trace %q: %w", name, err)
		}
		at, err := parseArrival(rec[cols[0]])
		if err != nil {
			return nil, fmt.Errorf("trace %q: line %d: %s %q: %w", name, line, header[cols[0]], rec[cols[0]], err)
		}
		var tok [2]int
		for k, c := range cols[1:] {
			tok[k], err = strconv.Atoi(strings.TrimSpace(rec[c]))
			if err != nil || tok[k] < 0 {
				return nil, fmt.Errorf("trace %q: line %d: %s %q is not a whole number of tokens",
					name, line, header[c], rec[c])
			}
		}
		rows = append(rows, row{at: at, req: Request{PromptTokens: tok[0], OutputTokens: tok[1]}})
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.at, b.at) })
	t := &Trace{Requests: make([]Request, len(rows))}
	for i, r := range rows {
		r.req.Arrival = r.at - rows[0].at
		t.Requests[i] = r.req
	}
	return t, nil
}

// parseArrival reads a timestamp or a number of seconds. Timestamps stay in
// whole nanoseconds: a float of Unix seconds would round 2023 times to 0.2 µs.
func parseArrival(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
		return seconds(v), nil
	}
	ts, err := time.Parse(timestampLayout, s)
	if err != nil {
		return 0, fmt.Errorf("want a timestamp like 2023-11-16 18:17:03.97996 or a number of seconds")
	}
	return time.Duration(ts.UnixNano()), nil
}
