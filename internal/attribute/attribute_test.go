package attribute

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
)

func TestTracker(t *testing.T) {
	var tr Tracker
	tr.Begin()
	_, ok := tr.Observe("a", 10*time.Second)
	require.False(t, ok, "the first sight is a baseline")
	tr.End()

	tr.Begin()
	d, ok := tr.Observe("a", 12*time.Second)
	require.True(t, ok)
	require.Equal(t, 2*time.Second, d)
	_, ok = tr.Observe("b", time.Second)
	require.False(t, ok)
	tr.End()

	tr.Begin()
	_, ok = tr.Observe("a", time.Second)
	require.False(t, ok, "a counter that went back starts again")
	tr.End() // b not seen: forgotten
	require.Equal(t, 1, tr.Len())

	tr.Begin()
	tr.End() // a not seen
	tr.Begin()
	_, ok = tr.Observe("a", 5*time.Second)
	require.False(t, ok, "a workload that was gone a round is new")
	tr.End()
}

// Two CPUs over 10 s (20 s capacity); VMs used 2 s and 6 s, the machine 10
// s in all: VMs get 10 % and 30 %, the host's own work 10 %, unused 50 %.
func TestByCPUTime(t *testing.T) {
	var sp Split
	d := sp.ByCPUTime(1000*energy.Joule, []time.Duration{2 * time.Second, 6 * time.Second}, 10*time.Second, 20*time.Second, nil)
	require.Equal(t, []energy.Energy{100 * energy.Joule, 300 * energy.Joule}, d.Parts)
	require.Equal(t, 100*energy.Joule, d.Own)
	require.Equal(t, 500*energy.Joule, d.Unused)
	require.Equal(t, []time.Duration{8 * time.Second, 2 * time.Second, 10 * time.Second}, []time.Duration{d.Loads, d.OwnCPU, d.UnusedCPU})

	// Workloads read a moment after /proc/stat add up to more than busy,
	// and busy is then above capacity: both bounds move.
	d = sp.ByCPUTime(999, []time.Duration{11 * time.Second, 10 * time.Second}, 20*time.Second, 20*time.Second, d.Parts)
	require.Equal(t, energy.Energy(999), d.Parts[0]+d.Parts[1]+d.Own+d.Unused)
	require.Equal(t, energy.Energy(0), d.Own)
	require.Equal(t, energy.Energy(0), d.Unused)
	require.Equal(t, []time.Duration{21 * time.Second, 0, 0}, []time.Duration{d.Loads, d.OwnCPU, d.UnusedCPU})

	d = sp.ByCPUTime(77, nil, 0, 0, d.Parts)
	require.Empty(t, d.Parts)
	require.Equal(t, energy.Energy(77), d.Own+d.Unused)
}
