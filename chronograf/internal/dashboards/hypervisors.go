package dashboards

import "strings"

// hypervisorWords is the text of the hypervisor dashboards in one language;
// the English and French ones share their cells and queries.
type hypervisorWords struct {
	lang, prefix, name      string
	id                      int
	hostLabel, vmLabel      string
	stackTitle, stackAxis   string
	tableTitle              string
	colVM, colNow, colRange string
	vmNow, vmRange          string
	wh, co2                 string
	whNote, co2Note         string
	aboutName, about        string
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
	m := func(id, title, field, fn string) spec {
		mt := metaphor(field)
		return stat(id, title, 3, "count", mt.Words(w.lang).Unit, simple(pv, []sel{{fn, field, field}}, vm, false)).
			withNote(sentence(mt.cites(w.lang)))
	}
	cite := func(f string) string { return "- " + metaphor(f).cites(w.lang) + "\n" }
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{
			hostTemplate(w.prefix+"-host", w.hostLabel, pv, ""),
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
				stacked("stack", w.stackTitle, 8, "W", w.stackAxis,
					`SELECT mean("power_watts") AS "W" `+from(pv)+" "+where(host...)+` GROUP BY time(:interval:), "domain" FILL(none)`),
				table("vms", w.tableTitle, 4, "W",
					`SELECT last("power_watts") AS "now", sum("energy_joules") / 3600 AS "Wh" `+from(pv)+" "+where(host...)+groupBy(false, "domain"),
					col("domain", w.colVM),
					col(pv+".now", w.colNow),
					col(pv+".Wh", w.colRange)),
			),
			row(
				m("led", w.vmNow, "led_bulbs", "last"),
				m("tvs", w.vmNow, "tvs_19in", "last"),
				m("phones", w.vmRange, "smartphone_charges", "sum"),
				m("ebike", w.vmRange, "ebike_km", "sum"),
			),
			row(
				stat("wh", w.vmRange, 6, "Wh", w.wh,
					`SELECT sum("energy_joules") / 3600 AS "Wh" `+from(pv)+" "+where(vm...)).withNote(w.whNote),
				stat("co2", w.vmRange, 6, "g", w.co2, simple(pv, []sel{{"sum", "co2_grams", "co2_grams"}}, vm, false)).
					withNote(w.co2Note),
			),
			row(note("about", w.aboutName, strings.TrimSpace(w.about)+"\n\n"+
				cite("led_bulbs")+cite("tvs_19in")+cite("smartphone_charges")+cite("ebike_km"))),
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
		lang: "en", id: 900105, prefix: "pi-hv-en", name: "Green Campus - each VM's share of its hypervisor",
		hostLabel: "Hypervisor", vmLabel: "VM",
		stackTitle: ":host: power by VM, stacked: the top is the whole host", stackAxis: "W",
		tableTitle: ":host: each VM: last interval, and over the range",
		colVM:      "VM", colNow: "W now", colRange: "Wh over the range",
		vmNow: ":vm: on :host:, right now", vmRange: ":vm: on :host:, over the range",
		wh: "Wh", co2: "g of CO2",
		whNote:    "The energy this VM's share came to over the time range chosen at the top right, in watt-hours.",
		co2Note:   "CO2 is the energy times the grid's carbon intensity set in powerinput: an average, not a measurement.",
		aboutName: "How a host's energy is divided",
		about: `Choose the hypervisor and one of its VMs under **Variables**, at the top right.

Every interval, the hypervisor's measured energy (packages, DRAM and any GPUs, as in its own power) is divided exactly, to the microjoule, by CPU time: each VM gets the share of the host's CPU capacity (CPUs × interval) it used. What is left is shown as two parts of its own:

- **_hypervisor**: CPU time used outside any VM (the system, libvirt, agents; and a VM in the interval it starts or stops);
- **_unused**: the capacity nobody used. This is not the machine's idle power: every part carries some of that. (With vm_unused_capacity = "vcpus" this part goes to the VMs by their vCPUs.)

Shared caches and memory bandwidth are not divided by CPU time: a VM that is heavy on memory costs the host more than its share says. Where a host's power is an estimate (source model), so is every share.`,
	})
}

// HypervisorsFR is HypervisorsEN's French twin.
func HypervisorsFR() Dashboard {
	return hypervisors(hypervisorWords{
		lang: "fr", id: 900106, prefix: "pi-hv-fr", name: "Green Campus - part de chaque VM dans son hyperviseur",
		hostLabel: "Hyperviseur", vmLabel: "VM",
		stackTitle: ":host: puissance par VM, empilée : le haut est le serveur entier", stackAxis: "W",
		tableTitle: ":host: chaque VM : dernier intervalle, et sur la période",
		colVM:      "VM", colNow: "W maintenant", colRange: "Wh sur la période",
		vmNow: ":vm: sur :host:, en ce moment", vmRange: ":vm: sur :host:, sur la période",
		wh: "Wh", co2: "g de CO2",
		whNote:    "L'énergie de la part de cette VM sur la période choisie en haut à droite, en wattheures.",
		co2Note:   "Le CO2 est l'énergie multipliée par l'intensité carbone du réseau réglée dans powerinput : une moyenne, pas une mesure.",
		aboutName: "Comment l'énergie d'un serveur est partagée",
		about: `Choisissez l'hyperviseur et l'une de ses VM sous **Variables**, en haut à droite.

À chaque intervalle, l'énergie mesurée de l'hyperviseur (processeurs, mémoire et cartes graphiques éventuelles, comme sa propre consommation) est partagée exactement, au microjoule près, selon le temps processeur : chaque VM reçoit la part de la capacité du serveur (processeurs × intervalle) qu'elle a utilisée. Le reste apparaît en deux parts à elles :

- **_hypervisor** : le temps processeur utilisé hors de toute VM (le système, libvirt, les agents ; et une VM dans l'intervalle où elle démarre ou s'arrête) ;
- **_unused** : la capacité que personne n'a utilisée. Ce n'est pas la consommation au repos de la machine : chaque part en porte un peu. (Avec vm_unused_capacity = "vcpus", cette part va aux VM selon leurs vCPU.)

Les caches partagés et la bande passante mémoire ne se partagent pas au temps processeur : une VM gourmande en mémoire coûte au serveur plus que sa part ne le dit. Là où la consommation d'un serveur est une estimation (source model), chaque part l'est aussi.`,
	})
}
