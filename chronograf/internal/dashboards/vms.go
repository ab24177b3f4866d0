package dashboards

import "strings"

// The two kinds of number on the virtual machines dashboard.
const (
	fromHypervisor = `"source" = 'vm'`    // the hypervisor's counter: measured, shared out
	estimated      = `"source" = 'model'` // a model from CPU use: an estimate
)

// vmsWords is the text of the virtual machines dashboards in one language.
type vmsWords struct {
	lang                      string
	notMeasured, notEstimated string // what an empty cell of a pair says
	// What an empty "right now" cell of a pair says: either of two
	// reasons, neither asserted (the other cell tells which).
	notMeasuredNow, notEstimatedNow string
	user, system, steal             string // CPU use, in the legend
	id                              int
	prefix, name, hostVar           string
	measuredAll, estimateAll        string
	measuredAxis, estimateAxis      string
	now, overRange                  string
	measured, estimate              string
	w, wh                           string
	lastSeen, colHost, colLast      string
	colW, colSource, cpuTitle       string
	aboutName, about                string
}

// vms is the view of the hosts not measured by their own counters: the
// virtual machines given a counter by their hypervisor, and the hosts
// whose power is an estimate, always shown apart and in amber.
func vms(w vmsWords) Dashboard {
	ph := "power_host"
	hostNow := []string{recent, onHost}
	energy := func(cond string) string {
		return `SELECT ` + twoDigits(`sum("energy_joules") / 3600`) + ` AS "Wh" ` + fromRP(Detail, ph) + " " + where(during, onHost, cond)
	}
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{hostTemplate(w.prefix+"-host", w.hostVar, ph, notMeasured), detailTemplate(w.prefix+"-detail", w.lang)},
		Cells: layout(w.prefix,
			row(
				graph("measured", w.measuredAll, 6, "W", w.measuredAxis,
					simpleIn(Detail, ph, []sel{{"mean", "power_watts", "W"}}, []string{during, fromHypervisor}, true, "host")),
				graph("estimates", w.estimateAll, 6, "W", w.estimateAxis,
					simpleIn(Detail, ph, []sel{{"mean", "power_watts", "W"}}, []string{during, estimated}, true, "host")).
					withColors(estimateHex, "#FF7E27", "#FFD255"),
			),
			row(
				stat("measured-now", ":host: "+w.now+", "+w.measured, 3, "W", w.w,
					simple(ph, []sel{{"last", "power_watts", "W"}}, append(hostNow, fromHypervisor), false)).whenEmpty(w.notMeasuredNow),
				stat("estimate-now", ":host: "+w.now+", "+w.estimate, 3, "W", w.w,
					simple(ph, []sel{{"last", "power_watts", "W"}}, append(hostNow, estimated), false)).withTone(estimateHex).whenEmpty(w.notEstimatedNow),
				stat("measured-wh", ":host: "+w.overRange+", "+w.measured, 3, Sig, w.wh, energy(fromHypervisor)).whenEmpty(w.notMeasured),
				stat("estimate-wh", ":host: "+w.overRange+", "+w.estimate, 3, Sig, w.wh, energy(estimated)).withTone(estimateHex).whenEmpty(w.notEstimated),
			),
			row(
				lastSeenBySource("last-seen", w.lastSeen, 5, notMeasured, w.colHost, w.colSource, w.colLast, w.colW),
				graph("cpu", ":host: "+w.cpuTitle, 7, "%", "%",
					simple("cpu", []sel{
						{"mean", "usage_user", w.user},
						{"mean", "usage_system", w.system},
						{"mean", "usage_steal", w.steal},
					}, []string{during, onHost, `"cpu" = 'cpu-total'`}, true)),
			),
			row(note("about", w.aboutName, strings.TrimSpace(w.about)+"\n\n"+detailAbout(w.lang))),
		),
	}
}

// VMsEN is the virtual machines and estimates dashboard in English.
func VMsEN() Dashboard {
	return vms(vmsWords{
		lang: "en", id: 900104,
		notMeasured:     "Not measured by a hypervisor: its power is an estimate (amber, beside).",
		notEstimated:    "Not an estimate: its hypervisor measures it (beside).",
		notMeasuredNow:  "Empty: either nothing measures it (its estimate is beside), or it has sent nothing in the last 3 minutes (see when it was last heard from).",
		notEstimatedNow: "Empty: either its hypervisor measures it (beside), or it has sent nothing in the last 3 minutes (see when it was last heard from).",
		user:            "programs", system: "system", steal: "waiting for the hypervisor", prefix: "pi-vms-en", name: "Green Campus (EN) - virtual machines and estimates", hostVar: "VM or estimated host",
		measuredAll:  "Virtual machines measured by their hypervisor: power",
		estimateAll:  "ESTIMATES from processor use: power",
		measuredAxis: "W", estimateAxis: "W (estimate)",
		now: "right now", overRange: "over the range",
		measured: "measured", estimate: "ESTIMATE",
		w: "W", wh: "Wh",
		lastSeen: "Each: when last heard from (source model: ESTIMATE)", colHost: "VM or host", colSource: "Source", colLast: "Last heard from", colW: "W then",
		cpuTitle:  "processor use (what an estimate reads)",
		aboutName: "Measured or estimated",
		about: `Choose the virtual machine or host in the **:host:** menu under **Variables**, at the top right. A virtual machine has no energy counters of its own; its number comes one of two ways, never mixed:

- **Measured by its hypervisor** (blue and green): the server it runs on measures its own energy and gives each virtual machine a counter of its share. A measurement, shared out.
- **Estimate** (amber): nothing measures this machine; powerinput estimates its power from how busy its processors are, with published averages for the kind of processor (or 0.74 W to 3.5 W per virtual processor, after Cloud Carbon Footprint). Such estimates can be off by tens of percent, more for a single virtual machine: read them as orders of magnitude.

One of the two cells of each pair stays empty. **Right now** is the last 3 minutes: a machine silent for longer shows no value. Chronograf writes the numbers of graphs and tables with a decimal point.`,
	})
}

// VMsFR is VMsEN's French twin.
func VMsFR() Dashboard {
	return vms(vmsWords{
		lang: "fr", id: 900122,
		notMeasured:     "Pas mesurée par un hyperviseur : sa puissance est estimée (en ambre, à côté).",
		notEstimated:    "Pas une estimation : son hyperviseur la mesure (à côté).",
		notMeasuredNow:  "Vide : soit rien ne la mesure (son estimation est à côté), soit elle n’a rien envoyé depuis 3 minutes (voir ses dernières nouvelles).",
		notEstimatedNow: "Vide : soit son hyperviseur la mesure (à côté), soit elle n’a rien envoyé depuis 3 minutes (voir ses dernières nouvelles).",
		user:            "programmes", system: "système", steal: "attente de l’hyperviseur", prefix: "pi-vms-fr", name: "Green Campus (FR) - machines virtuelles et estimations", hostVar: "VM ou machine estimée",
		measuredAll:  "Machines virtuelles mesurées par leur hyperviseur : puissance",
		estimateAll:  "ESTIMATIONS d’après l’utilisation du processeur : puissance",
		measuredAxis: "W", estimateAxis: "W (estimation)",
		now: "en ce moment", overRange: "énergie",
		measured: "mesurée", estimate: "ESTIMATION",
		w: "W", wh: "Wh",
		lastSeen: "Chacune : dernières nouvelles (source model : ESTIMATION)", colHost: "VM ou machine", colSource: "Source", colLast: "Dernières nouvelles", colW: "W alors",
		cpuTitle:  "utilisation du processeur (ce que lit une estimation)",
		aboutName: "Mesuré ou estimé",
		about: `Choisissez la machine virtuelle ou la machine dans le menu **:host:** sous **Variables**, en haut à droite. Une machine virtuelle n’a pas de compteur d’énergie à elle ; son chiffre vient de l’une de deux façons, jamais mélangées :

- **Mesurée par son hyperviseur** (bleu et vert) : le serveur qui l’héberge mesure sa propre énergie et donne à chaque machine virtuelle un compteur de sa part. Une mesure, partagée.
- **Estimation** (ambre) : rien ne mesure cette machine ; powerinput estime sa puissance d’après l’activité de ses processeurs, avec des moyennes publiées pour ce genre de processeur (ou 0,74 W à 3,5 W par processeur virtuel, d’après Cloud Carbon Footprint). Ces estimations peuvent se tromper de plusieurs dizaines de pour cent, davantage pour une seule machine virtuelle : lisez-les comme des ordres de grandeur.

L’une des deux cases de chaque paire reste vide. **En ce moment**, ce sont les 3 dernières minutes : une machine muette depuis plus longtemps n’affiche rien. Chronograf écrit les nombres des graphiques et des tableaux avec un point décimal.`,
	})
}
