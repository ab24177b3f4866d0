package dashboards

// Metaphor is one of powerinput's default everyday equivalents as the
// dashboards show it. Field, Watts, WattHours and Source must match the
// plugin's table (internal/metaphor); a test checks that they do.
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

// Metaphors is powerinput's default table, in its order.
var Metaphors = []Metaphor{
	{Field: "led_bulbs", Watts: 9, Source: "silamp.fr",
		EN: MetaphorWords{"LED bulbs", "one LED bulb draws 9 W"},
		FR: MetaphorWords{"ampoules LED", "une ampoule LED consomme 9 W"}},
	{Field: "smartphone_charges", WattHours: 10, Source: "desideespourchangerlemonde.wordpress.com",
		EN: MetaphorWords{"phone charges", "a full charge of a Galaxy S4 smartphone battery takes 10 Wh"},
		FR: MetaphorWords{"recharges de téléphone", "une recharge complète de la batterie d'un smartphone Galaxy S4 demande 10 Wh"}},
	{Field: "mac_pros_idle", Watts: 43, Source: "support.apple.com HT201796",
		EN: MetaphorWords{"idle Mac Pros", "an idle Mac Pro (late 2013) draws 43 W"},
		FR: MetaphorWords{"Mac Pro au repos", "un Mac Pro (fin 2013) au repos consomme 43 W"}},
	{Field: "ps5s_standby", Watts: 1.3, Source: "monpetitforfait.com",
		EN: MetaphorWords{"PS5s in standby", "a PS5 in standby draws 1.3 W"},
		FR: MetaphorWords{"PS5 en veille", "une PS5 en veille consomme 1,3 W"}},
	{Field: "ps5s_menu", Watts: 47, Source: "monpetitforfait.com",
		EN: MetaphorWords{"PS5s on the menu", "a PS5 on its home menu draws 47 W"},
		FR: MetaphorWords{"PS5 sur le menu", "une PS5 sur son menu d'accueil consomme 47 W"}},
	{Field: "ebike_km", WattHours: 0.72, Source: "abicyclettepaulette.fr",
		EN: MetaphorWords{"km by e-bike", "an e-bike uses 72 Wh per 100 km"},
		FR: MetaphorWords{"km en vélo électrique", "un vélo électrique consomme 72 Wh aux 100 km"}},
	{Field: "tvs_19in", Watts: 25, Source: "acheter-tv.fr",
		EN: MetaphorWords{"19-inch TVs", "a 19-inch TV draws 25 W"},
		FR: MetaphorWords{"téléviseurs 19 pouces", "un téléviseur 19 pouces consomme 25 W"}},
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
