// Package metaphor turns watts and joules into everyday things: LED bulbs
// lit right now, smartphone charges used over a day. The table is data; the
// conversions are pure functions.
package metaphor

import (
	"errors"
	"fmt"
	"math"
	"regexp"

	"github.com/greencampus/powerinput/internal/energy"
)

// Kind says how a metaphor reads a measurement.
type Kind int

const (
	// Power metaphors are an instantaneous count: power / watts. Averaged
	// over a range with mean().
	Power Kind = iota
	// Energy metaphors are a count for the interval: energy / watt-hours.
	// Summed over a range with sum().
	Energy
)

func (k Kind) String() string {
	if k == Energy {
		return "energy"
	}
	return "power"
}

// Metaphor is one everyday equivalent. Exactly one of Watts and WattHours is
// set; pointers tell "not set" from a zero written by mistake.
type Metaphor struct {
	Field   string `toml:"field"`
	Label   string `toml:"label"`
	LabelFR string `toml:"label_fr"`
	// LabelFROne is the French label in the singular, for a count below
	// 2 (« 1,5 ampoule LED »); empty: LabelFR whatever the count.
	LabelFROne string `toml:"label_fr_one"`
	// LabelOne is the English label in the singular, for a count of
	// exactly 1 ("1 LED bulb"); empty: Label whatever the count.
	LabelOne  string   `toml:"label_one"`
	Watts     *float64 `toml:"watts"`
	WattHours *float64 `toml:"watt_hours"`
	Source    string   `toml:"source"`
}

// Kind is Power for a Watts metaphor and Energy for a WattHours one.
func (m Metaphor) Kind() Kind {
	if m.WattHours != nil {
		return Energy
	}
	return Power
}

// Unit returns the metaphor's value and its unit ("W" or "Wh").
func (m Metaphor) Unit() (float64, string) {
	if m.WattHours != nil {
		return *m.WattHours, "Wh"
	}
	if m.Watts != nil {
		return *m.Watts, "W"
	}
	return 0, ""
}

// LabelIn returns the label in lang ("en" or "fr"), the English one where
// no translation is given.
func (m Metaphor) LabelIn(lang string) string {
	if lang == "fr" && m.LabelFR != "" {
		return m.LabelFR
	}
	return m.Label
}

// LabelFor returns the label in lang for a count of shown them (the
// number as written, after rounding). French puts a noun in the singular
// when the count's absolute value is below 2 (« 0,78 ampoule LED »,
// « 1,5 recharge »); English only for a count of exactly 1 ("1 LED
// bulb", "0.5 LED bulbs").
func (m Metaphor) LabelFor(lang string, shown float64) string {
	if lang == "fr" && m.LabelFROne != "" && math.Abs(shown) < 2 {
		return m.LabelFROne
	}
	if lang != "fr" && m.LabelOne != "" && math.Abs(shown) == 1 {
		return m.LabelOne
	}
	return m.LabelIn(lang)
}

// Value converts a measurement: a power metaphor divides the average power
// p, an energy metaphor divides the interval's energy e.
func (m Metaphor) Value(p energy.Power, e energy.Energy) float64 {
	if m.WattHours != nil {
		return e.WattHours() / *m.WattHours
	}
	if m.Watts != nil {
		return p.Watts() / *m.Watts
	}
	return 0
}

func f(v float64) *float64 { return &v }

// Defaults is the Green Campus lab's table. Each entry carries the source
// the lab took its figure from.
func Defaults() []Metaphor {
	return []Metaphor{
		{Field: "led_bulbs", Label: "LED bulbs", LabelOne: "LED bulb", LabelFR: "ampoules LED", LabelFROne: "ampoule LED", Watts: f(9),
			Source: "silamp.fr: a 9 W LED bulb (about 806 lm, a 60 W incandescent equivalent)"},
		{Field: "smartphone_charges", Label: "full charges of a Galaxy S4 battery", LabelOne: "full charge of a Galaxy S4 battery", LabelFR: "recharges complètes d’une batterie de Galaxy S4", LabelFROne: "recharge complète d’une batterie de Galaxy S4", WattHours: f(10),
			Source: "desideespourchangerlemonde.wordpress.com: about 10 Wh for a full Galaxy S4 charge, charger losses included"},
		{Field: "mac_pros_idle", Label: "idle Mac Pros (late 2013)", LabelOne: "idle Mac Pro (late 2013)", LabelFR: "Mac Pro (fin 2013) au repos", Watts: f(43),
			Source: "support.apple.com HT201796: Mac Pro (Late 2013) power consumption at idle, 43 W"},
		{Field: "ps5s_standby", Label: "PS5 consoles in standby", LabelOne: "PS5 console in standby", LabelFR: "consoles PS5 en veille", LabelFROne: "console PS5 en veille", Watts: f(1.3),
			Source: "monpetitforfait.com: PS5 in rest mode, 1.3 W"},
		{Field: "ps5s_menu", Label: "PS5 consoles on the home menu", LabelOne: "PS5 console on the home menu", LabelFR: "consoles PS5 sur le menu d’accueil", LabelFROne: "console PS5 sur le menu d’accueil", Watts: f(47),
			Source: "monpetitforfait.com: PS5 on its home menu, 47 W"},
		{Field: "ebike_km", Label: "kilometres on an e-bike", LabelOne: "kilometre on an e-bike", LabelFR: "kilomètres en vélo électrique", LabelFROne: "kilomètre en vélo électrique", WattHours: f(0.72),
			Source: "abicyclettepaulette.fr: an e-bike uses about 72 Wh per 100 km"},
		{Field: "tvs_19in", Label: "19-inch TVs", LabelOne: "19-inch TV", LabelFR: "téléviseurs de 19 pouces", LabelFROne: "téléviseur de 19 pouces", Watts: f(25),
			Source: "acheter-tv.fr: a 19-inch LED TV draws about 25 W"},
	}
}

var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid metaphor")

// Merge returns the table to use: the defaults (when withDefaults), with
// each user entry either replacing the default of the same field or added
// after them.
func Merge(withDefaults bool, user []Metaphor) []Metaphor {
	var out []Metaphor
	if withDefaults {
		out = Defaults()
	}
	at := make(map[string]int, len(out))
	for i, m := range out {
		at[m.Field] = i
	}
	for _, u := range user {
		if i, ok := at[u.Field]; ok {
			out[i] = u
			continue
		}
		at[u.Field] = len(out)
		out = append(out, u)
	}
	return out
}

// MaxEntries bounds the table: each entry is a field of every power_host
// point.
const MaxEntries = 256

// Bounds of a metaphor's value (watts or watt-hours): a smaller one would
// make counts overflow to infinity (watts = 5e-324), a larger one is no
// everyday thing.
const (
	MinValue = 1e-6
	MaxValue = 1e12
)

// Validate checks user entries (before Merge): each needs a valid, unique
// field name that is not reserved, a label, and exactly one positive, finite
// value. The error names the entry.
func Validate(user []Metaphor, reserved []string) error {
	if len(user) > MaxEntries {
		return fmt.Errorf("%d metaphors, at most %d: %w", len(user), MaxEntries, ErrInvalid)
	}
	seen := map[string]int{}
	for i, m := range user {
		where := fmt.Sprintf("metaphor #%d (field %q)", i+1, m.Field)
		if !fieldName.MatchString(m.Field) {
			return fmt.Errorf("%s: field must be lower-case letters, digits and '_', starting with a letter: %w", where, ErrInvalid)
		}
		for _, r := range reserved {
			if m.Field == r {
				return fmt.Errorf("%s: %q is a built-in field or tag of power_host (or InfluxDB's time): %w", where, r, ErrInvalid)
			}
		}
		if j, dup := seen[m.Field]; dup {
			return fmt.Errorf("%s: same field as metaphor #%d: %w", where, j, ErrInvalid)
		}
		seen[m.Field] = i + 1
		if m.Label == "" {
			return fmt.Errorf("%s: label is empty: %w", where, ErrInvalid)
		}
		switch {
		case m.Watts != nil && m.WattHours != nil:
			return fmt.Errorf("%s: set either watts or watt_hours, not both: %w", where, ErrInvalid)
		case m.Watts == nil && m.WattHours == nil:
			return fmt.Errorf("%s: set one of watts (a power metaphor) or watt_hours (an energy metaphor): %w", where, ErrInvalid)
		}
		v, unit := m.Unit()
		if !(v >= MinValue && v <= MaxValue) {
			return fmt.Errorf("%s: %s must be a positive number from %g to %g, got %v: %w", where, unitKey(unit), MinValue, MaxValue, v, ErrInvalid)
		}
	}
	return nil
}

func unitKey(unit string) string {
	if unit == "Wh" {
		return "watt_hours"
	}
	return "watts"
}
