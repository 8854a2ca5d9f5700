package timeline

import "math"

// runHold bounds how long a busy run is held before its part so far is
// settled and emitted, so that the counters of a model that is busy for
// hours still move.
const runHold = 15.0 // seconds

type pieceKind uint8

const (
	startEdge pieceKind = iota // from the last idle poll to the first busy one
	interior                   // between two busy polls
	endEdge                    // from the last busy poll to the first idle one
)

// piece is one poll interval of a busy run.
type piece struct {
	kind     pieceKind
	dt       float64 // length in seconds
	sure     bool    // certainly busy throughout
	inFlight float64 // largest in-flight count at its polls
	running  float64 // mean running count at its polls
	busy     float64 // settled busy seconds
}

// run is a busy run held until it is settled: consecutive polls that saw
// requests in flight, with the intervals on either side.
//
// Settling rests on one identity: the latency sum of the requests that
// finished in the run is the integral of requests in flight over it, so it
// equals the run's busy time times the mean number in flight while busy.
// The polls sample that mean without bias, which gives the busy time even
// when the polls saw the model busy at both ends of an interval that held
// an idle dip, or missed when the run began and ended.
//
// A run longer than runHold is settled in parts: the parts before the last
// take the expected share of each interval, and the last part makes the
// whole run's busy time agree with the identity.
type run struct {
	pieces []piece // the part not settled yet
	// heldSeconds is the length of the pieces, kept as they are added.
	heldSeconds float64
	work        float64 // latency seconds of requests finished in the run
	workOK      bool    // the counters give work
	finished    float64 // requests finished in the run, if counted
	counted     bool    // finished is an exact count
	samples     float64 // busy polls
	inFlight    float64 // sum of in-flight counts at those polls
	inFlight2   float64 // sum of their squares
	settled     float64 // busy seconds of the parts already settled
	// settledVar is the variance of the settled parts' busy seconds.
	settledVar float64
}

func (r *run) reset() {
	r.dropSettled()
	r.work, r.workOK = 0, false
	r.finished, r.counted = 0, true
	r.samples, r.inFlight, r.inFlight2 = 0, 0, 0
	r.settled, r.settledVar = 0, 0
}

// dropSettled forgets the pieces once they have been emitted.
func (r *run) dropSettled() {
	r.pieces = r.pieces[:0]
	r.heldSeconds = 0
}

// add appends an interval with the work the counters show for it
// (negative when they show none) and the requests that finished in it.
func (r *run) add(p piece, work, finished float64, exact bool) {
	r.pieces = append(r.pieces, p)
	r.heldSeconds += p.dt
	if work >= 0 {
		r.work += work
		r.workOK = r.workOK || work > 0
	}
	r.finished += finished
	r.counted = r.counted && exact
}

// sample records a busy poll.
func (r *run) sample(rd Reading) {
	r.samples++
	c := rd.InFlight()
	r.inFlight += c
	r.inFlight2 += c * c
}

// expectedShare is the share of an uncertain piece expected busy: half of an edge
// (the run began or ended at a uniformly random moment), all of an interior
// interval unless the work says otherwise.
func expectedShare(k pieceKind) float64 {
	if k == interior {
		return 1
	}
	return 0.5
}

// settle sets the busy seconds of every piece held and returns their sum.
// last says no more of the run follows: it ended, or its end was not seen.
// final says it ended with an idle poll, so every request active in it has
// finished and is counted in its work.
//
// Two estimates of the whole run are combined, each weighted by the inverse
// of its variance: the pieces' expected shares (uncertain by up to a whole
// interval at each uncertain piece), and the work over the mean concurrency
// sampled at the busy polls (uncertain as that mean is: exact when every
// poll saw the same count, poor when a few polls saw wildly different
// counts). cv2 is the model's squared coefficient of variation of the
// in-flight count at busy polls, used for runs too short to measure their own.
func (r *run) settle(last, final bool, cv2 float64) float64 {
	var sure, total, expected, variance float64
	for _, p := range r.pieces {
		total += p.dt
		if p.sure {
			sure += p.dt
		} else {
			expected += expectedShare(p.kind) * p.dt
			// A share known only to lie between none and all of the piece.
			variance += p.dt * p.dt / 12
		}
	}
	busy := sure + expected
	if last && r.workOK {
		pieces := r.settled + busy
		piecesVar := r.settledVar + variance
		c := math.Max(1, r.inFlight/r.samples)
		ratio := r.work / c
		if r.samples >= 3 {
			cv2 = math.Max(0, r.inFlight2-r.samples*c*c) / (r.samples - 1) / (c * c)
		}
		ratioVar := ratio * ratio * cv2 / r.samples
		whole := ratio
		if ratioVar > 0 {
			whole = (ratio*piecesVar + pieces*ratioVar) / (piecesVar + ratioVar)
		}
		lo, hi := r.settled+sure, r.settled+total
		if final {
			// Every request active in the run finished in it: the union
			// of their lifetimes is no longer than their sum, and no
			// shorter than the longest, itself no shorter than the mean.
			hi = math.Min(hi, r.work)
			if r.counted && r.finished > 0 {
				lo = math.Max(lo, math.Min(hi, r.work/r.finished))
			}
		}
		busy = clamp(whole, lo, math.Max(lo, hi)) - r.settled
	}
	spread(r.pieces, busy-sure)
	r.settled += busy
	r.settledVar += variance
	return busy
}

// spread shares extra busy seconds among the uncertain pieces in proportion
// to their expected busy share, never giving a piece more than its length.
func spread(pieces []piece, extra float64) {
	for i := range pieces {
		if pieces[i].sure {
			pieces[i].busy = pieces[i].dt
		} else {
			pieces[i].busy = 0
		}
	}
	for extra > 1e-12 {
		var weight float64
		for _, p := range pieces {
			if !p.sure && p.busy < p.dt {
				weight += expectedShare(p.kind) * p.dt
			}
		}
		if weight == 0 {
			return
		}
		scale := extra / weight
		saturated := false
		for i := range pieces {
			p := &pieces[i]
			if p.sure || p.busy >= p.dt {
				continue
			}
			add := scale * expectedShare(p.kind) * p.dt
			if p.busy+add >= p.dt {
				add, saturated = p.dt-p.busy, true
			}
			p.busy += add
			extra -= add
		}
		if !saturated {
			return
		}
	}
}
