package meter

import (
	"errors"
	"io/fs"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
)

const J = energy.Joule

// guestRange is where powerinput's guest counters wrap.
const guestRange = energy.Energy(1_000_000_000_000_000_000)

func TestJudge(t *testing.T) {
	const maxRange = energy.Energy(262143328850) // an Intel package's range
	pkg150 := PackageLimits(maxRange, 150)
	dram150 := DRAMLimits(65712999613, 150)
	tests := []struct {
		name      string
		prev, cur energy.Energy
		interval  time.Duration
		lim       Limits
		want      energy.Energy
		verdict   Verdict
	}{
		{"advance", 1000 * J, 1500 * J, 10 * time.Second, pkg150, 500 * J, Measured},
		{"equal readings: unchanged, not a wrap", 777, 777, 10 * time.Second, pkg150, 0, Unchanged},
		{"wrap", maxRange - 100*J, 400 * J, 10 * time.Second, pkg150, 500 * J, Measured},
		{"backwards without a range: reset", 900 * J, 100 * J, 10 * time.Second, PackageLimits(0, 150), 0, Reset},
		// The ceiling is 4 × TDP exactly: 599 W passes, 601 W does not.
		{"just under 4 × TDP", 0, 5990 * J, 10 * time.Second, pkg150, 5990 * J, Measured},
		{"just over 4 × TDP", 0, 6010 * J, 10 * time.Second, pkg150, 0, Implausible},
		// DRAM has its own ceiling, 2 × its package's TDP: a DRAM reset that
		// looks like a wrap (551 W) is refused though the package's would pass.
		{"DRAM under 2 × TDP", 0, 2990 * J, 10 * time.Second, dram150, 2990 * J, Measured},
		{"DRAM over 2 × TDP", 0, 5510 * J, 10 * time.Second, dram150, 0, Implausible},
		{"unknown TDP: 1000 W per package", 0, 10010 * J, 10 * time.Second, PackageLimits(0, 0), 0, Implausible},
		{"unknown TDP: 999 W passes", 0, 9990 * J, 10 * time.Second, PackageLimits(0, 0), 9990 * J, Measured},
		// Two wraps fit in range / TDP = 1747.6 s at 150 W.
		{"interval shorter than a wrap at TDP", 0, 1 * J, 1747 * time.Second, pkg150, 1 * J, Measured},
		{"interval long enough for two wraps", 0, 1 * J, 1748 * time.Second, pkg150, 0, Ambiguous},
		// A guest's counter: its bound follows its vCPUs, never its TDP. A
		// GPU host gives one VM 1.6 kW, more than 4 × any guest's tdp_watts.
		{"1.6 kW share of a 2-vCPU guest", 0, 16000 * J, 10 * time.Second, GuestLimits(0, 2), 16000 * J, Measured},
		{"guest just under the floor", 0, 19990 * J, 10 * time.Second, GuestLimits(guestRange, 2), 19990 * J, Measured},
		{"guest just over the floor", 0, 20010 * J, 10 * time.Second, GuestLimits(guestRange, 2), 0, Implausible},
		{"12 vCPUs: 2999 W", 0, 29990 * J, 10 * time.Second, GuestLimits(0, 12), 29990 * J, Measured},
		{"12 vCPUs: 3001 W", 0, 30010 * J, 10 * time.Second, GuestLimits(0, 12), 0, Implausible},
		// Over a long interval (a counter stale for 10 min), 1 MJ is 1667 W
		// on average: believable; 2 MJ is not.
		{"guest, long interval, under the bound", 0, 1_000_000 * J, 10 * time.Minute, GuestLimits(guestRange, 2), 1_000_000 * J, Measured},
		{"guest, long interval, over the bound", 0, 2_000_000 * J, 10 * time.Minute, GuestLimits(guestRange, 2), 0, Implausible},
		{"a guest counter's real wrap at 10^18 µJ", guestRange - 50*J, 50 * J, 10 * time.Second, GuestLimits(guestRange, 2), 100 * J, Measured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, verdict, _ := Judge(tt.prev, tt.cur, tt.interval, tt.lim)
			require.Equal(t, tt.verdict, verdict)
			require.Equal(t, tt.want, got)
		})
	}
	require.Equal(t, energy.Power(400*2+1000), HostCeiling(200, 1), "host ceiling: 4 × the TDPs plus 1000 W per package of unknown TDP")
}

// counter is a channel's value, or the error its next reads return.
type counter struct {
	v     energy.Energy
	err   error
	reads int
	// torn values returned before v, one per read (a writer that truncates)
	torn []error
}

func (c *counter) Read() (energy.Energy, error) {
	c.reads++
	if len(c.torn) > 0 {
		err := c.torn[0]
		c.torn = c.torn[1:]
		return 0, err
	}
	return c.v, c.err
}

type rig struct {
	t   *testing.T
	m   *Meter
	c   []*counter
	now time.Time
}

// newRig: package 0 (TDP 100 W) with DRAM, package 1, stale after 3.
func newRig(t *testing.T) *rig {
	r := &rig{t: t, now: time.Unix(1_700_000_000, 0)}
	keys := []Key{{Package, 0, NoDie}, {DRAM, 0, NoDie}, {Package, 1, NoDie}}
	var ch []Channel
	for i, k := range keys {
		c := &counter{v: 1000 * J}
		r.c = append(r.c, c)
		lim := PackageLimits(1<<40, 100)
		if k.Domain == DRAM {
			lim = DRAMLimits(1<<40, 100)
		}
		ch = append(ch, Channel{Key: k, Name: k.String(), Reader: c, Limits: lim, StaleAfter: 3})
		_ = i
	}
	r.m = New(ch, func() time.Time { return r.now })
	r.m.HostCeiling = HostCeiling(200, 0)
	r.step(0, 0, 0) // baseline
	return r
}

// step advances the counters by the given joules over 10 s and samples.
func (r *rig) step(add ...energy.Energy) *Result {
	for i, a := range add {
		r.c[i].v += a * J
	}
	r.now = r.now.Add(10 * time.Second)
	return r.m.Sample()
}

func parts(res *Result) map[Key]energy.Energy {
	out := map[Key]energy.Energy{}
	for _, p := range res.Parts {
		out[p.Key] = p.Energy
	}
	return out
}

func TestMeterMeasures(t *testing.T) {
	r := newRig(t)
	res := r.step(500, 50, 300)
	require.True(t, res.Complete)
	require.Equal(t, 10*time.Second, res.Interval)
	require.Equal(t, map[Key]energy.Energy{{Package, 0, NoDie}: 500 * J, {DRAM, 0, NoDie}: 50 * J, {Package, 1, NoDie}: 300 * J}, parts(res))
	require.Equal(t, 850*J, res.Total())
}

// A read that fails for a moment (a torn value after the retries) holds the
// sample: no value now, and the next covers both intervals exactly.
func TestTransientFailureHoldsAndLosesNothing(t *testing.T) {
	r := newRig(t)
	r.c[2].err = errors.Join(kfile.ErrEmpty)
	res := r.step(500, 50, 300)
	require.True(t, res.Held)
	require.Empty(t, res.Parts)
	require.Len(t, res.Problems, 1)
	require.True(t, res.Problems[0].Held)
	r.c[2].err = nil
	res = r.step(500, 50, 300)
	require.True(t, res.Complete)
	require.Equal(t, 20*time.Second, res.Interval)
	require.Equal(t, 1700*J, res.Total())
}

// A torn read (empty, then the value) is read again within the sample.
func TestTornReadIsRetried(t *testing.T) {
	r := newRig(t)
	r.c[0].torn = []error{kfile.ErrEmpty}
	res := r.step(500, 50, 300)
	require.True(t, res.Complete)
	require.Equal(t, 850*J, res.Total())
}

// A transient failure that lasts StaleAfter samples is a failure: the
// device has no value, the others are measured, the host is incomplete.
func TestLastingFailureDropsTheDevice(t *testing.T) {
	r := newRig(t)
	r.c[2].err = kfile.ErrSyntax
	require.True(t, r.step(1, 1, 1).Held)
	require.True(t, r.step(1, 1, 1).Held)
	res := r.step(1, 1, 1)
	require.False(t, res.Held)
	require.False(t, res.Complete)
	require.Equal(t, map[Key]energy.Energy{{Package, 0, NoDie}: 3 * J, {DRAM, 0, NoDie}: 3 * J}, parts(res))
	// Readable again: a new baseline for package 1, then a value.
	r.c[2].err = nil
	res = r.step(1, 1, 1)
	require.False(t, res.Complete)
	require.Len(t, res.Parts, 2)
	res = r.step(1, 1, 7)
	require.True(t, res.Complete)
	require.Equal(t, 7*J, parts(res)[Key{Package, 1, NoDie}])
}

// A permission error is no passing fault: no hold.
func TestPermanentFailureDoesNotHold(t *testing.T) {
	r := newRig(t)
	r.c[1].err = &fs.PathError{Op: "open", Path: "x", Err: fs.ErrPermission}
	res := r.step(10, 10, 10)
	require.False(t, res.Held)
	require.False(t, res.Complete)
	require.Equal(t, map[Key]energy.Energy{{Package, 0, NoDie}: 10 * J, {Package, 1, NoDie}: 10 * J}, parts(res), "package 0 is measured without its DRAM")
}

// A reset (here of a counter whose range is known) drops that device for the interval; the rest is measured, and no
// host total is complete.
func TestResetDropsOneDevice(t *testing.T) {
	r := newRig(t)
	r.c[2].v = 0
	res := r.step(100, 10, 0)
	require.False(t, res.Complete)
	require.Equal(t, map[Key]energy.Energy{{Package, 0, NoDie}: 100 * J, {DRAM, 0, NoDie}: 10 * J}, parts(res))
	require.Equal(t, Implausible, res.Problems[0].Kind, "with a known range, going back reads as a wrap of implausible size")
	res = r.step(100, 10, 50)
	require.True(t, res.Complete, "the reset reading is the new baseline")
}

// A counter that has not moved holds the sample until it moves (no false
// 0 W) or becomes stale. A stale DRAM counter is left out; a stale package
// counter leaves its package without a value.
func TestUnchangedHoldsThenStale(t *testing.T) {
	r := newRig(t)
	require.True(t, r.step(100, 0, 100).Held)
	res := r.step(100, 5, 100)
	require.True(t, res.Complete)
	require.Equal(t, 5*J, parts(res)[Key{DRAM, 0, NoDie}], "the DRAM's energy over both intervals")
	require.Equal(t, 20*time.Second, res.Interval)

	require.True(t, r.step(100, 0, 100).Held)
	require.True(t, r.step(100, 0, 100).Held)
	res = r.step(100, 0, 100)
	require.False(t, res.Held)
	require.Equal(t, Stale, res.Problems[0].Kind)
	require.True(t, res.Complete, "a stale DRAM counter is left out, the packages are whole")
	require.Equal(t, map[Key]energy.Energy{{Package, 0, NoDie}: 300 * J, {Package, 1, NoDie}: 300 * J}, parts(res))
	require.False(t, r.m.StaleRequired())
	res = r.step(100, 0, 100)
	require.Empty(t, res.Problems, "stale is said once")
	require.Len(t, res.Parts, 2)

	// A stale package counter: its package has no value.
	r.step(0, 0, 100)
	r.step(0, 0, 100)
	res = r.step(0, 0, 100)
	require.True(t, r.m.StaleRequired())
	require.False(t, res.Complete)
	require.Equal(t, map[Key]energy.Energy{{Package, 1, NoDie}: 300 * J}, parts(res))
}

func TestHostCeiling(t *testing.T) {
	r := newRig(t)
	// Each counter under its own ceiling (400 W, 200 W, 400 W), but 930 W
	// together is above the host's 800 W.
	res := r.step(3500, 1900, 3900)
	require.False(t, res.Complete)
	require.Equal(t, "host total", res.Problems[0].Channel)
	require.Len(t, res.Parts, 3, "each package point stands; only the total is refused")
}

func TestZeroIntervalHolds(t *testing.T) {
	r := newRig(t)
	r.c[0].v += 100 * J
	res := r.m.Sample() // the clock did not move
	require.True(t, res.Held)
	require.Equal(t, ZeroInterval, res.Problems[0].Kind)
	res = r.step(0, 1, 1)
	require.Equal(t, 100*J, parts(res)[Key{Package, 0, NoDie}], "the energy goes into the next interval")
}

// BenchmarkSample is the read-and-compute path of a two-socket machine with
// DRAM: four counters, deltas, ceilings. It must not allocate once warm.
func BenchmarkSample(b *testing.B) {
	cs := []*counter{{v: 1}, {v: 2}, {v: 3}, {v: 4}}
	keys := []Key{{Package, 0, NoDie}, {DRAM, 0, NoDie}, {Package, 1, NoDie}, {DRAM, 1, NoDie}}
	var ch []Channel
	for i, k := range keys {
		ch = append(ch, Channel{Key: k, Reader: cs[i], Limits: PackageLimits(1<<40, 150), StaleAfter: 3})
	}
	now := time.Unix(0, 0)
	m := New(ch, func() time.Time { return now })
	m.Sample()
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		for _, c := range cs {
			c.v += 50 * J
		}
		if r := m.Sample(); !r.Complete {
			b.Fatal("incomplete sample")
		}
	}
}
