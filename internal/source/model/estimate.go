// Package model estimates power where nothing measures it, from CPU
// utilisation. Its numbers are estimates: callers label them as such.
package model

import "github.com/greencampus/powerinput/internal/energy"

// curve is power as a share of TDP against CPU utilisation, derived from
// SPECpower_ssj2008 results (as used by Teads' and Boavizta's server models):
// 12 % of TDP at idle, 32 % at 10 % load, 75 % at 50 %, 102 % at full load.
var curve = [...]struct{ load, share float64 }{
	{0, 0.12}, {0.10, 0.32}, {0.50, 0.75}, {1.00, 1.02},
}

// TDPShare returns the share of TDP drawn at utilisation u (0 to 1, clamped),
// linearly interpolated between the curve's points.
func TDPShare(u float64) float64 {
	u = clamp(u)
	for i := 1; i < len(curve); i++ {
		a, b := curve[i-1], curve[i]
		if u <= b.load {
			return a.share + (u-a.load)*(b.share-a.share)/(b.load-a.load)
		}
	}
	return curve[len(curve)-1].share
}

// FromTDP estimates a CPU's power from its TDP and utilisation.
func FromTDP(tdp energy.Power, u float64) energy.Power {
	return energy.Power(TDPShare(u) * tdp.Watts())
}

// Per-vCPU defaults: Cloud Carbon Footprint's average minimum and maximum
// watts per vCPU across cloud providers' compute (its coefficients for AWS,
// 0.74 W and 3.5 W).
const (
	DefaultVCPUMinWatts = 0.74
	DefaultVCPUMaxWatts = 3.5
)

// FromVCPUs estimates a VM's power from its vCPU count and utilisation:
// vcpus × (min + u × (max − min)).
func FromVCPUs(vcpus int, u, minW, maxW float64) energy.Power {
	return energy.Power(float64(vcpus) * (minW + clamp(u)*(maxW-minW)))
}

func clamp(u float64) float64 {
	switch {
	case u < 0 || u != u:
		return 0
	case u > 1:
		return 1
	}
	return u
}
