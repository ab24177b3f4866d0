package meter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
)

// A guest's bound follows its vCPUs, never its TDP: 250 W per vCPU, at
// least 2000 W.
func TestGuestCeiling(t *testing.T) {
	for _, tt := range []struct {
		vcpus int
		want  energy.Power
	}{
		{0, 2000}, // unknown: the floor
		{1, 2000},
		{8, 2000},
		{12, 3000},
		{128, 32000},
	} {
		require.Equal(t, tt.want, GuestCeiling(tt.vcpus), "%d vCPUs", tt.vcpus)
	}
}

// share is a meter over one guest counter (powerinput's range), stale
// after 3 intervals, sampled every 10 s.
type share struct {
	t   *testing.T
	m   *Meter
	c   *counter
	now time.Time
}

func newShare(t *testing.T, start energy.Energy) *share {
	s := &share{t: t, c: &counter{v: start}, now: time.Unix(1_700_000_000, 0)}
	s.m = s.meter()
	s.m.Sample()
	return s
}

func (s *share) meter() *Meter {
	ch := []Channel{{Key: Key{Package, 0, NoDie}, Name: "guest", Reader: s.c,
		Limits: GuestLimits(guestRange, 2), StaleAfter: 3}}
	return New(ch, func() time.Time { return s.now })
}

// to sets the counter to v µJ after 10 s and samples.
func (s *share) to(v energy.Energy) *Result {
	s.c.v = v
	s.now = s.now.Add(10 * time.Second)
	return s.m.Sample()
}

// A value above the bound leaves one interval out, with the value, the
// interval and the bound for the message; the baseline moves on, so the
// next interval is measured again (it was every interval when the bound
// was below the VM's steady share).
func TestShareAboveBoundIsOneIntervalOut(t *testing.T) {
	s := newShare(t, 1000*J)
	res := s.to(1300 * J)
	require.Equal(t, 300*J, res.Total())
	res = s.to(3_601_300 * J) // moved to a host whose counter is 3.6 MJ ahead
	require.Empty(t, res.Parts)
	require.False(t, res.Complete)
	require.Len(t, res.Problems, 1)
	p := res.Problems[0]
	require.Equal(t, Implausible, p.Kind)
	require.True(t, p.Share)
	require.Equal(t, 10*time.Second, p.Interval)
	require.Equal(t, energy.Power(2000), p.Ceiling)
	require.InDelta(t, 360_000, p.Power.Watts(), 1e-6)
	_, msg := p.Message()
	require.Contains(t, msg, "moved by 3600000 J in 10 s (360000 W on average), more than this guest's bound of 2000 W")
	res = s.to(3_601_500 * J)
	require.True(t, res.Complete)
	require.Equal(t, 200*J, res.Total(), "the jump's reading is the next baseline")
}

// A share that goes backwards (a move to a host whose counter is lower) is
// a reset, though powerinput's counter has a known range: a wrap of 10^18
// µJ in one interval would be a spike.
func TestShareBackwardsIsReset(t *testing.T) {
	s := newShare(t, 5000*J)
	res := s.to(7 * J)
	require.Empty(t, res.Parts)
	require.Len(t, res.Problems, 1)
	require.Equal(t, Reset, res.Problems[0].Kind)
	_, msg := res.Problems[0].Message()
	require.Contains(t, msg, "went backwards (the VM moved to another hypervisor")
	require.Equal(t, 100*J, s.to(107*J).Total())
}

// A meter resumed from a stopped one's baseline judges the move since then:
// the energy written while the counter was stale is measured once, over
// the whole time since, when it fits the bound over that time; a move
// beyond it, or backwards, is left out and becomes the baseline.
func TestResume(t *testing.T) {
	tests := []struct {
		name    string
		to      energy.Energy // the counter when it moves again, from 1020 J
		want    energy.Energy
		verdict Verdict // Measured, or the problem's kind
	}{
		{"the host's agent came back", 1030 * J, 10 * J, Measured},
		{"a migration while stale", 4_000_000 * J, 0, Implausible},
		{"a lower host's counter", 5 * J, 0, Reset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShare(t, 1000*J)
			require.Equal(t, 20*J, s.to(1020*J).Total())
			require.True(t, s.to(1020*J).Held)
			require.True(t, s.to(1020*J).Held)
			res := s.to(1020 * J)
			require.Equal(t, Stale, res.Problems[0].Kind)
			b, ok := s.m.Baseline()
			require.True(t, ok)
			require.Equal(t, Baseline{At: s.now, Values: map[string]energy.Energy{"guest": 1020 * J}}, b)

			// Stopped for 40 s; a new meter over the same counter.
			s.now = s.now.Add(30 * time.Second)
			s.m = s.meter()
			s.m.Resume(b)
			res = s.to(tt.to)
			require.Equal(t, 40*time.Second, res.Interval)
			if tt.verdict == Measured {
				require.True(t, res.Complete)
				require.Equal(t, tt.want, res.Total())
				require.Empty(t, res.Problems)
			} else {
				require.Empty(t, res.Parts)
				require.Equal(t, tt.verdict, res.Problems[0].Kind)
			}
			next := s.to(tt.to + 10*J)
			require.True(t, next.Complete)
			require.Equal(t, 10*J, next.Total(), "measured again from the next interval")
		})
	}
}

// A channel without a value in the baseline (found since) takes its first
// reading as its baseline: it has no value for that interval, and its
// device none.
func TestResumeNewChannel(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a, b := &counter{v: 500 * J}, &counter{v: 900 * J}
	m := New([]Channel{
		{Key: Key{Package, 0, NoDie}, Name: "a", Reader: a, Limits: GuestLimits(0, 2), StaleAfter: 3},
		{Key: Key{Package, 1, NoDie}, Name: "b", Reader: b, Limits: GuestLimits(0, 2), StaleAfter: 3},
	}, func() time.Time { return now })
	m.Resume(Baseline{At: now, Values: map[string]energy.Energy{"a": 400 * J}})
	now = now.Add(10 * time.Second)
	res := m.Sample()
	require.False(t, res.Complete)
	require.Equal(t, map[Key]energy.Energy{{Package, 0, NoDie}: 100 * J}, parts(res))
	a.v, b.v = 510*J, 920*J
	now = now.Add(10 * time.Second)
	res = m.Sample()
	require.True(t, res.Complete)
	require.Equal(t, 30*J, res.Total())
}

// identified is a guest counter whose writer gives it an identity.
type identified struct {
	counter
	id Identity
}

func (c *identified) Identity() Identity { return c.id }

// A change of the counter's identity leaves the interval out whatever the
// move (a jump within the bound would be taken for energy); an unknown
// identity (no id file: an older writer, or a read of it that failed) is
// judged by the move alone, and the last known one is kept.
func TestShareIdentity(t *testing.T) {
	a, b := Identity{1}, Identity{2}
	type step struct {
		v    energy.Energy
		id   Identity
		want energy.Energy
		kind Verdict // Measured, or the problem's kind
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"same counter", []step{{1300 * J, a, 300 * J, Measured}, {1400 * J, a, 100 * J, Measured}}},
		{"another host's, within the bound", []step{{1300 * J, a, 300 * J, Measured}, {20_000 * J, b, 0, Moved}, {20_100 * J, b, 100 * J, Measured}}},
		{"made anew, from 0", []step{{1300 * J, a, 300 * J, Measured}, {5 * J, b, 0, Moved}, {15 * J, b, 10 * J, Measured}}},
		{"unknown, then known", []step{{1300 * J, Identity{}, 300 * J, Measured}, {1400 * J, a, 100 * J, Measured}, {1500 * J, a, 100 * J, Measured}}},
		{"unknown for a read", []step{{1300 * J, a, 300 * J, Measured}, {1400 * J, Identity{}, 100 * J, Measured}, {1500 * J, a, 100 * J, Measured}}},
		{"changed while unknown", []step{{1300 * J, a, 300 * J, Measured}, {1400 * J, Identity{}, 100 * J, Measured}, {9000 * J, b, 0, Moved}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &identified{counter: counter{v: 1000 * J}, id: a}
			now := time.Unix(1_700_000_000, 0)
			m := New([]Channel{{Key: Key{Package, 0, NoDie}, Name: "guest", Reader: c,
				Limits: GuestLimits(guestRange, 2), StaleAfter: 3}}, func() time.Time { return now })
			m.Sample()
			for i, st := range tt.steps {
				c.v, c.id = st.v, st.id
				now = now.Add(10 * time.Second)
				res := m.Sample()
				if st.kind == Measured {
					require.Empty(t, res.Problems, "step %d", i)
					require.Equal(t, st.want, res.Total(), "step %d", i)
					continue
				}
				require.Empty(t, res.Parts, "step %d", i)
				require.Len(t, res.Problems, 1, "step %d", i)
				p := res.Problems[0]
				require.Equal(t, st.kind, p.Kind, "step %d", i)
				_, msg := p.Message()
				require.Contains(t, msg, "this VM's counter now comes from another hypervisor, or was made anew: this interval is left out")
			}
		})
	}
}

// The identity goes with the baseline of a stopped meter: a counter that
// is another's when it moves again is left out, though its move fits.
func TestResumeIdentity(t *testing.T) {
	c := &identified{counter: counter{v: 1000 * J}, id: Identity{1}}
	now := time.Unix(1_700_000_000, 0)
	mk := func() *Meter {
		return New([]Channel{{Key: Key{Package, 0, NoDie}, Name: "guest", Reader: c,
			Limits: GuestLimits(guestRange, 2), StaleAfter: 3}}, func() time.Time { return now })
	}
	m := mk()
	m.Sample()
	b, ok := m.Baseline()
	require.True(t, ok)
	require.Equal(t, map[string]Identity{"guest": {1}}, b.IDs)
	m = mk()
	m.Resume(b)
	c.v, c.id = 1010*J, Identity{2}
	now = now.Add(40 * time.Second)
	res := m.Sample()
	require.Empty(t, res.Parts)
	require.Equal(t, Moved, res.Problems[0].Kind)
}
