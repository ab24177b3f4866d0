// Package energy holds the units powerinput computes with: energy as an
// integer count of microjoules (what powercap counters hold), power in watts,
// and the wrap-aware difference of two counter readings.
//
// Floats appear only at the edge (Joules, Watts), like time.Duration.
package energy

import "time"

// Energy is an amount of energy in microjoules.
type Energy uint64

// Joule is one joule in microjoules.
const Joule Energy = 1_000_000

// Joules returns e in joules.
func (e Energy) Joules() float64 { return float64(e) / float64(Joule) }

// WattHours returns e in watt-hours.
func (e Energy) WattHours() float64 { return e.Joules() / 3600 }

// Power is a rate of energy in watts.
type Power float64

// Watts returns p as a plain float.
func (p Power) Watts() float64 { return float64(p) }

// Over returns the energy p delivers during d, rounded to the microjoule.
// Negative power or duration give zero.
func (p Power) Over(d time.Duration) Energy {
	if p <= 0 || d <= 0 {
		return 0
	}
	return Energy(float64(p)*d.Seconds()*float64(Joule) + 0.5)
}

// Average returns the mean power of e spent over d. The caller must make
// sure d is positive; Average returns 0 otherwise.
func Average(e Energy, d time.Duration) Power {
	if d <= 0 {
		return 0
	}
	return Power(e.Joules() / d.Seconds())
}

// FromMicrowatts converts a powercap power value (µW) to Power.
func FromMicrowatts(uw uint64) Power { return Power(float64(uw) / 1e6) }

// DeltaStatus says how a counter difference was obtained.
type DeltaStatus int

// The outcomes of Delta.
const (
	// Advanced: the counter moved forward (or stayed: equal readings are a
	// zero difference, never a wrap).
	Advanced DeltaStatus = iota
	// Wrapped: the counter passed its maximum and started again from zero.
	Wrapped
	// Reset: the counter went backwards and no maximum is known, or the
	// previous reading lies above the maximum: the counter was reset and the
	// difference is unknown.
	Reset
)

func (s DeltaStatus) String() string {
	switch s {
	case Advanced:
		return "advanced"
	case Wrapped:
		return "wrapped"
	default:
		return "reset"
	}
}

// Delta returns the energy spent between two readings of a counter that
// wraps after max (max 0: unknown). Equal readings give zero. A reading
// below the previous one is a wrap when max is known and a reset otherwise;
// a reset returns 0, and the caller must not use the difference.
//
// A wrap and a reset look alike when max is known; a reset then shows up as
// an implausibly large difference, which the caller rejects by a power
// ceiling.
func Delta(prev, cur, maxRange Energy) (Energy, DeltaStatus) {
	if cur >= prev {
		return cur - prev, Advanced
	}
	if maxRange == 0 || prev > maxRange {
		return 0, Reset
	}
	return maxRange - prev + cur, Wrapped
}
