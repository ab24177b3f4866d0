package dashboards

import (
	"fmt"
	"strings"
)

// applicationsWords is the text of the applications dashboards in one
// language; the English and French dashboards share cells and queries.
type applicationsWords struct {
	lang                    string
	id                      int
	prefix, name, hostLabel string
	services, programs      string // what the measurements hold
	power, top, everyday    string // after "<what> on :host:"
	service, program, wh    string // column and series names
	others, unattributed    string // the parts that are no workload
	unused                  string
	aboutName, about        string
}

// The parts of power_service and power_process that are no workload.
const (
	isWorkload = `"kind" != 'other' AND "kind" != 'unattributed' AND "kind" != 'unused_capacity'`
)

// topBy is the ten names of measurement with the most energy over the
// time range (Wh, two significant digits), biggest first, one row each,
// the parts that are no workload and the rows of nothing left out.
func topBy(measurement, tag string, conds []string) string {
	inner := fmt.Sprintf(`SELECT %s AS "Wh" %s %s GROUP BY "%s"`, twoDigits(`sum("energy_joules") / 3600`), fromRP(Detail, measurement), where(append(conds, isWorkload)...), tag)
	return fmt.Sprintf(`SELECT top("Wh", "%s", 10) AS "Wh" FROM (%s) WHERE "Wh" > 0`, tag, inner)
}

// applications shows which services and programs use a host's energy.
func applications(w applicationsWords) Dashboard {
	svc, prc := "power_service", "power_process"
	host := []string{during, onHost}
	charges := metaphorOf("smartphone_charges").Words(w.lang).Unit
	km := metaphorOf("ebike_km").Words(w.lang).Unit
	// The workloads one line each, the parts that are no workload one
	// line each under a plain name, stacked: the top is the host's
	// processors, memory and GPUs.
	powerGraph := func(id, title, m, tag, name string) spec {
		kind := func(k, as string) string {
			return simpleIn(Detail, m, []sel{{"mean", "power_watts", as}}, append([]string{during, onHost}, `"kind" = '`+k+`'`), true)
		}
		return stacked(id, title, 8, "W", "W",
			simpleIn(Detail, m, []sel{{"mean", "power_watts", name}}, append([]string{during, onHost}, isWorkload), true, tag),
			kind("other", w.others), kind("unattributed", w.unattributed), kind("unused_capacity", w.unused))
	}
	topTable := func(id, title, m, tag, label string) spec {
		// The name last, here and below: a long one (a container's id)
		// then runs off the table's edge, not the numbers.
		return table(id, title, 4, Sig, topBy(m, tag, host),
			col(m+".Wh", w.wh),
			col(m+"."+tag, label))
	}
	everydayTable := func(id, title, m, tag, label string) spec {
		inner := fmt.Sprintf(`SELECT %s AS "charges", %s AS "km" %s %s GROUP BY "%s"`,
			twoDigits(`sum("smartphone_charges")`), twoDigits(`sum("ebike_km")`), fromRP(Detail, m), where(append(host, isWorkload)...), tag)
		return table(id, title, 6, Sig,
			fmt.Sprintf(`SELECT top("charges", "%s", 10) AS "charges", "km" FROM (%s) WHERE "charges" > 0`, tag, inner),
			col(m+".charges", charges),
			col(m+".km", km),
			col(m+"."+tag, label))
	}
	cite := func(f string) string { return "- " + metaphorOf(f).cites(w.lang) + "\n" }
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{{
			ID: w.prefix + "-host", TempVar: ":host:", Type: "influxql", Label: w.hostLabel, Values: []TemplateValue{},
			Query: TemplateQuery{
				InfluxQL: fmt.Sprintf(`SHOW TAG VALUES ON "%s" FROM /^power_(service|process)$/ WITH KEY = "host"`, Database),
				DB:       Database, Measurement: svc, TagKey: "host",
			},
		}, detailTemplate(w.prefix+"-detail", w.lang)},
		Cells: layout(w.prefix,
			row(
				powerGraph("services-w", w.services+" :host:"+w.power, svc, "unit", w.service),
				topTable("services-top", w.services+" :host:"+w.top, svc, "unit", w.service),
			),
			row(
				powerGraph("programs-w", w.programs+" :host:"+w.power, prc, "process", w.program),
				topTable("programs-top", w.programs+" :host:"+w.top, prc, "process", w.program),
			),
			row(
				everydayTable("services-everyday", w.services+" :host:"+w.everyday, svc, "unit", w.service),
				everydayTable("programs-everyday", w.programs+" :host:"+w.everyday, prc, "process", w.program),
			),
			row(note("about", w.aboutName, strings.TrimSpace(w.about)+"\n\n"+cite("smartphone_charges")+cite("ebike_km")+"\n"+detailAbout(w.lang))),
		),
	}
}

// ApplicationsEN is which services and programs use a host's energy, in
// watts and in everyday terms.
func ApplicationsEN() Dashboard {
	return applications(applicationsWords{
		lang: "en", id: 900111, prefix: "pi-apps-en", name: "Green Campus (EN) - applications", hostLabel: "Server",
		services: "Services on", programs: "Programs on",
		power: ": power, stacked", top: ": top 10 over the range", everyday: ": the 10 using the most, in everyday terms",
		service: "service", program: "program", wh: "Wh",
		others:       "others, outside the top 10",
		unattributed: "system work no service accounts for",
		unused:       "capacity not used by anyone, shared by all",
		aboutName:    "What the applications' numbers mean",
		about: `Choose the server in the **:host:** menu under **Variables** and the time range at the top right.

Each interval, powerinput divides the energy the server's processors, memory and graphics cards measure among its services (systemd services, users, containers, pods, virtual machines) and, separately, among its programs, by the processor time each used. The parts of an interval add up to the server's energy exactly, and the graphs stack them: the top is the server's processors, memory and graphics cards. Three parts are no one program's:

- **others, outside the top 10**: the services or programs not among the 10 busiest of that interval;
- **system work no service accounts for**: the kernel's own work, and programs that ended between two measurements;
- **capacity not used by anyone, shared by all**: the processor time nobody used. It is not waste to blame on anyone: a server draws power even when idle.

The tables list the 10 services or programs that used the most energy over the range, biggest first; the parts above are left out of them. Over the range, that energy would charge that many phones or take an e-bike that far:`,
	})
}

// ApplicationsFR is ApplicationsEN's French twin: the same cells and
// queries.
func ApplicationsFR() Dashboard {
	return applications(applicationsWords{
		lang: "fr", id: 900112, prefix: "pi-apps-fr", name: "Green Campus (FR) - applications", hostLabel: "Serveur",
		services: "Services de", programs: "Programmes de",
		power: " : puissance, empilée", top: " : top 10 sur la période", everyday: " : les 10 qui consomment le plus, au quotidien",
		service: "service", program: "programme", wh: "Wh",
		others:       "autres, hors des 10 premiers",
		unattributed: "travail du système qu’aucun service n’explique",
		unused:       "capacité utilisée par personne, partagée par tous",
		aboutName:    "Ce que veulent dire les chiffres des applications",
		about: `Choisissez le serveur dans le menu **:host:** sous **Variables** et la période en haut à droite.

À chaque intervalle, powerinput partage l’énergie que mesurent les processeurs, la mémoire et les cartes graphiques du serveur entre ses services (services systemd, utilisateurs, conteneurs, pods, machines virtuelles) et, à part, entre ses programmes, selon le temps de processeur de chacun. Les parts d’un intervalle font exactement l’énergie du serveur, et les graphiques les empilent : le haut est celle des processeurs, de la mémoire et des cartes graphiques. Trois parts ne sont à aucun programme :

- **autres, hors des 10 premiers** : les services ou programmes qui ne sont pas parmi les 10 plus actifs de l’intervalle ;
- **travail du système qu’aucun service n’explique** : le travail du noyau, et les programmes terminés entre deux mesures ;
- **capacité utilisée par personne, partagée par tous** : le temps de processeur que personne n’a utilisé. Ce n’est pas un gaspillage à reprocher à quelqu’un : un serveur consomme même au repos.

Les tableaux donnent les 10 services ou programmes qui ont consommé le plus sur la période, du plus gros au plus petit ; les parts ci-dessus n’y figurent pas. Chronograf écrit les nombres des graphiques et des tableaux avec un point décimal. Sur la période, cette énergie rechargerait autant de téléphones ou ferait rouler un vélo électrique aussi loin :`,
	})
}
