package dashboards

import (
	"strings"

	plugin "github.com/greencampus/powerinput/internal/metaphor"
)

// Metaphor is one of powerinput's default everyday equivalents as the
// dashboards show it. Field, Watts, WattHours and Source come from the
// plugin's table (internal/metaphor).
type Metaphor struct {
	Field            string
	Watts, WattHours float64 // exactly one is set
	Source           string  // cited in every note that uses the figure
	EN, FR           MetaphorWords
}

// MetaphorWords is how a metaphor reads in one language.
type MetaphorWords struct {
	Unit  string // after the number: "14.9 LED bulbs"
	Worth string // what one of them is: "one LED bulb draws 9 W"
}

// Words returns the metaphor's words in lang ("en" or "fr").
func (m Metaphor) Words(lang string) MetaphorWords {
	if lang == "fr" {
		return m.FR
	}
	return m.EN
}

// Metaphors is powerinput's default table (internal/metaphor's, the one
// the plugin writes), in its order, with the dashboards' words. The
// figures and the sources are the plugin's: only the words are here.
var Metaphors = withWords(plugin.Defaults())

// words is how each default metaphor reads on the dashboards.
var words = map[string][2]MetaphorWords{
	"led_bulbs": {{"LED bulbs", "one LED bulb draws 9 W"},
		{"ampoules LED", "une ampoule LED consomme 9 W"}},
	"smartphone_charges": {{"phone charges", "a full charge of a Galaxy S4 smartphone battery takes 10 Wh"},
		{"recharges de téléphone", "une recharge complète de la batterie d'un smartphone Galaxy S4 demande 10 Wh"}},
	"mac_pros_idle": {{"idle Mac Pros", "an idle Mac Pro (late 2013) draws 43 W"},
		{"Mac Pro au repos", "un Mac Pro (fin 2013) au repos consomme 43 W"}},
	"ps5s_standby": {{"PS5s in standby", "a PS5 in standby draws 1.3 W"},
		{"PS5 en veille", "une PS5 en veille consomme 1,3 W"}},
	"ps5s_menu": {{"PS5s on the menu", "a PS5 on its home menu draws 47 W"},
		{"PS5 sur le menu", "une PS5 sur son menu d'accueil consomme 47 W"}},
	"ebike_km": {{"km by e-bike", "an e-bike uses 72 Wh per 100 km"},
		{"km en vélo électrique", "un vélo électrique consomme 72 Wh aux 100 km"}},
	"tvs_19in": {{"19-inch TVs", "a 19-inch TV draws 25 W"},
		{"téléviseurs 19 pouces", "un téléviseur 19 pouces consomme 25 W"}},
}

// withWords gives each of the plugin's metaphors its words, and cites it
// by its source's site (the plugin's source up to its ':'). A metaphor
// without words is a programming error: the generator stops.
func withWords(table []plugin.Metaphor) []Metaphor {
	out := make([]Metaphor, 0, len(table))
	for _, m := range table {
		w, ok := words[m.Field]
		if !ok {
			panic("no dashboard words for metaphor " + m.Field)
		}
		d := Metaphor{Field: m.Field, EN: w[0], FR: w[1]}
		d.Source, _, _ = strings.Cut(m.Source, ":")
		if m.Watts != nil {
			d.Watts = *m.Watts
		}
		if m.WattHours != nil {
			d.WattHours = *m.WattHours
		}
		out = append(out, d)
	}
	return out
}

// metaphor returns the entry of field; a missing one is a programming error.
func metaphor(field string) Metaphor {
	for _, m := range Metaphors {
		if m.Field == field {
			return m
		}
	}
	panic("no metaphor " + field)
}

// cites is how a note cites the metaphor: its worth and its source.
func (m Metaphor) cites(lang string) string {
	return m.Words(lang).Worth + " (" + m.Source + ")"
}
