package dashboards

import (
	"fmt"
	"strings"
)

// campusWords is the text of the Green Campus screen in one language.
type campusWords struct {
	lang                     string
	id                       int
	prefix, name             string
	day, month, year, week   string // "past 24 hours", …: after a cell's subject
	energy, co2, powerNow    string // cell subjects
	kWh, kg, w, pct          string // after the numbers
	trend, trendEmpty        string
	servers, vms, services   string // ranking titles
	colServer, colVM, colSvc string
	colHost, colKWh          string
	byServer, byServerAxis   string
	aboutName, about         string
	hourly                   string // note of the cells that read the hourly rollup
}

// Rolling windows of the campus screen. InfluxQL 1.x cannot cut at a
// calendar day, month or year in the reader's time zone for every query
// the screen needs, so each figure says which rolling window it covers.
const (
	pastDay   = "time > now() - 24h"
	pastMonth = "time > now() - 30d"
	pastYear  = "time > now() - 365d"
)

// Campus queries, also run by the e2e test that checks them against sums
// of its own. rp is where the points are read: the raw ones, or for the
// 30 days and 12 months the hourly rollup, whose energies and CO₂ are
// the sums of the raw ones over each whole hour.
func campusEnergyKWh(rp, window string) string {
	return `SELECT ` + twoDigits(`sum("e") / 3600000`) + ` AS "kWh" ` + basisEnergyIn(rp, []string{window, measuredOnly})
}

func campusCO2Kg(rp, window string) string {
	return `SELECT ` + twoDigits(`sum("co2_grams") / 1000`) + ` AS "kg" ` + fromRP(rp, "power_host") + " " + where(window, measuredOnly)
}

// campusTrend is the energy of the past 7 days against the 7 days before,
// in percent (+10: a tenth more). Only where the servers were measured in
// the 7 days before for at least trendCoverage of the seconds they were in
// the past 7 days: in a campus's first two weeks, or the week after
// servers were added, the week before holds less and the change would be
// theirs (it showed +600 % on the eighth day), so the cell stays empty.
func campusTrend() string {
	this := []string{"time > now() - 7d", measuredOnly}
	before := []string{"time > now() - 14d", "time <= now() - 7d", measuredOnly}
	seconds := func(as string, conds []string) string {
		return `(SELECT sum("interval_seconds") AS "` + as + `" ` + from("power_host") + " " + where(conds...) + ")"
	}
	return `SELECT "pct" AS "%" FROM (SELECT round((sum("now") / sum("before") - 1) * 100) AS "pct", sum("sn") AS "sn", sum("sb") AS "sb" FROM ` +
		basis("sum", "wall_joules", "energy_joules", "now", this, false) + ", " +
		basis("sum", "wall_joules", "energy_joules", "before", before, false) + ", " +
		seconds("sn", this) + ", " + seconds("sb", before) + `) WHERE "sb" >= ` + trendCoverage + ` * "sn"`
}

// trendCoverage is the least share of the past 7 days' measured seconds
// the 7 days before must hold for campusTrend to compare them.
const trendCoverage = "0.9"

// campusSum is the sum over the measured servers of a metaphor field (or
// co2_grams) over a window, two significant digits.
func campusSum(field, window string) string {
	return `SELECT ` + twoDigits(`sum("`+field+`")`) + ` AS "n" ` + from("power_host") + " " + where(window, measuredOnly)
}

// campusNow is the sum over the measured servers of a field's last value
// in the last few minutes: a server silent for longer counts for nothing.
func campusNow(field string) string {
	return `SELECT sum("n") AS "n" FROM (` + simple("power_host", []sel{{"last", field, "n"}}, []string{recent, measuredOnly}, false, "host") + ")"
}

// workloads are the parts of power_service that are someone's service:
// not the VMs (ranked on their own), nor the parts that are no one's.
const workloads = `"kind" != 'vm' AND "kind" != 'other' AND "kind" != 'unattributed' AND "kind" != 'unused_capacity'`

// ranked is the top 10 of what over the past 24 hours by energy (kWh, two
// significant digits), biggest first, without rows of nothing.
func ranked(from, tags string) string {
	tagList := strings.Split(tags, ",")
	quoted := make([]string, len(tagList))
	for i, t := range tagList {
		quoted[i] = `"` + t + `"`
	}
	return fmt.Sprintf(`SELECT top("kWh", %s, 10) AS "kWh" FROM (%s) WHERE "kWh" > 0`, strings.Join(quoted, ", "), from)
}

func campus(w campusWords) Dashboard {
	energy := func(id, when, window string) spec {
		return stat(id, w.energy+", "+when, 3, Sig, w.kWh, campusEnergyKWh(RetentionPolicy, window))
	}
	co2 := func(id, when, window string) spec {
		return stat(id, w.co2+", "+when, 3, Sig, w.kg, campusCO2Kg(RetentionPolicy, window))
	}
	// The long windows read the hourly rollup: a year of raw points of a
	// campus takes seconds to add up (docs/scale.md).
	energyLong := func(id, when, window string) spec {
		return stat(id, w.energy+", "+when, 3, Sig, w.kWh, campusEnergyKWh(HourlyRollup, window)).withNote(w.hourly)
	}
	co2Long := func(id, when, window string) spec {
		return stat(id, w.co2+", "+when, 3, Sig, w.kg, campusCO2Kg(HourlyRollup, window)).withNote(w.hourly)
	}
	m := func(id, title, field, query string) spec {
		mt := metaphorOf(field)
		return stat(id, title, 3, Sig, mt.Words(w.lang).Unit, query).withNote(sentence(mt.cites(w.lang)))
	}
	day := []string{pastDay, measuredOnly}
	servers := ranked(`SELECT `+twoDigits(`sum("e") / 3600000`)+` AS "kWh" `+basisEnergy(day, "host")+` GROUP BY "host"`, "host")
	vms := ranked(`SELECT `+twoDigits(`sum("energy_joules") / 3600000`)+` AS "kWh" `+from("power_vm")+" "+where(pastDay, notPart)+` GROUP BY "domain", "host"`, "domain,host")
	svcs := ranked(`SELECT `+twoDigits(`sum("energy_joules") / 3600000`)+` AS "kWh" `+from("power_service")+" "+where(pastDay, workloads)+` GROUP BY "unit", "host"`, "unit,host")
	cite := func(f string) string { return "- " + metaphorOf(f).cites(w.lang) + "\n" }
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default", Templates: []Template{},
		// Everything but the note fits a 1080p screen in present mode
		// (TestCampusFitsAWall): a wall cannot scroll.
		Cells: layout(w.prefix,
			row(
				energy("kwh-day", w.day, pastDay),
				co2("co2-day", w.day, pastDay),
				stat("w-now", w.powerNow, 3, "W", w.w, `SELECT sum("w") AS "W" `+basisPowerNow([]string{recent, measuredOnly})).whenEmpty(silence(w.lang)),
				stat("trend", w.trend, 3, "%", w.pct, campusTrend()).whenEmpty(w.trendEmpty),
			),
			row(
				energyLong("kwh-month", w.month, pastMonth),
				co2Long("co2-month", w.month, pastMonth),
				energyLong("kwh-year", w.year, pastYear),
				co2Long("co2-year", w.year, pastYear),
			),
			row(
				m("phones", w.energy+", "+w.day, "smartphone_charges", campusSum("smartphone_charges", pastDay)),
				m("ebike", w.energy+", "+w.day, "ebike_km", campusSum("ebike_km", pastDay)),
				m("led", w.powerNow, "led_bulbs", campusNow("led_bulbs")).withUnit("count").whenEmpty(silence(w.lang)),
				energy("kwh-week", w.week, "time > now() - 7d"),
			),
			row(
				table("servers", w.servers, 4, Sig, servers, col("power_host.host", w.colServer), col("power_host.kWh", w.colKWh)).tall(3),
				// The names last: a long one (a container's id) runs off
				// the table's edge, not the figures.
				table("vms", w.vms, 4, Sig, vms, col("power_vm.kWh", w.colKWh), col("power_vm.host", w.colHost), col("power_vm.domain", w.colVM)).tall(3),
				table("services", w.services, 4, Sig, svcs, col("power_service.kWh", w.colKWh), col("power_service.host", w.colHost), col("power_service.unit", w.colSvc)).tall(3),
			),
			row(
				stacked("by-server", w.byServer, 12, "W", w.byServerAxis,
					`SELECT sum("w") AS "W" FROM `+basis("mean", "wall_watts", "power_watts", "w", []string{during, measuredOnly}, true, "host")+
						" "+where(during)+groupBy(true, "host")).tall(3),
			),
			row(note("about", w.aboutName, strings.TrimSpace(w.about)+"\n\n"+
				cite("smartphone_charges")+cite("ebike_km")+cite("led_bulbs"))),
		),
	}
}

// CampusEN is the Green Campus screen, for a screen in a hall: the
// campus's energy and CO₂ in large figures, rankings and everyday
// comparisons, read from across a room.
func CampusEN() Dashboard {
	return campus(campusWords{
		lang: "en", id: 900125, prefix: "pi-campus-en", name: "Green Campus (EN) - campus screen",
		day: "past 24 hours", month: "past 30 days", year: "past 12 months", week: "past 7 days",
		energy: "Campus energy", co2: "Campus CO₂", powerNow: "Campus power right now",
		kWh: "kWh", kg: "kg CO₂", w: "W", pct: "%",
		trend:      "Energy change, 7 days vs 7 before",
		trendEmpty: "Not enough measurements in the 7 days before to compare: the servers measured then for less than 90 % of the time they measured in the past 7 days (the first two weeks, or servers added).",
		servers:    "Servers using the most, past 24 hours", vms: "Virtual machines using the most, past 24 hours",
		services:  "Services using the most, past 24 hours",
		colServer: "Server", colVM: "Virtual machine", colSvc: "Service", colHost: "Server", colKWh: "kWh",
		byServer: "Campus power by server (stacked: the top is the campus)", byServerAxis: "W",
		hourly:    "Read from the hourly summary of the measurements (rollup_1h), which adds up a year in a fraction of a second. It counts whole hours only: the hour under way joins the figure when it ends, and the window starts at the first whole hour inside it.",
		aboutName: "What this screen counts",
		about: `The campus is every server that measures its own energy. A server with a power meter at the socket counts the whole machine there (fans and power supply included); the others count their processors, memory and graphics cards. Virtual machines are not added again: their energy is part of their server's. Estimates are left out.

The rankings of virtual machines and services are their share of their server's processors, memory and graphics cards, divided by the processor time each used. CO₂ is the energy times the grid's average carbon intensity set in powerinput: an average, not a measurement.

Each figure covers the window it names (past 24 hours, 7 days, 30 days, 12 months), up to now, rounded to two significant digits; the 30 days and 12 months count whole hours, up to the last one that ended. "Right now" is the last 3 minutes: a server silent for longer counts for nothing.`,
	})
}

// CampusFR is CampusEN's French twin.
func CampusFR() Dashboard {
	return campus(campusWords{
		lang: "fr", id: 900126, prefix: "pi-campus-fr", name: "Green Campus (FR) - écran du campus",
		day: "dernières 24 heures", month: "30 derniers jours", year: "12 derniers mois", week: "7 derniers jours",
		energy: "Énergie", co2: "CO₂", powerNow: "Puissance du campus en ce moment",
		kWh: "kWh", kg: "kg de CO₂", w: "W", pct: "%",
		trend:      "Évolution de l’énergie sur 7 jours",
		trendEmpty: "Pas assez de mesures les 7 jours d’avant pour comparer : les serveurs y ont mesuré moins de 90 % du temps mesuré ces 7 derniers jours (les deux premières semaines, ou des serveurs ajoutés).",
		servers:    "Serveurs qui consomment le plus", vms: "Machines virtuelles qui consomment le plus",
		services:  "Services qui consomment le plus",
		colServer: "Serveur", colVM: "Machine virtuelle", colSvc: "Service", colHost: "Serveur", colKWh: "kWh sur 24 heures",
		byServer: "Puissance du campus par serveur (empilée : le haut est le campus)", byServerAxis: "W",
		hourly:    "Lu dans le résumé horaire des mesures (rollup_1h), qui additionne une année en une fraction de seconde. Il ne compte que des heures entières : l’heure en cours s’ajoute au chiffre quand elle se termine, et la période commence à la première heure entière qu’elle contient.",
		aboutName: "Ce que compte cet écran",
		about: `Le campus, ce sont tous les serveurs qui mesurent leur propre énergie. Un serveur équipé d’un compteur à la prise compte toute la machine à la prise (ventilateurs et alimentation compris) ; les autres comptent leurs processeurs, leur mémoire et leurs cartes graphiques. Les machines virtuelles ne sont pas ajoutées une seconde fois : leur énergie fait partie de celle de leur serveur. Les estimations sont laissées de côté.

Les classements des machines virtuelles et des services donnent leur part des processeurs, de la mémoire et des cartes graphiques de leur serveur, partagée selon le temps de processeur de chacun. Le CO₂ est l’énergie multipliée par l’intensité carbone moyenne du réseau réglée dans powerinput : une moyenne, pas une mesure.

Chaque chiffre porte sur la période qu’il nomme (24 heures, 7 jours, 30 jours, 12 mois), jusqu’à maintenant, arrondi à deux chiffres significatifs ; les 30 jours et les 12 mois comptent des heures entières, jusqu’à la dernière terminée. « En ce moment », ce sont les 3 dernières minutes : un serveur muet depuis plus longtemps ne compte pas. Les grands chiffres suivent la langue du navigateur (virgule décimale en français) ; Chronograf écrit ceux des tableaux avec un point.`,
	})
}
