package fleetsim

import (
	"math"
	"math/rand/v2"
	"time"
)

// Dist is a distribution of non-negative numbers (seconds or tokens).
type Dist interface {
	// Sample draws one value.
	Sample(r *rand.Rand) float64
	// Mean returns the distribution's mean.
	Mean() float64
}

// Fixed always returns its value.
type Fixed float64

// Sample returns the fixed value.
func (f Fixed) Sample(*rand.Rand) float64 { return float64(f) }

// Mean returns the fixed value.
func (f Fixed) Mean() float64 { return float64(f) }

// Exponential has the given mean.
type Exponential struct{ MeanValue float64 }

// Sample draws an exponential value.
func (e Exponential) Sample(r *rand.Rand) float64 { return r.ExpFloat64() * e.MeanValue }

// Mean returns the mean.
func (e Exponential) Mean() float64 { return e.MeanValue }

// Uniform is uniform on [Min, Max).
type Uniform struct{ Min, Max float64 }

// Sample draws a uniform value.
func (u Uniform) Sample(r *rand.Rand) float64 { return u.Min + r.Float64()*(u.Max-u.Min) }

// Mean returns the midpoint.
func (u Uniform) Mean() float64 { return (u.Min + u.Max) / 2 }

// LogNormal has the given median and shape sigma (the standard deviation of
// the logarithm).
type LogNormal struct{ Median, Sigma float64 }

// Sample draws a lognormal value.
func (l LogNormal) Sample(r *rand.Rand) float64 { return l.Median * math.Exp(l.Sigma*r.NormFloat64()) }

// Mean returns median × exp(sigma²/2).
func (l LogNormal) Mean() float64 { return l.Median * math.Exp(l.Sigma*l.Sigma/2) }

// TokenModel draws the prompt and output token counts of synthetic requests.
type TokenModel struct {
	// Prompt and Output are the token count distributions.
	Prompt, Output Dist
	// MaxPrompt and MaxOutput cap a draw (0: no cap). Draws are rounded and
	// at least 1.
	MaxPrompt, MaxOutput int
}

func (tm TokenModel) sample(r *rand.Rand) (prompt, output int) {
	return tokens(tm.Prompt.Sample(r), tm.MaxPrompt), tokens(tm.Output.Sample(r), tm.MaxOutput)
}

func tokens(v float64, limit int) int {
	n := int(math.Max(1, math.Round(v)))
	if limit > 0 {
		n = min(n, limit)
	}
	return n
}

// newRand returns the random stream of one source. Each source draws from its
// own stream so that adding a model never changes another model's traffic.
func newRand(seed uint64, stream string) *rand.Rand {
	h := uint64(14695981039346656037) // FNV-1a, a stable hash of the stream name
	for i := 0; i < len(stream); i++ {
		h ^= uint64(stream[i])
		h *= 1099511628211
	}
	return rand.New(rand.NewPCG(seed, h))
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// poisson is a steady Poisson process.
type poisson struct {
	rate float64
	tm   TokenModel
	r    *rand.Rand
	t    float64 // seconds
}

// NewPoisson returns a source of requests arriving as a Poisson process of
// rate requests per second. A rate of 0 yields no requests.
func NewPoisson(rate float64, tm TokenModel, seed uint64, stream string) Source {
	return &poisson{rate: rate, tm: tm, r: newRand(seed, stream)}
}

func (p *poisson) Next() (Request, bool) {
	if !(p.rate > 0) {
		return Request{}, false
	}
	p.t += p.r.ExpFloat64() / p.rate
	pr, out := p.tm.sample(p.r)
	return Request{Arrival: seconds(p.t), PromptTokens: pr, OutputTokens: out}, true
}

// BurstConfig describes on/off traffic.
type BurstConfig struct {
	// Rate is the Poisson arrival rate during a burst, in requests per second.
	Rate float64
	// On and Off are the burst and quiet period lengths, in seconds.
	On, Off Dist
	// StartQuiet starts with a quiet period instead of a burst.
	StartQuiet bool
}

type bursts struct {
	cfg      BurstConfig
	tm       TokenModel
	r        *rand.Rand
	t        float64 // seconds
	on       bool
	phaseEnd float64
}

// NewBursts returns a source that alternates Poisson bursts and silence.
func NewBursts(cfg BurstConfig, tm TokenModel, seed uint64, stream string) Source {
	b := &bursts{cfg: cfg, tm: tm, r: newRand(seed, stream), on: !cfg.StartQuiet}
	if b.on {
		b.phaseEnd = cfg.On.Sample(b.r)
	} else {
		b.phaseEnd = cfg.Off.Sample(b.r)
	}
	return b
}

func (b *bursts) Next() (Request, bool) {
	if !(b.cfg.Rate > 0) || !(b.cfg.On.Mean() > 0) {
		return Request{}, false
	}
	// Exponential gaps are memoryless, so a draw that overshoots the burst
	// is dropped and the next burst starts afresh.
	for {
		if b.on {
			cand := b.t + b.r.ExpFloat64()/b.cfg.Rate
			if cand < b.phaseEnd {
				b.t = cand
				pr, out := b.tm.sample(b.r)
				return Request{Arrival: seconds(b.t), PromptTokens: pr, OutputTokens: out}, true
			}
		}
		b.t = b.phaseEnd
		b.on = !b.on
		if b.on {
			b.phaseEnd = b.t + b.cfg.On.Sample(b.r)
		} else {
			b.phaseEnd = b.t + b.cfg.Off.Sample(b.r)
		}
	}
}

// DailyConfig describes traffic that follows a daily cycle.
type DailyConfig struct {
	// Trough and Peak are the lowest and highest rates, requests per second.
	Trough, Peak float64
	// PeakAt is the time of day of the peak (the trough is 12 h away).
	PeakAt time.Duration
	// Compression shortens the day: a factor of 144 makes a day 10 minutes.
	// Rates are not scaled. 0 means 1.
	Compression float64
}

// RateAt returns the arrival rate at simulated time t: a cosine between the
// trough and the peak with a period of one (compressed) day.
func (c DailyConfig) RateAt(t time.Duration) float64 {
	comp := c.Compression
	if comp <= 0 {
		comp = 1
	}
	day := 24 * time.Hour.Seconds()
	phase := (t.Seconds()*comp - c.PeakAt.Seconds()) / day
	return c.Trough + (c.Peak-c.Trough)*(1+math.Cos(2*math.Pi*phase))/2
}

type daily struct {
	cfg DailyConfig
	tm  TokenModel
	r   *rand.Rand
	t   float64
}

// NewDaily returns a non-homogeneous Poisson source whose rate follows
// cfg.RateAt, drawn by thinning a process at the peak rate.
func NewDaily(cfg DailyConfig, tm TokenModel, seed uint64, stream string) Source {
	return &daily{cfg: cfg, tm: tm, r: newRand(seed, stream)}
}

func (d *daily) Next() (Request, bool) {
	top := math.Max(d.cfg.Peak, d.cfg.Trough)
	if !(top > 0) {
		return Request{}, false
	}
	for {
		d.t += d.r.ExpFloat64() / top
		at := seconds(d.t)
		if d.r.Float64()*top < d.cfg.RateAt(at) {
			pr, out := d.tm.sample(d.r)
			return Request{Arrival: at, PromptTokens: pr, OutputTokens: out}, true
		}
	}
}

// ReplayConfig controls the replay of a recorded trace.
type ReplayConfig struct {
	// Keep is the probability of keeping each request (thinning); 0 means 1.
	Keep float64
	// TimeScale multiplies the trace's time offsets: 2 replays at half
	// speed. 0 means 1.
	TimeScale float64
	// Loop repeats the trace end to end without end.
	Loop bool
}

type replay struct {
	tr    *Trace
	cfg   ReplayConfig
	r     *rand.Rand
	i     int
	round int
}

// NewReplay returns a source that replays tr.
func NewReplay(tr *Trace, cfg ReplayConfig, seed uint64, stream string) Source {
	if cfg.Keep <= 0 {
		cfg.Keep = 1
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	return &replay{tr: tr, cfg: cfg, r: newRand(seed, stream)}
}

func (p *replay) Next() (Request, bool) {
	if len(p.tr.Requests) == 0 {
		return Request{}, false
	}
	for {
		if p.i == len(p.tr.Requests) {
			if !p.cfg.Loop {
				return Request{}, false
			}
			p.i = 0
			p.round++
		}
		req := p.tr.Requests[p.i]
		p.i++
		if p.cfg.Keep < 1 && p.r.Float64() >= p.cfg.Keep {
			continue
		}
		offset := time.Duration(p.round)*p.tr.Period() + req.Arrival
		req.Arrival = time.Duration(math.Round(float64(offset) * p.cfg.TimeScale))
		return req, true
	}
}
