package dashboards

import "strings"

// everydayWords is the text of the everyday dashboards in one language.
// The English and French dashboards are built from the same cells and
// queries; only these words differ.
type everydayWords struct {
	lang                   string // "en" or "fr", for the metaphors' words
	id                     int
	prefix, name           string
	now, overRange         string // after the host name in titles
	measured               string // all the servers measured by RAPL, in titles
	kWh, co2               string // units after the number
	kWhNote, co2Note       string
	perHost, perHostAxis   string
	aboutName              string
	howTo, nowIntro        string
	rangeIntro, standby    string
	measuredNote, estimate string
}

// measuredOnly keeps the machines measured by their own RAPL counters,
// through powercap or read directly. Virtual machines are left out of sums
// over hosts: their energy is already part of their hypervisor's.
const measuredOnly = `("source" = 'rapl' OR "source" = 'msr')`

func everyday(w everydayWords) Dashboard {
	ph := "power_host"
	host := []string{during, onHost}
	measured := []string{during, measuredOnly}
	lastOf := func(f string) string { return simple(ph, []sel{{"last", f, f}}, host, false) }
	sumOf := func(f string) string { return simple(ph, []sel{{"sum", f, f}}, host, false) }
	allNow := func(f string) string {
		return `SELECT sum("n") AS "` + f + `" FROM (` + simple(ph, []sel{{"last", f, "n"}}, measured, false, "host") + ")"
	}
	allSum := func(f string) string { return simple(ph, []sel{{"sum", f, f}}, measured, false) }
	kWh := func(conds []string) string {
		return `SELECT sum("energy_joules") / 3600000 AS "kWh" ` + from(ph) + " " + where(conds...)
	}
	// m is a single-stat of a metaphor, with its worth and source in the header.
	// The note of an all-servers cell also says which servers count.
	m := func(id, title, field, query string, more ...string) spec {
		mt := metaphor(field)
		text := strings.Join(append([]string{sentence(mt.cites(w.lang))}, more...), " ")
		return stat(id, title, 3, "count", mt.Words(w.lang).Unit, query).withNote(text)
	}
	hostNow := ":host: " + w.now
	hostRange := ":host: " + w.overRange
	allNowT := w.measured + ", " + w.now
	allRangeT := w.measured + ", " + w.overRange
	cite := func(f string) string { return "- " + metaphor(f).cites(w.lang) + "\n" }
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{hostTemplate(w.prefix+"-host", "Host", ph, "")},
		Cells: layout(w.prefix,
			row(
				m("led", hostNow, "led_bulbs", lastOf("led_bulbs")),
				m("macs", hostNow, "mac_pros_idle", lastOf("mac_pros_idle")),
				m("tvs", hostNow, "tvs_19in", lastOf("tvs_19in")),
				m("ps5", hostNow, "ps5s_menu", lastOf("ps5s_menu")),
			),
			row(
				m("phones", hostRange, "smartphone_charges", sumOf("smartphone_charges")),
				m("ebike", hostRange, "ebike_km", sumOf("ebike_km")),
				stat("kwh", hostRange, 3, "kWh", w.kWh, kWh(host)).withNote(w.kWhNote),
				stat("co2", hostRange, 3, "g", w.co2, sumOf("co2_grams")).withNote(w.co2Note),
			),
			row(
				m("all-led", allNowT, "led_bulbs", allNow("led_bulbs"), w.measuredNote),
				m("all-phones", allRangeT, "smartphone_charges", allSum("smartphone_charges"), w.measuredNote),
				m("all-ebike", allRangeT, "ebike_km", allSum("ebike_km"), w.measuredNote),
				stat("all-kwh", allRangeT, 3, "kWh", w.kWh, kWh(measured)).withNote(w.measuredNote),
			),
			row(
				graph("led-hosts", w.perHost, 12, "count", w.perHostAxis,
					simple(ph, []sel{{"mean", "led_bulbs", metaphor("led_bulbs").Words(w.lang).Unit}}, []string{during}, true, "host")),
			),
			row(note("about", w.aboutName,
				w.howTo+"\n\n"+
					w.nowIntro+"\n"+
					cite("led_bulbs")+cite("mac_pros_idle")+cite("tvs_19in")+
					"- "+metaphor("ps5s_menu").Words(w.lang).Worth+w.standby+" ("+metaphor("ps5s_menu").Source+")\n\n"+
					w.rangeIntro+"\n"+
					cite("smartphone_charges")+cite("ebike_km")+
					"- "+w.co2Note+"\n\n"+
					w.measuredNote+" "+w.estimate)),
		),
	}
}

// sentence capitalises the first letter and ends with a full stop.
func sentence(s string) string {
	r := []rune(s)
	return strings.ToUpper(string(r[:1])) + string(r[1:]) + "."
}

// EverydayEN is what each host, and the measured servers together, use in
// things people know: LED bulbs, phone charges, e-bike kilometres.
func EverydayEN() Dashboard {
	return everyday(everydayWords{
		lang: "en", id: 900102, prefix: "pi-everyday-en", name: "Green Campus - in everyday terms",
		now: "right now", overRange: "over the range", measured: "Servers",
		kWh: "kWh", co2: "g of CO2",
		kWhNote: "The energy used over the time range chosen at the top right, in kilowatt-hours, as on an electricity bill.",
		co2Note: "CO2 is the energy times the grid's carbon intensity set in powerinput: an average, not a measurement.",
		perHost: "LED bulbs lit by each host", perHostAxis: "LED bulbs",
		aboutName: "What the comparisons mean",
		howTo:     "Choose the host under **Variables** and the time range at the top right.",
		nowIntro:  "**Right now** is the last interval measured: the host draws as much power as that many things switched on.",
		standby:   " (1.3 W in standby)",
		rangeIntro: "**Over the range** adds up the energy used during the chosen time range: " +
			"that much energy would charge that many phones, or take an e-bike that far.",
		measuredNote: "**Servers** adds up the machines whose processors measure their own power (RAPL). " +
			"Virtual machines are not added: their energy is already part of their hypervisor's. " +
			"Where a server has a power meter at the wall, the comparisons and CO2 count the wall socket (the whole machine, fans and power supply included); " +
			"kWh count what its processors, memory and GPUs measure.",
		estimate: "A host without such a meter shows an estimate: see the virtual machines dashboard.",
	})
}

// EverydayFR is EverydayEN's French twin: the same cells and queries.
func EverydayFR() Dashboard {
	return everyday(everydayWords{
		lang: "fr", id: 900103, prefix: "pi-everyday-fr", name: "Green Campus - en termes de tous les jours",
		now: "en ce moment", overRange: "sur la période", measured: "Serveurs",
		kWh: "kWh", co2: "g de CO2",
		kWhNote: "L'énergie consommée sur la période choisie en haut à droite, en kilowattheures, comme sur une facture d'électricité.",
		co2Note: "Le CO2 est l'énergie multipliée par l'intensité carbone du réseau réglée dans powerinput : une moyenne, pas une mesure.",
		perHost: "Ampoules LED allumées par chaque serveur", perHostAxis: "ampoules LED",
		aboutName: "Ce que veulent dire les comparaisons",
		howTo:     "Choisissez le serveur sous **Variables** et la période en haut à droite.",
		nowIntro:  "**En ce moment**, c'est le dernier intervalle mesuré : le serveur consomme autant que ce nombre d'objets allumés.",
		standby:   " (1,3 W en veille)",
		rangeIntro: "**Sur la période** additionne l'énergie consommée pendant la période choisie : " +
			"de quoi recharger autant de téléphones, ou faire autant de kilomètres en vélo électrique.",
		measuredNote: "**Serveurs** additionne les machines dont le processeur mesure sa propre consommation (RAPL). " +
			"Les machines virtuelles ne sont pas ajoutées : leur énergie fait déjà partie de celle de leur hyperviseur. " +
			"Là où un serveur a un compteur à la prise, les comparaisons et le CO2 comptent la prise murale (toute la machine, ventilateurs et alimentation compris) ; " +
			"les kWh comptent ce que mesurent ses processeurs, sa mémoire et ses cartes graphiques.",
		estimate: "Un serveur sans ce compteur affiche une estimation : voir le tableau de bord des machines virtuelles.",
	})
}
