package source

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/meter"
)

// value is a counter the test moves.
type value struct{ v energy.Energy }

func (v *value) Read() (energy.Energy, error) { return v.v, nil }

// A counter found stale that moves again: with Resume (a guest's counter),
// the energy written meanwhile is measured at the first sample, over the
// time since it was found stale; without (rapl), that move is a baseline.
func TestCountersResumeAfterStale(t *testing.T) {
	for _, resume := range []bool{true, false} {
		t.Run(map[bool]string{true: "resume", false: "baseline"}[resume], func(t *testing.T) {
			now := time.Unix(1_700_000_000, 0)
			v := &value{v: 1000 * energy.Joule}
			discover := func() ([]meter.Channel, energy.Power, error) {
				return []meter.Channel{{Key: meter.Key{Domain: meter.Package, Die: meter.NoDie}, Name: "guest",
					Reader: v, Limits: meter.GuestLimits(0, 2), StaleAfter: 3}}, 0, nil
			}
			c := &Counters{Clock: func() time.Time { return now }, StopAfter: 3, Resume: resume, Inline: true}
			sample := func() (*meter.Result, error) {
				now = now.Add(10 * time.Second)
				return c.Sample(time.Time{})
			}
			require.NoError(t, c.Probe(time.Time{}, discover))
			_, err := sample() // the baseline
			require.NoError(t, err)
			v.v += 10 * energy.Joule
			r, err := sample()
			require.NoError(t, err)
			require.Equal(t, 10*energy.Joule, r.Total())
			for range 2 {
				r, err = sample()
				require.NoError(t, err)
				require.True(t, r.Held)
			}
			_, err = sample()
			require.True(t, errors.Is(err, ErrStale))

			now = now.Add(10 * time.Second)
			require.ErrorIs(t, c.Probe(time.Time{}, discover), ErrStale, "not moved: not taken again")
			v.v += 10 * energy.Joule
			now = now.Add(10 * time.Second)
			require.NoError(t, c.Probe(time.Time{}, discover))
			r, err = sample()
			require.NoError(t, err)
			if resume {
				require.Equal(t, 30*time.Second, r.Interval)
				require.Equal(t, 10*energy.Joule, r.Total())
			} else {
				require.Empty(t, r.Parts, "a baseline")
			}
			v.v += 10 * energy.Joule
			r, err = sample()
			require.NoError(t, err)
			require.Equal(t, 10*energy.Joule, r.Total())
		})
	}
}
