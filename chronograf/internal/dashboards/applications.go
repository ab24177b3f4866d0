package dashboards

import "fmt"

// applicationsWords is the text of the applications dashboards in one
// language; the English and French dashboards share cells and queries.
type applicationsWords struct {
	lang                       string
	id                         int
	prefix, name, hostLabel    string
	services, programs         string // what the measurements hold
	power, top, everyday       string // after "<what> on :host:"
	service, program, kind, wh string // column names
	aboutName, about           string
}

// notUnused leaves the unused capacity out of the graphs: on a quiet host
// it would dwarf every program.
const notUnused = `"kind" != 'unused_capacity'`

// topBy is the ten names of measurement with the most of field over the
// time range, one row each.
func topBy(measurement, tag, field, as string, scale string) string {
	inner := fmt.Sprintf(`SELECT sum("%s")%s AS "%s" %s %s GROUP BY "%s"`, field, scale, as, from(measurement), where(during, onHost, notUnused), tag)
	return fmt.Sprintf(`SELECT top("%s", "%s", 10) AS "%s" FROM (%s)`, as, tag, as, inner)
}

// applications shows which services and programs use a host's energy.
func applications(w applicationsWords) Dashboard {
	svc, prc := "power_service", "power_process"
	host := []string{during, onHost}
	charges := metaphor("smartphone_charges").Words(w.lang).Unit
	km := metaphor("ebike_km").Words(w.lang).Unit
	powerGraph := func(id, title, m, tag string) spec {
		return graph(id, title, 8, "W", "W",
			simple(m, []sel{{"mean", "power_watts", "W"}}, []string{during, onHost, notUnused}, true, tag, "kind"))
	}
	topTable := func(id, title, m, tag, label string) spec {
		return table(id, title, 4, "Wh", topBy(m, tag, "energy_joules", "Wh", " / 3600"),
			col(m+"."+tag, label),
			col(m+".Wh", w.wh))
	}
	everydayTable := func(id, title, m, tag, label string) spec {
		return table(id, title, 6, "count",
			simple(m, []sel{{"sum", "smartphone_charges", "charges"}, {"sum", "ebike_km", "km"}}, host, false, tag, "kind"),
			col(tag, label),
			col("kind", w.kind),
			col(m+".charges", charges),
			col(m+".km", km))
	}
	cite := func(f string) string { return "- " + metaphor(f).cites(w.lang) + "\n" }
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{{
			ID: w.prefix + "-host", TempVar: ":host:", Type: "influxql", Label: w.hostLabel, Values: []TemplateValue{},
			Query: TemplateQuery{
				InfluxQL: fmt.Sprintf(`SHOW TAG VALUES ON "%s" FROM /^power_(service|process)$/ WITH KEY = "host"`, Database),
				DB:       Database, Measurement: svc, TagKey: "host",
			},
		}},
		Cells: layout(w.prefix,
			row(
				powerGraph("services-w", w.services+" :host:"+w.power, svc, "unit"),
				topTable("services-top", w.services+" :host:"+w.top, svc, "unit", w.service),
			),
			row(
				powerGraph("programs-w", w.programs+" :host:"+w.power, prc, "process"),
				topTable("programs-top", w.programs+" :host:"+w.top, prc, "process", w.program),
			),
			row(
				everydayTable("services-everyday", w.services+" :host:"+w.everyday, svc, "unit", w.service),
				everydayTable("programs-everyday", w.programs+" :host:"+w.everyday, prc, "process", w.program),
			),
			row(note("about", w.aboutName, w.about+"\n\n"+cite("smartphone_charges")+cite("ebike_km"))),
		),
	}
}

// ApplicationsEN is which services and programs use a host's energy, in
// watts and in everyday terms.
func ApplicationsEN() Dashboard {
	return applications(applicationsWords{
		lang: "en", id: 900111, prefix: "pi-apps-en", name: "Green Campus - applications", hostLabel: "Host",
		services: "Services on", programs: "Programs on",
		power: ": power", top: ": top 10 over the range", everyday: " in everyday terms, over the range",
		service: "Service", program: "Program", kind: "Kind", wh: "Wh",
		aboutName: "What the applications' numbers mean",
		about: "Choose the host under **Variables** and the time range at the top right. " +
			"Each interval, powerinput divides the host's measured energy among its services (systemd units, users, containers, pods, virtual machines) " +
			"and, separately, among its programs, in proportion to the CPU time each used. The parts of an interval add up to the host's energy exactly.\n\n" +
			"- **other**: the services or programs that are not among the top 10 of that interval, or are new once the day's names are taken.\n" +
			"- **unattributed**: CPU time no listed service or program accounts for: the kernel's own work, and programs that ended between two measurements.\n" +
			"- **unused_capacity**: the share of the energy that goes with the CPU time nobody used. It is not the host's idle power, " +
			"which does not shrink when the host gets busy. The graphs leave it out; the everyday tables keep it.\n\n" +
			"A line is drawn while its service or program is among the top 10 of an interval. The power of a service is an average over each point of the graph.\n\n" +
			"Over the range, that energy would charge that many phones or take an e-bike that far:",
	})
}

// ApplicationsFR is ApplicationsEN's French twin: the same cells and
// queries.
func ApplicationsFR() Dashboard {
	return applications(applicationsWords{
		lang: "fr", id: 900112, prefix: "pi-apps-fr", name: "Green Campus - applications (fr)", hostLabel: "Serveur",
		services: "Services de", programs: "Programmes de",
		power: " : puissance", top: " : les 10 premiers sur la période", everyday: " en termes de tous les jours, sur la période",
		service: "Service", program: "Programme", kind: "Type", wh: "Wh",
		aboutName: "Ce que veulent dire les chiffres des applications",
		about: "Choisissez le serveur sous **Variables** et la période en haut à droite. " +
			"À chaque intervalle, powerinput partage l'énergie mesurée du serveur entre ses services (unités systemd, utilisateurs, conteneurs, pods, machines virtuelles) " +
			"et, à part, entre ses programmes, en proportion du temps de processeur de chacun. Les parts d'un intervalle font exactement l'énergie du serveur.\n\n" +
			"- **other** : les services ou programmes hors des 10 premiers de l'intervalle, ou nouveaux une fois pris les noms du jour.\n" +
			"- **unattributed** : le temps de processeur qu'aucun service ou programme listé n'explique : le travail du noyau, et les programmes terminés entre deux mesures.\n" +
			"- **unused_capacity** : la part de l'énergie qui va avec le temps de processeur que personne n'a utilisé. Ce n'est pas la consommation du serveur au repos, " +
			"qui ne diminue pas quand il travaille. Les graphiques la laissent de côté ; les tableaux la gardent.\n\n" +
			"Une courbe est tracée tant que son service ou programme est parmi les 10 premiers d'un intervalle. La puissance est une moyenne sur chaque point du graphique.\n\n" +
			"Sur la période, cette énergie rechargerait autant de téléphones ou ferait rouler un vélo électrique aussi loin :",
	})
}
