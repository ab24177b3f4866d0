package dashboards

import (
	"strconv"
	"strings"

	"github.com/greencampus/powerinput/internal/metaphor"
)

// Metaphor is one of powerinput's default everyday equivalents as the
// dashboards show it: the plugin's entry (its field, figure and source,
// from internal/metaphor, so that there is one table) and the words the
// dashboards put around it.
type Metaphor struct {
	metaphor.Metaphor
	EN, FR MetaphorWords
}

// MetaphorWords is how a metaphor reads in one language.
type MetaphorWords struct {
	Unit string // after the number: "14 LED bulbs"
	// Worth says what one of them is, with %s for the figure and its unit:
	// "one LED bulb draws %s".
	Worth string
}

// words are the dashboards' words for each default metaphor. A default
// without words here is a programming error (Metaphors panics), caught by
// every test of the package.
var words = map[string][2]MetaphorWords{
	"led_bulbs": {{"LED bulbs", "one LED bulb draws %s"},
		{"ampoules LED", "une ampoule LED consomme %s"}},
	"smartphone_charges": {{"phone charges", "a full charge of a Galaxy S4 smartphone battery takes %s"},
		{"recharges de téléphone", "une recharge complète de la batterie d’un smartphone Galaxy S4 demande %s"}},
	"mac_pros_idle": {{"idle Mac Pros", "an idle Mac Pro (late 2013) draws %s"},
		{"Mac Pro au repos", "un Mac Pro (fin 2013) au repos consomme %s"}},
	"ps5s_standby": {{"PS5s in standby", "a PS5 in standby draws %s"},
		{"PS5 en veille", "une PS5 en veille consomme %s"}},
	"ps5s_menu": {{"PS5s on the menu", "a PS5 on its home menu draws %s"},
		{"PS5 sur le menu", "une PS5 sur son menu d’accueil consomme %s"}},
	"ebike_km": {{"km by e-bike", "an e-bike uses %s per 100 km"},
		{"km en vélo électrique", "un vélo électrique consomme %s aux 100 km"}},
	"tvs_19in": {{"19-inch TVs", "a 19-inch TV draws %s"},
		{"téléviseurs 19 pouces", "un téléviseur 19 pouces consomme %s"}},
}

// Metaphors is powerinput's default table (metaphor.Defaults), in its
// order, with the dashboards' words.
func Metaphors() []Metaphor {
	var out []Metaphor
	for _, m := range metaphor.Defaults() {
		w, ok := words[m.Field]
		if !ok {
			panic("dashboards: no words for the default metaphor " + m.Field)
		}
		out = append(out, Metaphor{Metaphor: m, EN: w[0], FR: w[1]})
	}
	return out
}

// Figure is what one of them uses: watts for a power metaphor, watt-hours
// for an energy one (the e-bike's per 100 km).
func (m Metaphor) Figure() float64 {
	v, _ := m.Unit()
	return v
}

// Words returns the metaphor's words in lang ("en" or "fr").
func (m Metaphor) Words(lang string) MetaphorWords {
	if lang == "fr" {
		return m.FR
	}
	return m.EN
}

// Site is the source's site, as notes cite it ("silamp.fr").
func (m Metaphor) Site() string {
	site, _, _ := strings.Cut(m.Source, ":")
	return site
}

// worth is what one of them uses, in lang's words and number format.
func (m Metaphor) worth(lang string) string {
	v, unit := m.Unit()
	if m.Field == "ebike_km" {
		v *= 100 // said per 100 km
	}
	num := strconv.FormatFloat(v, 'f', -1, 64)
	if lang == "fr" {
		num = strings.ReplaceAll(num, ".", ",")
	}
	return strings.Replace(m.Words(lang).Worth, "%s", num+" "+unit, 1)
}

// metaphorOf returns the entry of field; a missing one is a programming
// error.
func metaphorOf(field string) Metaphor {
	for _, m := range Metaphors() {
		if m.Field == field {
			return m
		}
	}
	panic("no metaphor " + field)
}

// cites is how a note cites the metaphor: its worth and its source.
func (m Metaphor) cites(lang string) string {
	return m.worth(lang) + " (" + m.Site() + ")"
}
