package powerinput

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/influxdata/telegraf/testutil"

	"github.com/greencampus/powerinput/internal/metaphor"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The energy of the intervals adds up exactly to the counter's change
// (2520 J), and each energy metaphor adds up to that energy over its
// watt-hours, so sum() over any range is right.
func TestEnergyMetaphorsSum(t *testing.T) {
	s := loadScenario(t, filepath.Join("testdata", "scenarios", "metaphors-energy.txtar"))
	s.run(t)
	sums := map[string]float64{}
	n := 0
	for _, m := range s.acc.GetTelegrafMetrics() {
		if m.Name() != "power_host" {
			continue
		}
		n++
		for k, v := range m.Fields() {
			sums[k] += v.(float64)
		}
	}
	if n != 3 {
		t.Fatalf("%d power_host points, want 3", n)
	}
	const joules = 2520.0
	if sums["energy_joules"] != joules {
		t.Errorf("sum(energy_joules) = %v, want exactly %v", sums["energy_joules"], joules)
	}
	for _, m := range metaphor.Defaults() {
		if m.Kind() != metaphor.Energy {
			continue
		}
		want := joules / 3600 / *m.WattHours
		require.InDelta(t, want, sums[m.Field], 1e-12, m.Field)
	}
	require.InDelta(t, joules/3.6e6*50, sums["co2_grams"], 1e-12, "co2_grams")
}

func TestMetaphorConfigErrorsStopInit(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, toml, want string }{
		{"both", "field = \"x\"\nlabel = \"x\"\nwatts = 1.0\nwatt_hours = 1.0", "not both"},
		{"neither", "field = \"x\"\nlabel = \"x\"", "set one of watts"},
		{"zero", "field = \"x\"\nlabel = \"x\"\nwatts = 0.0", "positive"},
		{"collides with a built-in", "field = \"power_watts\"\nlabel = \"x\"\nwatts = 3.0", "built-in"},
		{"invalid name", "field = \"x-y\"\nlabel = \"x\"\nwatts = 3.0", "lower-case"},
		{"unknown key", "field = \"x\"\nlabel = \"x\"\nwats = 3.0", "inputs.powerinput.metaphor.wats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "[[inputs.powerinput]]\n[[inputs.powerinput.metaphor]]\n" + tt.toml + "\n"
			p, err := ParseConfig(text)
			if err == nil {
				p.HostSys, p.HostProc, p.Log = dir, dir, testutil.Logger{}
				err = p.Init()
			}
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tt.want)
		})
	}
	// A duplicate within the user's own entries.
	text := "[[inputs.powerinput]]\n[[inputs.powerinput.metaphor]]\nfield = \"k\"\nlabel = \"k\"\nwatts = 2.0\n[[inputs.powerinput.metaphor]]\nfield = \"k\"\nlabel = \"k2\"\nwatts = 3.0\n"
	p, err := ParseConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	p.HostSys, p.HostProc, p.Log = dir, dir, testutil.Logger{}
	require.ErrorContains(t, p.Init(), "same field as metaphor #1")
}
