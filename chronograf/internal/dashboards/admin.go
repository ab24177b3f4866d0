package dashboards

import "strings"

// adminWords is the text of the admin dashboards in one language.
type adminWords struct {
	id                                 int
	prefix, name, hostVar              string
	pkgTitle, dramTitle, tableTitle    string
	colPkg, colPkgW, colDRAMW, colTDPW string
	tableNote                          string
	allTitle, sourcesTitle             string
	colHost, colSource, colModel, colW string
	gpuTitle, coverageTitle, coverNote string
	cpuTitle, netTitle, recv, sent     string
	aboutName, about                   string
}

// admin is the engineers' view of one host: power per CPU package with
// its TDP, memory per package, where each host's numbers come from, the
// share of the socket the counters see, GPUs, CPU use and network. The
// words the other dashboards avoid (RAPL, TDP, DRAM, source tags) live
// here, each explained in the note.
func admin(w adminWords) Dashboard {
	host := []string{during, onHost}
	all := []string{during}
	// Legends sort series by name: Package before TDP.
	pkgW := sel{"mean", "current_power_consumption_watts", "Package"}
	tdp := sel{"mean", "thermal_design_power_watts", "TDP"}
	dram := sel{"mean", "current_dram_power_consumption_watts", "DRAM"}
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{hostTemplate(w.prefix+"-host", w.hostVar, "powerstat_package", "")},
		Cells: layout(w.prefix,
			row(
				graph("package", ":host: "+w.pkgTitle, 8, "W", "W",
					perPackage([]sel{pkgW}, host, true),
					perPackage([]sel{tdp}, host, true)).
					// Two packages: their power in cyan and green, the TDP
					// lines in grey, so that their fills read as a background.
					withColors("#31C0F6", "#7CE490", "#8E91A1", "#8E91A1"),
				table("packages", ":host: "+w.tableTitle, 4, "W",
					perPackage([]sel{
						{"last", "current_power_consumption_watts", "Package"},
						{"last", "current_dram_power_consumption_watts", "DRAM"},
						{"last", "thermal_design_power_watts", "TDP"},
					}, host, false),
					col("package_id", w.colPkg),
					col("powerstat_package.Package", w.colPkgW),
					col("powerstat_package.DRAM", w.colDRAMW),
					col("powerstat_package.TDP", w.colTDPW)).
					withNote(w.tableNote),
			),
			row(
				graph("dram", ":host: "+w.dramTitle, 8, "W", "W", perPackage([]sel{dram}, host, true)),
				table("sources", w.sourcesTitle, 4, "W",
					simple("power_host", []sel{{"last", "power_watts", "W"}}, all, false, "host", "source", "model"),
					col("host", w.colHost),
					col("source", w.colSource),
					col("model", w.colModel),
					col("power_host.W", w.colW)),
			),
			row(
				graph("hosts", w.allTitle, 5, "W", "W",
					simple("power_host", []sel{{"mean", "power_watts", "W"}}, all, true, "host", "source")),
				graph("gpu", ":host: "+w.gpuTitle, 4, "W", "W",
					simple("power_gpu", []sel{{"mean", "power_watts", "GPU"}}, host, true, "gpu")),
				stat("coverage", ":host: "+w.coverageTitle, 3, "%", "%",
					`SELECT last("coverage") * 100 AS "coverage" `+from("power_host")+" "+where(host...)).
					withNote(w.coverNote),
			),
			row(
				graph("cpu", ":host: "+w.cpuTitle, 6, "%", "%",
					simple("cpu", []sel{
						{"mean", "usage_user", "user"},
						{"mean", "usage_system", "system"},
						{"mean", "usage_iowait", "iowait"},
						{"mean", "usage_steal", "steal"},
					}, []string{during, onHost, `"cpu" = 'cpu-total'`}, true)),
				graph("net", ":host: "+w.netTitle, 6, "bit/s", "bit/s",
					`SELECT non_negative_derivative(max("bytes_recv"), 1s) * 8 AS "`+w.recv+`", non_negative_derivative(max("bytes_sent"), 1s) * 8 AS "`+w.sent+`" `+
						from("net")+" "+where(host...)+groupBy(true, "interface")),
			),
			row(note("about", w.aboutName, strings.TrimSpace(w.about))),
		),
	}
}

// AdminEN is the admin dashboard in English.
func AdminEN() Dashboard {
	return admin(adminWords{
		id: 900123, prefix: "pi-admin-en", name: "Green Campus (EN) - admin: counters and sources", hostVar: "Host",
		pkgTitle: "power per CPU package, with its TDP", dramTitle: "memory (DRAM) power per CPU package",
		tableTitle: "per CPU package, last interval", colPkg: "Package", colPkgW: "Package W", colDRAMW: "DRAM W", colTDPW: "TDP W",
		tableNote: "A package's dies, if its CPU has several, are added up.",
		allTitle:  "Every host, by source: power", sourcesTitle: "Every host: where its numbers come from",
		colHost: "Host", colSource: "Source", colModel: "Estimate", colW: "Last W",
		gpuTitle: "GPU power, per GPU", coverageTitle: "counters vs socket",
		coverNote: "How much of the socket's power the CPU packages, their memory and the GPUs account for, over the last interval where all were measured.",
		cpuTitle:  "CPU usage, all CPUs", netTitle: "network throughput", recv: "received", sent: "sent",
		aboutName: "The words on this dashboard",
		about: `Choose the host in the **:host:** menu under **Variables**, at the top right. Power is the average over each interval between two measurements, in watts (W).

- **Source** says where a host's numbers come from: ` + "`rapl`" + ` is measured by the CPU's own energy counters (RAPL, read through the kernel's powercap files); ` + "`msr`" + ` by the same counters read directly; ` + "`vm`" + ` is a counter the hypervisor gives a virtual machine; ` + "`model`" + ` is an **estimate** from CPU use (**Estimate** ` + "`tdp_curve`" + `: from the CPU's TDP; ` + "`vcpu`" + `: from the number of virtual CPUs).
- A host's power is its CPU packages plus their memory (DRAM), plus its GPUs. **TDP** (thermal design power) is a package's long-term power limit: a reference, not a measurement.
- The socket is the whole machine, as the server's own power meter sees it: more than the counters see, by the fans, disks, network cards and the power supply's loss. Hosts without a power meter or a GPU leave those cells empty.
- A CPU made of several dies is shown as one package: its dies are added up.`,
	})
}

// AdminFR is AdminEN's French twin.
func AdminFR() Dashboard {
	return admin(adminWords{
		id: 900124, prefix: "pi-admin-fr", name: "Green Campus (FR) - admin : compteurs et sources", hostVar: "Machine",
		pkgTitle: "puissance par processeur (package), avec son TDP", dramTitle: "puissance de la mémoire (DRAM) par processeur",
		tableTitle: "par processeur, dernier intervalle", colPkg: "Processeur", colPkgW: "Processeur W", colDRAMW: "DRAM W", colTDPW: "TDP W",
		tableNote: "Les puces (dies) d’un processeur qui en a plusieurs sont additionnées.",
		allTitle:  "Chaque machine, par source : puissance", sourcesTitle: "Chaque machine : d’où viennent ses chiffres",
		colHost: "Machine", colSource: "Source", colModel: "Estimation", colW: "Dernier W",
		gpuTitle: "puissance par carte graphique", coverageTitle: "compteurs vs prise",
		coverNote: "Part de la puissance à la prise qu’expliquent les processeurs, leur mémoire et les cartes graphiques, sur le dernier intervalle où tout a été mesuré.",
		cpuTitle:  "utilisation des processeurs", netTitle: "débit réseau", recv: "reçu", sent: "envoyé",
		aboutName: "Les mots de ce tableau de bord",
		about: `Choisissez la machine dans le menu **:host:** sous **Variables**, en haut à droite. La puissance est la moyenne sur chaque intervalle entre deux mesures, en watts (W).

- **Source** dit d’où viennent les chiffres d’une machine : ` + "`rapl`" + ` : mesurés par les compteurs d’énergie du processeur (RAPL, lus par les fichiers powercap du noyau) ; ` + "`msr`" + ` : les mêmes compteurs lus directement ; ` + "`vm`" + ` : un compteur que l’hyperviseur donne à une machine virtuelle ; ` + "`model`" + ` : une **estimation** d’après l’utilisation du processeur (**Estimation** ` + "`tdp_curve`" + ` : d’après le TDP du processeur ; ` + "`vcpu`" + ` : d’après le nombre de processeurs virtuels).
- La puissance d’une machine est celle de ses processeurs plus leur mémoire (DRAM), plus ses cartes graphiques. Le **TDP** (enveloppe thermique) est la limite de puissance d’un processeur dans la durée : une référence, pas une mesure.
- La prise, c’est toute la machine, vue par le compteur du serveur : plus que ce que voient les compteurs, de la consommation des ventilateurs, des disques, des cartes réseau et des pertes de l’alimentation. Les machines sans compteur à la prise ou sans carte graphique laissent ces cases vides.
- Un processeur fait de plusieurs puces est montré comme un seul : ses puces sont additionnées.
- Chronograf écrit les nombres des graphiques et des tableaux avec un point décimal.`,
	})
}
