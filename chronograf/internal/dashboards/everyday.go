package dashboards

import "strings"

// words of the everyday dashboards, in one language.
type everyday struct {
	id                                           int
	prefix, name, rightNow, overRange, all       string
	led, macs, tvs, ps5, phones, ebike, kwh, co2 string
	perHost, aboutName, about                    string
}

func everydayDashboard(w everyday) Dashboard {
	host := `WHERE time > :dashboardTime: AND "host" = :host:`
	ph := from("power_host") + ` `
	stat := func(id, name, q string, digits int) spec {
		return spec{id: id, name: name, kind: "single-stat", w: 3, digits: digits, queries: []string{q}}
	}
	// "Right now": the last interval. Over the range: energy metaphors sum.
	lastOf := func(f string) string { return `SELECT last("` + f + `") AS "` + f + `" ` + ph + host }
	sumOf := func(f string) string { return `SELECT sum("` + f + `") AS "` + f + `" ` + ph + host }
	allNow := func(f string) string {
		return `SELECT sum("n") AS "` + f + `" FROM (SELECT last("` + f + `") AS "n" ` + ph + `WHERE time > :dashboardTime: GROUP BY "host")`
	}
	allSum := func(f string) string {
		return `SELECT sum("` + f + `") AS "` + f + `" ` + ph + `WHERE time > :dashboardTime:`
	}
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{hostTemplate(w.prefix+"-host", "power_host")},
		Cells: layout(w.prefix,
			[]spec{
				stat("led", w.rightNow+": "+w.led, lastOf("led_bulbs"), 1),
				stat("macs", w.rightNow+": "+w.macs, lastOf("mac_pros_idle"), 1),
				stat("tvs", w.rightNow+": "+w.tvs, lastOf("tvs_19in"), 1),
				stat("ps5", w.rightNow+": "+w.ps5, lastOf("ps5s_menu"), 1),
			},
			[]spec{
				stat("phones", w.overRange+": "+w.phones, sumOf("smartphone_charges"), 1),
				stat("ebike", w.overRange+": "+w.ebike, sumOf("ebike_km"), 1),
				stat("kwh", w.overRange+": "+w.kwh, `SELECT sum("energy_joules") / 3600000 AS "kWh" `+ph+host, 3),
				stat("co2", w.overRange+": "+w.co2, sumOf("co2_grams"), 0),
			},
			[]spec{
				stat("all-led", w.all+", "+strings.ToLower(w.rightNow)+": "+w.led, allNow("led_bulbs"), 1),
				stat("all-phones", w.all+", "+strings.ToLower(w.overRange)+": "+w.phones, allSum("smartphone_charges"), 1),
				stat("all-ebike", w.all+", "+strings.ToLower(w.overRange)+": "+w.ebike, allSum("ebike_km"), 1),
				stat("all-kwh", w.all+", "+strings.ToLower(w.overRange)+": "+w.kwh, `SELECT sum("energy_joules") / 3600000 AS "kWh" `+ph+`WHERE time > :dashboardTime:`, 3),
			},
			[]spec{
				{id: "led-hosts", name: w.perHost, kind: "line", w: 12, unit: w.led, digits: 1, queries: []string{
					`SELECT mean("led_bulbs") AS "led_bulbs" ` + ph + `WHERE time > :dashboardTime: GROUP BY time(:interval:), "host" FILL(null)`}},
			},
			[]spec{{id: "about", name: w.aboutName, kind: "note", w: 12, note: w.about}},
		),
	}
}

// EverydayEN: what each host uses, in everyday terms.
func EverydayEN() Dashboard {
	return everydayDashboard(everyday{
		id: 900102, prefix: "pi-everyday-en", name: "Green Campus - in everyday terms",
		rightNow: "Right now", overRange: "Over the range", all: "All hosts",
		led: "LED bulbs", macs: "idle Mac Pros", tvs: "19-inch TVs", ps5: "PS5s on the menu",
		phones: "smartphone charges", ebike: "e-bike km", kwh: "kWh", co2: "g of CO2",
		perHost: "LED bulbs lit by each host", aboutName: "What the comparisons mean",
		about: "**Right now** (last interval) counts things drawing the same power: LED bulb 9 W (silamp.fr); " +
			"idle Mac Pro, late 2013, 43 W (support.apple.com HT201796); 19-inch TV 25 W (acheter-tv.fr); " +
			"PS5 on its home menu 47 W, 1.3 W in standby (monpetitforfait.com).\n\n" +
			"**Over the range** adds up the energy used in the time range chosen above: a full charge of a Galaxy S4 " +
			"battery is 10 Wh (desideespourchangerlemonde.wordpress.com); an e-bike uses 72 Wh per 100 km " +
			"(abicyclettepaulette.fr). CO2 uses the grid carbon intensity set in powerinput, an average, not a measurement.\n\n" +
			"Where a host has no power meter its numbers are an estimate (see the virtual machines dashboard).",
	})
}

// EverydayFR is EverydayEN's French twin.
func EverydayFR() Dashboard {
	return everydayDashboard(everyday{
		id: 900103, prefix: "pi-everyday-fr", name: "Green Campus - en termes de tous les jours",
		rightNow: "En ce moment", overRange: "Sur la période", all: "Tous les serveurs",
		led: "ampoules LED", macs: "Mac Pro au repos", tvs: "téléviseurs 19 pouces", ps5: "PS5 sur le menu",
		phones: "recharges de smartphone", ebike: "km en vélo électrique", kwh: "kWh", co2: "g de CO2",
		perHost: "Ampoules LED allumées par chaque serveur", aboutName: "Ce que veulent dire les comparaisons",
		about: "**En ce moment** (dernier intervalle) compte des objets qui consomment la même puissance : ampoule LED 9 W (silamp.fr) ; " +
			"Mac Pro fin 2013 au repos 43 W (support.apple.com HT201796) ; téléviseur 19 pouces 25 W (acheter-tv.fr) ; " +
			"PS5 sur son menu d'accueil 47 W, 1,3 W en veille (monpetitforfait.com).\n\n" +
			"**Sur la période** additionne l'énergie consommée pendant la période choisie en haut : une recharge complète " +
			"d'une batterie de Galaxy S4 vaut 10 Wh (desideespourchangerlemonde.wordpress.com) ; un vélo électrique consomme " +
			"72 Wh aux 100 km (abicyclettepaulette.fr). Le CO2 utilise l'intensité carbone du réseau réglée dans powerinput, " +
			"une moyenne et non une mesure.\n\n" +
			"Quand un serveur n'a pas de compteur, ses chiffres sont une estimation (voir le tableau des machines virtuelles).",
	})
}
