package dashboards

import "strings"

// hypervisorWords is the text of the hypervisor dashboards in one language;
// the English and French ones share their cells and queries.
type hypervisorWords struct {
	lang, prefix, name       string
	id                       int
	hostLabel, vmLabel       string
	stackTitle, stackAxis    string
	vmSeries, system, unused string // the stack's parts
	outside                  string
	tableTitle               string
	colVM, colMean, colRange string
	vmNow, vmRange, share    string
	wh, co2                  string
	co2Note                  string
	aboutName, about         string
}

// notPart keeps the VMs: the reserved domains (_hypervisor, _unused,
// _unattributed) are a single '_' and a letter; a VM whose name begins
// with '_' is written with one more '_'.
const notPart = `"domain" !~ /^_[a-z]/`

// onVM keeps the VM chosen in :vm: (an influxql variable: quoted here).
const onVM = `"domain" = ':vm:'`

func hypervisors(w hypervisorWords) Dashboard {
	pv := "power_vm"
	host := []string{during, onHost}
	vm := []string{during, onHost, onVM}
	vmNow := []string{recent, onHost, onVM}
	part := func(domain, as string) string {
		return simpleIn(Detail, pv, []sel{{"mean", "power_watts", as}}, append([]string{during, onHost}, `"domain" = '`+domain+`'`), true)
	}
	m := func(id, title, field, fn string, conds []string) spec {
		mt := metaphorOf(field)
		q := simple(pv, []sel{{fn, field, field}}, conds, false)
		unit := "count"
		if fn == "sum" {
			q = `SELECT ` + twoDigits(`sum("`+field+`")`) + ` AS "` + field + `" ` + fromRP(Detail, pv) + " " + where(conds...)
			unit = Sig
		}
		return stat(id, title, 4, unit, mt.Words(w.lang).Unit, q).withNote(sentence(mt.cites(w.lang)))
	}
	cite := func(f string) string { return "- " + metaphorOf(f).cites(w.lang) + "\n" }
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{
			hostTemplate(w.prefix+"-host", w.hostLabel, pv, ""),
			detailTemplate(w.prefix+"-detail", w.lang),
			{
				ID: w.prefix + "-vm", TempVar: ":vm:", Type: "influxql", Label: w.vmLabel, Values: []TemplateValue{},
				Query: TemplateQuery{
					InfluxQL: `SHOW TAG VALUES ON "` + Database + `" FROM "` + pv + `" WITH KEY = "domain" WHERE ` + onHost + ` AND ` + notPart,
					DB:       Database, Measurement: pv, TagKey: "domain",
				},
			},
		},
		Cells: layout(w.prefix,
			row(
				// The parts of the host stacked, each named plainly; where the
				// host has a power meter at the socket, what the socket sees
				// beyond the parts on top, so that the top is the socket.
				stacked("stack", ":host: "+w.stackTitle, 8, "W", w.stackAxis,
					simpleIn(Detail, pv, []sel{{"mean", "power_watts", w.vmSeries}}, append([]string{during, onHost}, notPart), true, "domain"),
					part("_hypervisor", w.system),
					part("_unused", w.unused),
					`SELECT mean("wall_watts") - mean("power_watts") AS "`+w.outside+`" `+fromRP(Detail, "power_host")+" "+where(host...)+groupBy(true),
				),
				table("vms", ":host: "+w.tableTitle, 4, Sig,
					// The mean power is the energy over the seconds
					// measured: exact on a rollup too (a mean of means
					// is not).
					`SELECT `+twoDigits(`sum("energy_joules") / sum("interval_seconds")`)+` AS "mean", `+twoDigits(`sum("energy_joules") / 3600`)+` AS "Wh" `+fromRP(Detail, pv)+" "+where(append(host, notPart)...)+groupBy(false, "domain"),
					col(pv+".mean", w.colMean),
					col(pv+".Wh", w.colRange),
					col("domain", w.colVM)), // last: see TestLongNamesLast
			),
			// Three to a row: a title naming the VM, its server and the
			// window needs four columns (TestTitlesFit).
			row(
				m("led", w.vmNow, "led_bulbs", "last", vmNow).whenEmpty(silence(w.lang)),
				m("tvs", w.vmNow, "tvs_19in", "last", vmNow).whenEmpty(silence(w.lang)),
				stat("wh", w.vmRange, 4, Sig, w.wh,
					`SELECT `+twoDigits(`sum("energy_joules") / 3600`)+` AS "Wh" `+fromRP(Detail, pv)+" "+where(vm...)).withNote(w.share),
			),
			row(
				m("phones", w.vmRange, "smartphone_charges", "sum", vm),
				m("ebike", w.vmRange, "ebike_km", "sum", vm),
				stat("co2", w.vmRange, 4, Sig, w.co2,
					`SELECT `+twoDigits(`sum("co2_grams")`)+` AS "co2_grams" `+fromRP(Detail, pv)+" "+where(vm...)).withNote(w.co2Note),
			),
			row(note("about", w.aboutName, strings.TrimSpace(w.about)+"\n\n"+
				cite("led_bulbs")+cite("tvs_19in")+cite("smartphone_charges")+cite("ebike_km")+"\n"+detailAbout(w.lang))),
		),
	}
}

// stacked is a graph whose series are stacked: the parts of a whole.
func stacked(id, name string, w int, unit, label string, queries ...string) spec {
	s := graph(id, name, w, unit, label, queries...)
	s.kind = "line-stacked"
	return s
}

// HypervisorsEN shows, on a hypervisor, how its power divides over its
// VMs, and each VM in everyday terms.
func HypervisorsEN() Dashboard {
	return hypervisors(hypervisorWords{
		lang: "en", id: 900105, prefix: "pi-hv-en", name: "Green Campus (EN) - each VM's share of its server", hostLabel: "Server", vmLabel: "VM",
		stackTitle: "power, stacked: VMs, the server's own work, capacity no VM used, rest of the machine", stackAxis: "W",
		vmSeries: "VM", system: "the server's own work, outside any VM", unused: "capacity not used by any VM, shared by all",
		outside:    "rest of the machine at the socket (fans, disks, power supply)",
		tableTitle: "each VM over the time range",
		colVM:      "VM", colMean: "W on average", colRange: "Wh over the range",
		vmNow: ":vm: on :host:, right now", vmRange: ":vm: on :host:, over the range", share: "Its share of the server's processors, memory and graphics cards, as every figure of the VM here.",
		wh: "Wh", co2: "g of CO₂",
		co2Note:   "CO₂ is the energy times the grid's average carbon intensity set in powerinput: an average, not a measurement.",
		aboutName: "How a server's energy is divided",
		about: `Choose the server in the **:host:** menu and one of its virtual machines (VMs) in **:vm:**, under **Variables**, at the top right.

Every interval, the energy the server's processors, memory and graphics cards measure is divided exactly among its VMs by processor time: each VM gets the share of the server's processor capacity it used. Two parts are no VM's:

- **the server's own work, outside any VM**: its system, its agents, and a VM in the interval it starts or stops;
- **capacity not used by any VM, shared by all**: the processor time nobody used. It is not waste to blame on anyone: a server draws power even when idle, and every VM benefits from the room it leaves.

Where the server has a power meter at the socket, the top band is **the rest of the machine** (fans, disks, network cards, the power supply's loss), so the top of the stack is the whole machine. A VM's figures below count its share of the processors, memory and graphics cards. A VM heavy on memory costs the server more than its share of processor time says; where a server's power is an estimate, so is every share.`,
	})
}

// HypervisorsFR is HypervisorsEN's French twin.
func HypervisorsFR() Dashboard {
	return hypervisors(hypervisorWords{
		lang: "fr", id: 900106, prefix: "pi-hv-fr", name: "Green Campus (FR) - part de chaque VM dans son serveur", hostLabel: "Serveur", vmLabel: "VM",
		stackTitle: "puissance empilée : VM, travail du serveur, capacité inutilisée, reste de la machine", stackAxis: "W",
		vmSeries: "VM", system: "travail propre du serveur, hors VM", unused: "capacité utilisée par aucune VM, partagée par toutes",
		outside:    "reste de la machine à la prise (ventilateurs, disques, alimentation)",
		tableTitle: "chaque VM sur la période",
		colVM:      "VM", colMean: "W en moyenne", colRange: "Wh sur la période",
		vmNow: ":vm: sur :host:, en ce moment", vmRange: ":vm: sur :host:, sur la période", share: "Sa part des processeurs, de la mémoire et des cartes graphiques du serveur, comme chaque chiffre de la VM ici.",
		wh: "Wh", co2: "g de CO₂",
		co2Note:   "Le CO₂ est l’énergie multipliée par l’intensité carbone moyenne du réseau réglée dans powerinput : une moyenne, pas une mesure.",
		aboutName: "Comment l’énergie d’un serveur est partagée",
		about: `Choisissez le serveur dans le menu **:host:** et l’une de ses machines virtuelles (VM) dans **:vm:**, sous **Variables**, en haut à droite.

À chaque intervalle, l’énergie que mesurent les processeurs, la mémoire et les cartes graphiques du serveur est partagée exactement entre ses VM selon le temps de processeur : chaque VM reçoit la part de la capacité du serveur qu’elle a utilisée. Deux parts ne sont à aucune VM :

- **le travail propre du serveur, hors VM** : son système, ses agents, et une VM dans l’intervalle où elle démarre ou s’arrête ;
- **la capacité utilisée par aucune VM, partagée par toutes** : le temps de processeur que personne n’a utilisé. Ce n’est pas un gaspillage à reprocher à quelqu’un : un serveur consomme même au repos, et chaque VM profite de la marge qu’elle laisse.

Là où le serveur a un compteur à la prise, la bande du haut est **le reste de la machine** (ventilateurs, disques, cartes réseau, pertes de l’alimentation) : le haut de la pile est alors toute la machine. Les chiffres d’une VM ci-dessous comptent sa part des processeurs, de la mémoire et des cartes graphiques. Une VM gourmande en mémoire coûte au serveur plus que sa part de temps de processeur ne le dit ; là où la consommation d’un serveur est estimée, chaque part l’est aussi. Chronograf écrit les nombres des graphiques et des tableaux avec un point décimal.`,
	})
}
