package timeline

// Kind classifies a stretch of time.
type Kind uint8

// The kinds of segment.
const (
	// Idle: nothing running and nothing waiting.
	Idle Kind = iota
	// Busy: at least one request running or waiting.
	Busy
	// Unobserved: the exporter could not see the model (failed poll, model
	// missing from the page). Unobserved time is neither busy nor idle.
	Unobserved
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Idle:
		return "idle"
	case Busy:
		return "busy"
	case Unobserved:
		return "unobserved"
	}
	return "unknown"
}

// Segment is a stretch of a model's timeline. Segments are produced in time
// order and never revised.
type Segment struct {
	// Kind says whether the model was busy, idle or not observed.
	Kind Kind
	// Seconds is the segment's length.
	Seconds float64
	// InFlight is, for a busy segment, the largest number of requests running
	// or waiting during it (at least 1). It is 0 for other kinds.
	InFlight float64
}

// Sink consumes segments in time order.
type Sink interface {
	Add(Segment)
}
