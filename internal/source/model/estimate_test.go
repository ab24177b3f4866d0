package model

import (
	"math"
	"strings"
	"testing"

	"github.com/greencampus/powerinput/internal/source"
)

func TestTDPShare(t *testing.T) {
	tests := []struct{ u, want float64 }{
		{0, 0.12}, {0.10, 0.32}, {0.50, 0.75}, {1.00, 1.02}, // the curve's own points
		{0.05, 0.22},                              // halfway between 0 and 10 %
		{0.30, 0.32 + 0.2*0.43/0.4},               // 0.535
		{0.75, 0.885},                             // halfway between 50 and 100 %
		{-1, 0.12}, {2, 1.02}, {math.NaN(), 0.12}, // clamped
	}
	for _, tt := range tests {
		if got := TDPShare(tt.u); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("TDPShare(%v) = %v, want %v", tt.u, got, tt.want)
		}
	}
	if got := FromTDP(150, 0.5).Watts(); math.Abs(got-112.5) > 1e-9 {
		t.Errorf("FromTDP(150 W, 50 %%) = %v, want 112.5", got)
	}
}

func TestFromVCPUs(t *testing.T) {
	tests := []struct {
		vcpus int
		u     float64
		want  float64
	}{
		{2, 0, 1.48},   // 2 × 0.74
		{2, 1, 7.0},    // 2 × 3.5
		{2, 0.5, 4.24}, // 2 × (0.74 + 0.5 × 2.76)
		{8, 0.25, 8 * (0.74 + 0.25*2.76)},
	}
	for _, tt := range tests {
		if got := FromVCPUs(tt.vcpus, tt.u, DefaultVCPUMinWatts, DefaultVCPUMaxWatts).Watts(); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("FromVCPUs(%d, %v) = %v, want %v", tt.vcpus, tt.u, got, tt.want)
		}
	}
}

// TestDescribeSaysWhereFiguresComeFrom: the per-vCPU figures name their
// source: Cloud Carbon Footprint's for the defaults, the options where
// they were set.
func TestDescribeSaysWhereFiguresComeFrom(t *testing.T) {
	for _, c := range []struct {
		min, max float64
		want     string
	}{
		{DefaultVCPUMinWatts, DefaultVCPUMaxWatts, "0.74 to 3.5 W per vCPU, idle to full load: Cloud Carbon Footprint's averages"},
		{1, 4, "1 to 4 W per vCPU, as set by vcpu_min_watts and vcpu_max_watts"},
	} {
		got := New(source.Env{VCPUMinWatts: c.min, VCPUMaxWatts: c.max}).Describe()
		if !strings.Contains(got, c.want) {
			t.Errorf("%v–%v W: got %q, want %q in it", c.min, c.max, got, c.want)
		}
	}
}
