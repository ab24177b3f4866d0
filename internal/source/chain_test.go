package source

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/say"
)

// fake is a source whose probe and samples the test sets.
type fake struct {
	name, model string
	probeErr    error
	sampleErr   error
	probes      int
	samples     int
	closed      int
}

func (f *fake) Name() string                       { return f.name }
func (f *fake) Model() string                      { return f.model }
func (f *fake) TDP(meter.Key) energy.Power         { return 0 }
func (f *fake) Describe() string                   { return f.name + " works" }
func (f *fake) Explain(err error) (string, string) { return err.Error(), "fix " + f.name }
func (f *fake) Label(string) string                { return f.name }
func (f *fake) Close()                             { f.closed++ }
func (f *fake) Probe(time.Time) error              { f.probes++; return f.probeErr }
func (f *fake) Sample(time.Time) (*meter.Result, error) {
	f.samples++
	if f.sampleErr != nil {
		return &meter.Result{}, f.sampleErr
	}
	return &meter.Result{Interval: time.Second, Complete: true, Parts: []meter.Part{{Energy: energy.Joule}}}, nil
}

type logged []string

func (l *logged) say(key string, level say.Level, msg string) {
	if msg != "" {
		*l = append(*l, fmt.Sprintf("%d %s", level, msg))
	}
}

func TestChainFallsBackAndComesBack(t *testing.T) {
	rapl := &fake{name: "rapl", probeErr: errors.New("no zones")}
	model := &fake{name: "model", model: "vcpu"}
	var log logged
	c := NewChain([]Source{rapl, model}, log.say, 0)
	require.Equal(t, model, c.Current())
	require.Contains(t, log, "2 source rapl unavailable: no zones; fix: fix rapl")
	require.Contains(t, log, "3 power source now: model (estimate: vcpu model)")

	now := time.Now()
	c.Clock = func() time.Time { return now }
	r, ok := c.Sample()
	require.True(t, ok)
	require.Equal(t, model, r.Source)
	require.Equal(t, 2, rapl.probes, "the first sample probes the preferred source again")
	// Then after a wait that doubles …
	for _, step := range []struct {
		after  time.Duration
		probes int
	}{
		{0, 2},
		{ProbeWait, 2}, // the start's probe counted: twice ProbeWait
		{ProbeWait, 3},
		{3 * ProbeWait, 3},
		{ProbeWait, 4},
		{8*ProbeWait - time.Nanosecond, 4},
		{time.Nanosecond, 5},
		{MaxProbeWait, 6}, // … up to MaxProbeWait
	} {
		now = now.Add(step.after)
		r, ok = c.Sample()
		require.True(t, ok)
		require.Equal(t, model, r.Source)
		require.Equal(t, step.probes, rapl.probes, "%s later", step.after)
	}

	rapl.probeErr = nil
	now = now.Add(MaxProbeWait)
	r, ok = c.Sample()
	require.True(t, ok)
	require.Equal(t, rapl, r.Source, "a source that works again is taken back")
	require.Equal(t, 1, model.closed, "the source left is closed")
	require.Equal(t, 1, rapl.samples, "its first sample (a baseline) in the same gather")

	// rapl stops: the model stands in within the same sample.
	rapl.sampleErr = errors.New("stale")
	rapl.probeErr = errors.New("stale")
	r, ok = c.Sample()
	require.True(t, ok)
	require.Equal(t, model, r.Source)
}

func TestChainNothingWorks(t *testing.T) {
	a := &fake{name: "a", probeErr: errors.New("no")}
	var log logged
	c := NewChain([]Source{a}, log.say, 0)
	require.Nil(t, c.Current())
	_, ok := c.Sample()
	require.False(t, ok)
	require.Contains(t, log, "1 "+noSource)
}

// A source after the current one is never probed: the chain does not
// leave a working source for a worse one.
func TestChainDoesNotProbeWorseSources(t *testing.T) {
	a := &fake{name: "a"}
	b := &fake{name: "b"}
	var log logged
	c := NewChain([]Source{a, b}, log.say, 0)
	for i := 0; i < 3; i++ {
		c.Sample()
	}
	require.Equal(t, 0, b.probes)
	require.Equal(t, 1, a.probes)
}
