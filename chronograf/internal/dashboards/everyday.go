package dashboards

import "strings"

// everydayWords is the text of the everyday dashboards in one language.
// The English and French dashboards are built from the same cells and
// queries; only these words differ.
type everydayWords struct {
	lang                  string // "en" or "fr", for the metaphors' words
	id                    int
	prefix, name, hostVar string
	now, overRange        string // after the host name in titles
	socket, parts         string // what a power figure counts
	servers               string // all the measured servers, in titles
	kWh, co2, w           string // units after the number
	co2Note               string
	lastSeen              string
	colServer, colLast    string
	colW                  string
	perHost, perHostAxis  string
	aboutName, about      string
}

func everyday(w everydayWords) Dashboard {
	ph := "power_host"
	host := []string{during, onHost}
	hostNow := []string{recent, onHost}
	servers := []string{during, measuredOnly}
	lastOf := func(f string) string { return simple(ph, []sel{{"last", f, f}}, hostNow, false) }
	sumOf := func(f string, conds []string) string {
		return `SELECT ` + twoDigits(`sum("`+f+`")`) + ` AS "` + f + `" ` + fromRP(Detail, ph) + " " + where(conds...)
	}
	kWh := func(conds []string) string {
		return `SELECT ` + twoDigits(`sum("e") / 3600000`) + ` AS "kWh" ` + basisEnergyIn(Detail, conds)
	}
	// m is a single number of a metaphor, with its worth and source in
	// the header.
	m := func(id, title, unit, field, query string) spec {
		mt := metaphorOf(field)
		return stat(id, title, 3, unit, mt.Words(w.lang).Unit, query).withNote(sentence(mt.cites(w.lang)))
	}
	hostNowT := ":host: " + w.now
	hostRangeT := ":host: " + w.overRange
	allRangeT := w.servers + ", " + w.overRange
	cite := func(f string) string { return "- " + metaphorOf(f).cites(w.lang) + "\n" }
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{hostTemplate(w.prefix+"-host", w.hostVar, ph, measuredOnly), detailTemplate(w.prefix+"-detail", w.lang)},
		Cells: layout(w.prefix,
			row(
				stat("socket-now", ":host: "+w.socket, 3, "W", w.w, simple(ph, []sel{{"last", "wall_watts", "W"}}, hostNow, false)).whenEmpty(silence(w.lang)),
				stat("parts-now", ":host: "+w.parts, 3, "W", w.w, simple(ph, []sel{{"last", "power_watts", "W"}}, hostNow, false)).whenEmpty(silence(w.lang)),
				m("led", hostNowT, "count", "led_bulbs", lastOf("led_bulbs")).whenEmpty(silence(w.lang)),
				m("tvs", hostNowT, "count", "tvs_19in", lastOf("tvs_19in")).whenEmpty(silence(w.lang)),
			),
			row(
				stat("kwh", hostRangeT, 3, Sig, w.kWh, kWh(host)),
				m("phones", hostRangeT, Sig, "smartphone_charges", sumOf("smartphone_charges", host)),
				m("ebike", hostRangeT, Sig, "ebike_km", sumOf("ebike_km", host)),
				stat("co2", hostRangeT, 3, Sig, w.co2, sumOf("co2_grams", host)).withNote(w.co2Note),
			),
			row(
				stat("all-kwh", allRangeT, 3, Sig, w.kWh, kWh(servers)),
				m("all-phones", allRangeT, Sig, "smartphone_charges", sumOf("smartphone_charges", servers)),
				m("all-ebike", allRangeT, Sig, "ebike_km", sumOf("ebike_km", servers)),
				stat("all-co2", allRangeT, 3, Sig, w.co2, sumOf("co2_grams", servers)).withNote(w.co2Note),
			),
			row(
				lastSeenTable("last-seen", w.lastSeen, 4, measuredOnly, w.colServer, w.colLast, w.colW),
				graph("led-hosts", w.perHost, 8, "count", w.perHostAxis,
					simpleIn(Detail, ph, []sel{{"mean", "led_bulbs", metaphorOf("led_bulbs").Words(w.lang).Unit}}, servers, true, "host")),
			),
			row(note("about", w.aboutName, strings.TrimSpace(w.about)+"\n\n"+
				cite("led_bulbs")+cite("tvs_19in")+cite("smartphone_charges")+cite("ebike_km")+"- "+w.co2Note+"\n\n"+detailAbout(w.lang))),
		),
	}
}

// lastSeenTable lists each host matching cond with the time of its last
// point in the range and its power then: a host that went silent shows
// when it was last heard from.
func lastSeenTable(id, title string, w int, cond, colHost, colTime, colW string) spec {
	s := table(id, title, w, "W",
		simple("power_host", []sel{{"last", "power_watts", "W"}}, []string{during, cond}, false, "host"),
		col("host", colHost), col("power_host.W", colW))
	s.showTime = colTime
	return s
}

// lastSeenBySource is lastSeenTable for hosts of more than one source,
// with a column of each host's source: where an estimate (model) sits
// beside a measurement, its watts must not pass for measured ones.
func lastSeenBySource(id, title string, w int, cond, colHost, colSource, colTime, colW string) spec {
	s := table(id, title, w, "W",
		simple("power_host", []sel{{"last", "power_watts", "W"}}, []string{during, cond}, false, "host", "source"),
		col("host", colHost), col("source", colSource), col("power_host.W", colW))
	s.showTime = colTime
	return s
}

// sentence capitalises the first letter and ends with a full stop.
func sentence(s string) string {
	r := []rune(s)
	return strings.ToUpper(string(r[:1])) + string(r[1:]) + "."
}

// EverydayEN is what a server, and the measured servers together, use in
// things people know: LED bulbs, phone charges, e-bike kilometres.
func EverydayEN() Dashboard {
	return everyday(everydayWords{
		lang: "en", id: 900102, prefix: "pi-everyday-en", name: "Green Campus (EN) - in everyday terms", hostVar: "Server",
		now: "right now", overRange: "over the time range", servers: "All servers",
		socket: "at the socket, right now", parts: "its parts, right now",
		kWh: "kWh", co2: "g of CO₂", w: "W",
		co2Note:  "CO₂ is the energy times the grid's average carbon intensity set in powerinput: an average, not a measurement.",
		lastSeen: "Each server: when last heard from", colServer: "Server", colLast: "Last heard from", colW: "W then",
		perHost: "LED bulbs lit by each server", perHostAxis: "LED bulbs",
		aboutName: "What the comparisons mean",
		about: `Choose the server in the **:host:** menu under **Variables** and the time range at the top right.

**Right now** is the last 3 minutes: a server that has sent nothing for longer shows no value (see when it was last heard from in the table). **Over the time range** adds up the energy used during the range chosen at the top right.

Where a server has a power meter at the socket, its kWh, CO₂ and comparisons count the **whole machine at the socket** (fans, disks and power supply included); elsewhere they count its **parts**: processors, memory and GPUs, which their own counters measure. **All servers** adds up the servers that measure their own energy; virtual machines are not added again (their energy is part of their server's) and estimates are left out: see the virtual machines dashboard.

A server draws as much power as that many things switched on; over the range, its energy would charge that many phones, or take an e-bike that far:`,
	})
}

// EverydayFR is EverydayEN's French twin: the same cells and queries.
func EverydayFR() Dashboard {
	return everyday(everydayWords{
		lang: "fr", id: 900103, prefix: "pi-everyday-fr", name: "Green Campus (FR) - au quotidien", hostVar: "Serveur",
		now: "en ce moment", overRange: "sur la période", servers: "Tous serveurs",
		socket: "à la prise, en ce moment", parts: "composants, en ce moment",
		kWh: "kWh", co2: "g de CO₂", w: "W",
		co2Note:  "Le CO₂ est l’énergie multipliée par l’intensité carbone moyenne du réseau réglée dans powerinput : une moyenne, pas une mesure.",
		lastSeen: "Chaque serveur : dernières nouvelles", colServer: "Serveur", colLast: "Dernières nouvelles", colW: "W alors",
		perHost: "Ampoules LED allumées par chaque serveur", perHostAxis: "ampoules LED",
		aboutName: "Ce que veulent dire les comparaisons",
		about: `Choisissez le serveur dans le menu **:host:** sous **Variables** et la période en haut à droite.

**En ce moment**, ce sont les 3 dernières minutes : un serveur qui n’a rien envoyé depuis plus longtemps n’affiche rien (le tableau dit quand il a donné des nouvelles pour la dernière fois). **Sur la période** additionne l’énergie consommée pendant la période choisie en haut à droite.

Là où un serveur a un compteur à la prise, ses kWh, son CO₂ et ses comparaisons comptent **toute la machine à la prise** (ventilateurs, disques et alimentation compris) ; ailleurs, ils comptent ses **composants** : processeurs, mémoire et cartes graphiques, que leurs propres compteurs mesurent. **Tous les serveurs** additionne les serveurs qui mesurent leur propre énergie ; les machines virtuelles ne sont pas ajoutées une seconde fois (leur énergie fait partie de celle de leur serveur) et les estimations sont laissées de côté : voir le tableau de bord des machines virtuelles.

Un serveur consomme autant que ce nombre d’objets allumés ; sur la période, son énergie rechargerait autant de téléphones, ou ferait rouler un vélo électrique aussi loin. Les grands chiffres suivent la langue du navigateur (virgule décimale en français) ; Chronograf écrit ceux des tableaux et des graphiques avec un point :`,
	})
}
