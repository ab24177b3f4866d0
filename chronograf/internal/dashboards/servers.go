package dashboards

import "strings"

// serversWords is the text of the servers dashboards in one language.
type serversWords struct {
	lang                         string
	id                           int
	prefix, name, hostVar        string
	socket, parts, now           string
	socketNow, partsNow          string // after "right now" in a title: short
	power, partsTitle, all       string
	processors, memory, gpus     string
	lastSeen, colServer, colLast string
	colW, rest                   string
	aboutName, about             string
}

// servers is the view of one physical server for the people who run it,
// in plain words: what the whole machine draws at the socket beside what
// its parts measure, the parts stacked, and when each server last sent.
func servers(w serversWords) Dashboard {
	ph := "power_host"
	host := []string{during, onHost}
	hostNow := []string{recent, onHost}
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{hostTemplate(w.prefix+"-host", w.hostVar, ph, measuredOnly), detailTemplate(w.prefix+"-detail", w.lang)},
		Cells: layout(w.prefix,
			row(
				graph("power", ":host: "+w.power, 8, "W", "W",
					simpleIn(Detail, ph, []sel{{"mean", "wall_watts", w.socket}, {"mean", "power_watts", w.parts}}, host, true)).
					withColors("#31C0F6", "#FFB94A"),
				stat("socket-now", ":host: "+w.now+", "+w.socketNow, 4, "W", "W", simple(ph, []sel{{"last", "wall_watts", "W"}}, hostNow, false)).whenEmpty(silence(w.lang)),
			),
			row(
				// The parts stacked: the top is the parts' sum, power_watts.
				stacked("parts", ":host: "+w.partsTitle, 8, "W", "W",
					allPackages("current_power_consumption_watts", w.processors, host),
					allPackages("current_dram_power_consumption_watts", w.memory, host),
					simple(ph, []sel{{"mean", "gpu_watts", w.gpus}}, host, true)),
				stat("parts-now", ":host: "+w.now+", "+w.partsNow, 4, "W", "W", simple(ph, []sel{{"last", "power_watts", "W"}}, hostNow, false)).whenEmpty(silence(w.lang)),
			),
			row(
				lastSeenTable("last-seen", w.lastSeen, 4, measuredOnly, w.colServer, w.colLast, w.colW),
				graph("all", w.all, 8, "W", "W",
					simpleIn(Detail, ph, []sel{{"mean", "power_watts", "W"}}, []string{during, measuredOnly}, true, "host")),
			),
			row(note("about", w.aboutName, strings.TrimSpace(w.about)+"\n\n"+detailAbout(w.lang))),
		),
	}
}

// ServersEN is the servers dashboard in English.
func ServersEN() Dashboard {
	return servers(serversWords{
		lang: "en", id: 900101, prefix: "pi-servers-en", name: "Green Campus (EN) - servers", hostVar: "Server",
		socket: "whole machine at the socket", parts: "processors, memory and GPUs", now: "right now", socketNow: "at the socket", partsNow: "the parts",
		power: "power: the whole machine beside its parts", partsTitle: "what the parts draw, stacked",
		all:        "Each server: processors, memory and GPUs",
		processors: "processors", memory: "memory", gpus: "graphics cards",
		lastSeen: "Each server: when last heard from", colServer: "Server", colLast: "Last heard from", colW: "W then",
		aboutName: "About these numbers",
		about: `Choose the server in the **:host:** menu under **Variables**, at the top right. Power is in watts (W), averaged over each interval between two measurements.

- **Processors, memory and GPUs** are measured by their own energy counters, on every server here.
- **The whole machine at the socket** is measured by the server's own power meter, where it has one (the cells stay empty where it has not). It is more than the parts: the difference is the fans, disks, network cards and the power supply's loss.
- **Right now** is the last 3 minutes: a server silent for longer shows no value; the table says when each was last heard from.

Virtual machines and servers whose power is an estimate are on their own dashboard. The counters, their sources and the processors' limits are on the admin dashboard.`,
	})
}

// ServersFR is ServersEN's French twin.
func ServersFR() Dashboard {
	return servers(serversWords{
		lang: "fr", id: 900121, prefix: "pi-servers-fr", name: "Green Campus (FR) - serveurs", hostVar: "Serveur",
		socket: "toute la machine à la prise", parts: "processeurs, mémoire et cartes graphiques", now: "en ce moment", socketNow: "à la prise", partsNow: "composants",
		power: "puissance : toute la machine à côté de ses composants", partsTitle: "ce que consomment les composants, empilés",
		all:        "Chaque serveur : processeurs, mémoire et cartes graphiques",
		processors: "processeurs", memory: "mémoire", gpus: "cartes graphiques",
		lastSeen: "Chaque serveur : dernières nouvelles", colServer: "Serveur", colLast: "Dernières nouvelles", colW: "W alors",
		aboutName: "À propos de ces chiffres",
		about: `Choisissez le serveur dans le menu **:host:** sous **Variables**, en haut à droite. La puissance est en watts (W), en moyenne sur chaque intervalle entre deux mesures.

- **Processeurs, mémoire et cartes graphiques** : mesurés par leurs propres compteurs d’énergie, sur chaque serveur ici.
- **Toute la machine à la prise** : mesurée par le compteur du serveur, là où il en a un (les cases restent vides sinon). C’est plus que les composants : la différence, ce sont les ventilateurs, les disques, les cartes réseau et les pertes de l’alimentation.
- **En ce moment**, ce sont les 3 dernières minutes : un serveur muet depuis plus longtemps n’affiche rien ; le tableau dit quand chacun a donné des nouvelles pour la dernière fois.

Les machines virtuelles et les serveurs dont la consommation est estimée ont leur propre tableau de bord. Les compteurs, leurs sources et les limites des processeurs sont sur le tableau de bord d’administration. Chronograf écrit les nombres des graphiques et des tableaux avec un point décimal.`,
	})
}
