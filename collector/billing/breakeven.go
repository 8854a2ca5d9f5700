package billing

import "math"

// BreakEven returns the duty cycle (share of observed time with a request in
// flight) above which always-on capacity costs less than a serverless offer:
//
//	d* = alwaysOnPerSecond / serverlessPerBusySecond − overhead
//
// alwaysOnPerSecond is what the always-on capacity costs per second held
// (AlwaysOn.DollarsPerSecond); serverlessPerBusySecond is what the serverless
// deployment bills per second of one busy replica (price per GPU-second ×
// GPUs per replica); overhead is the serverless time billed beyond the busy
// time, as a share of observed time (Serverless.OverheadRatio). Serverless
// costs p·(d·T + overhead·T) over T observed seconds, always-on P·T; they are
// equal at d = P/p − overhead. The overhead measured at the current duty
// cycle is assumed to hold at others.
//
// The result is clamped to a ratio 0–1: 1 means always-on is not cheaper at
// any duty cycle below 100% (d* ≥ 1), 0 means it is cheaper even for a model
// that is never busy (d* ≤ 0, the serverless overhead alone costs more). ok
// is false when the inputs give no answer (a serverless price that is not
// positive, or a value that is not a number).
func BreakEven(alwaysOnPerSecond, serverlessPerBusySecond, overhead float64) (d float64, ok bool) {
	if !(serverlessPerBusySecond > 0) || !(alwaysOnPerSecond >= 0) || math.IsNaN(overhead) ||
		math.IsInf(alwaysOnPerSecond+serverlessPerBusySecond+overhead, 0) {
		return 0, false
	}
	d = alwaysOnPerSecond/serverlessPerBusySecond - overhead
	return min(max(d, 0), 1), true
}

// OverheadRatio returns the serverless time billed beyond the busy time as a
// share of observed time, per GPU: (billed GPU-seconds − GPUs × busy
// seconds) / (GPUs × observed seconds). It covers warm idle time, cold
// starts, extra replicas, minimum containers and rounding. ok is false
// before any time has been observed.
func (s *Serverless) OverheadRatio() (float64, bool) {
	if s.clock == 0 {
		return 0, false
	}
	return (s.billed - s.gpus*s.busy) / (s.gpus * s.clock), true
}

// BreakEven returns the duty cycle above which always-on capacity costing
// alwaysOnPerSecond would be cheaper than this simulation's offer, for the
// gap pattern simulated so far (see the BreakEven function). ok is false
// before any time has been observed.
func (s *Serverless) BreakEven(alwaysOnPerSecond float64) (float64, bool) {
	overhead, ok := s.OverheadRatio()
	if !ok {
		return 0, false
	}
	return BreakEven(alwaysOnPerSecond, s.offer.PricePerGPUSecond()*s.gpus, overhead)
}
