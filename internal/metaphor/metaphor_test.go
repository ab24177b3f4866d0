package metaphor

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func byField(t *testing.T, field string) Metaphor {
	t.Helper()
	for _, m := range Defaults() {
		if m.Field == field {
			return m
		}
	}
	t.Fatalf("no default %q", field)
	return Metaphor{}
}

// The lab's example: a server drawing 84 W, over a 10 s interval (840 J,
// 7/30 Wh) and over a day (2016 Wh).
func TestConversions(t *testing.T) {
	p := energy.Power(84)
	interval := p.Over(10 * time.Second)
	day := p.Over(24 * time.Hour)
	tests := []struct {
		field string
		e     energy.Energy
		want  float64
	}{
		{"led_bulbs", interval, 84.0 / 9},      // 9.33 bulbs
		{"mac_pros_idle", interval, 84.0 / 43}, // 1.95 idle Mac Pros
		{"ps5s_standby", interval, 84.0 / 1.3}, // 64.6 consoles in standby
		{"ps5s_menu", interval, 84.0 / 47},     // 1.79 on the menu
		{"tvs_19in", interval, 84.0 / 25},      // 3.36 TVs
		{"smartphone_charges", interval, 840.0 / 3600 / 10},
		{"smartphone_charges", day, 2016.0 / 10},    // 201.6 charges a day
		{"ebike_km", interval, 840.0 / 3600 / 0.72}, // 0.324 km per 10 s
		{"ebike_km", day, 2016.0 / 0.72},            // 2800 km a day: 72 Wh per 100 km
	}
	for _, tt := range tests {
		if got := byField(t, tt.field).Value(p, tt.e); !near(got, tt.want) {
			t.Errorf("%s of 84 W, %d µJ = %v, want %v", tt.field, tt.e, got, tt.want)
		}
	}
}

func TestDefaultsCarrySources(t *testing.T) {
	for _, m := range Defaults() {
		if m.Source == "" || m.Label == "" || m.LabelFR == "" {
			t.Errorf("%s: every default needs a source and labels in English and French", m.Field)
		}
	}
	if err := Validate(Defaults(), []string{"power_watts"}); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func w(v float64) *float64 { return &v }

func TestValidate(t *testing.T) {
	reserved := []string{"power_watts", "energy_joules"}
	tests := []struct {
		name string
		list []Metaphor
		want string
	}{
		{"both", []Metaphor{{Field: "a", Label: "a", Watts: w(1), WattHours: w(1)}}, "not both"},
		{"neither", []Metaphor{{Field: "a", Label: "a"}}, "set one of watts"},
		{"zero", []Metaphor{{Field: "a", Label: "a", Watts: w(0)}}, "watts must be a positive number"},
		{"negative", []Metaphor{{Field: "a", Label: "a", WattHours: w(-2)}}, "watt_hours must be a positive number"},
		{"infinite", []Metaphor{{Field: "a", Label: "a", Watts: w(math.Inf(1))}}, "positive number"},
		{"NaN", []Metaphor{{Field: "a", Label: "a", Watts: w(math.NaN())}}, "positive number"},
		{"so small a count is infinite", []Metaphor{{Field: "a", Label: "a", Watts: w(5e-324)}}, "from 1e-06 to 1e+12"},
		{"too many", make([]Metaphor, MaxEntries+1), "at most 256"},
		{"duplicate", []Metaphor{{Field: "a", Label: "a", Watts: w(1)}, {Field: "a", Label: "b", Watts: w(2)}}, "metaphor #2 (field \"a\"): same field as metaphor #1"},
		{"invalid name", []Metaphor{{Field: "LED bulbs", Label: "a", Watts: w(1)}}, "lower-case letters"},
		{"empty name", []Metaphor{{Field: "", Label: "a", Watts: w(1)}}, "lower-case letters"},
		{"built-in", []Metaphor{{Field: "energy_joules", Label: "a", Watts: w(1)}}, "built-in field"},
		{"no label", []Metaphor{{Field: "a", Watts: w(1)}}, "label is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.list, reserved)
			require.ErrorIs(t, err, ErrInvalid)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestMerge(t *testing.T) {
	user := []Metaphor{{Field: "led_bulbs", Label: "5 W bulbs", Watts: w(5)}, {Field: "kettles", Label: "kettles", Watts: w(2000)}}
	got := Merge(true, user)
	if len(got) != len(Defaults())+1 {
		t.Fatalf("merged %d, want defaults plus one", len(got))
	}
	if v, _ := got[0].Unit(); got[0].Field != "led_bulbs" || v != 5 {
		t.Fatalf("led_bulbs not replaced in place: %+v", got[0])
	}
	if only := Merge(false, user); len(only) != 2 {
		t.Fatalf("without defaults: %d entries, want 2", len(only))
	}
}

// Merging is linear: 40,000 user entries (far above what Validate lets
// through) merge at once, each replacing or adding exactly once.
func TestMergeLarge(t *testing.T) {
	user := make([]Metaphor, 40000)
	for i := range user {
		user[i] = Metaphor{Field: fmt.Sprintf("f%d", i), Label: "x", Watts: w(1)}
	}
	user[39999].Field = "led_bulbs"
	got := Merge(true, user)
	if len(got) != len(Defaults())+39999 {
		t.Fatalf("merged %d entries", len(got))
	}
	if v, _ := got[0].Unit(); v != 1 {
		t.Fatalf("led_bulbs not replaced: %+v", got[0])
	}
}

func BenchmarkMerge(b *testing.B) {
	user := make([]Metaphor, MaxEntries)
	for i := range user {
		user[i] = Metaphor{Field: fmt.Sprintf("f%d", i), Label: "x", Watts: w(1)}
	}
	b.ReportAllocs()
	for b.Loop() {
		Merge(true, user)
	}
}

// TestLabelFor: French puts the noun in the singular below 2, whatever
// the sign; English only at exactly 1; entries without a singular keep
// their label.
func TestLabelFor(t *testing.T) {
	bulb := Defaults()[0]
	custom := Metaphor{Field: "kettles", Label: "kettles", LabelFR: "bouilloires"}
	for _, c := range []struct {
		m     Metaphor
		lang  string
		shown float64
		want  string
	}{
		{bulb, "fr", 0, "ampoule LED"},
		{bulb, "fr", 0.78, "ampoule LED"},
		{bulb, "fr", 1, "ampoule LED"},
		{bulb, "fr", 1.99, "ampoule LED"},
		{bulb, "fr", -1.5, "ampoule LED"},
		{bulb, "fr", 2, "ampoules LED"},
		{bulb, "fr", 14, "ampoules LED"},
		{bulb, "fr", -2, "ampoules LED"},
		{bulb, "en", 1.5, "LED bulbs"},
		{bulb, "en", 1, "LED bulb"},
		{bulb, "en", -1, "LED bulb"},
		{bulb, "en", 0.5, "LED bulbs"},
		{bulb, "en", 0, "LED bulbs"},
		{bulb, "en", 14, "LED bulbs"},
		{custom, "fr", 1.5, "bouilloires"}, // no label_fr_one: unchanged
		{custom, "en", 1.5, "kettles"},
		{custom, "en", 1, "kettles"}, // no label_one: unchanged
	} {
		if got := c.m.LabelFor(c.lang, c.shown); got != c.want {
			t.Errorf("%s %s %g: %q, want %q", c.m.Field, c.lang, c.shown, got, c.want)
		}
	}
	// Every built-in with a French plural in -s has its singular.
	for _, m := range Defaults() {
		if strings.HasSuffix(strings.Fields(m.LabelFR)[0], "s") && m.LabelFROne == "" {
			t.Errorf("%s: French label %q has no singular", m.Field, m.LabelFR)
		}
		if m.LabelOne == "" || m.LabelOne == m.Label {
			t.Errorf("%s: English label %q has no singular", m.Field, m.Label)
		}
	}
}
