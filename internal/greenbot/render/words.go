package render

import (
	"fmt"
	"strings"
	"time"
)

// words are the texts of a digest in one language. Functions take the
// numbers already written.
type words struct {
	weekday, month []string
	title          func(period string) string
	lang           string
	total          func(n int, energy string) string
	// guestTotal is the total of a digest where only guest VMs wrote:
	// their share of their hypervisors' energy.
	guestTotal func(n int, energy string) string
	// co2 says the CO₂ emitted, counted on k of the n machines (those
	// with a carbon intensity set).
	co2 func(g string, k, n int) string
	// at names the carbon intensity the CO₂ was counted at: one rate, or
	// the lowest and highest where the machines are set apart.
	at           func(rate string, spread bool) string
	asMuchAs     string
	powerAll     func(label string, weekly bool) string
	more, less   string
	same         string
	vsPrevDay    func(pct, dir, prev string) string // daily: same weekday last week
	vsPrevWeek   func(pct, dir, prev string) string
	vsMean       func(pct, dir, mean string, n int) string
	sameAs       func(weekly, mean bool, v string, n int) string
	noCompare    string
	prevLabel    func(weekly bool) string
	meanLabel    func(n int) string
	unchanged    string
	byHost       string
	atWall       string
	partsOnly    string
	estimatedAll string                // a host whose whole energy is a model's
	guest        string                // a VM whose energy is its hypervisor's share
	ofWhichEst   func(e string) string // the part a model estimated
	// A subject's total where a model estimated some or all of it.
	subjectPartly, subjectEstimated string
	vms                             string
	otherVMs                        func(n int) string
	topVM                           func(name, equivalent string) string
	services                        string
	// kinds names the kinds of service whose names are often raw IDs
	// (a container's short ID, a pod's UID), said before the name; not a
	// user's, whose name says it (user-1000.slice).
	kinds         map[string]string
	unused        func(pct string) string
	unusedExplain string
	ofParts       string // shares of the parts, beside a wall figure
	quality       string
	measured      func(pct string, n int, weekly bool) string
	// included says which hosts the measured sentence counts that the
	// total does not: VMs (in their hypervisor's total), silent ones.
	included   func(vms, silent bool) string
	estimated  func(names string, pct string) string
	silent     string
	silentFor  func(pct string) string
	noData     string
	basis      string
	late       func(planned string) string
	moreHosts  func(n int, energy string) string
	andMore    func(n int) string // after a list cut short
	chartTitle string
	chartY     string
	thisWeek   string
	prevWeek   string
	chartAlt   string
	footer     string
	// A period no machine wrote in: said plainly, with where to look.
	noneSent     func(weekly bool) string
	noneSentHint string
	// noneRollup is the hint of a none digest read from the hourly
	// rollup rp: its continuous query may not be running.
	noneRollup    func(rp string) string
	noneSentNamed func(n int) string // before the names of the n hosts expected
	subjectNone   string
}

// meanOfEN names the mean of the n earlier weeks with data; with one,
// it is no average but that week.
func meanOfEN(n int) string {
	return meanOf(n, "only earlier week with data", "average of the %d weeks before")
}

func meanOfFR(n int) string {
	return meanOf(n, "seule semaine antérieure avec des données", "moyenne des %d semaines précédentes")
}

func meanOf(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

var english = words{
	lang:    "en",
	weekday: []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	month:   []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	title:   func(p string) string { return "Green Campus: the energy of " + p },
	total: func(n int, e string) string {
		if n == 1 {
			return "Your machine used " + e
		}
		return fmt.Sprintf("Your %d machines used %s in all", n, e)
	},
	guestTotal: func(n int, e string) string {
		if n == 1 {
			return "Your virtual machine used " + e + ", its share of its host server's energy (the host server is not in this digest)"
		}
		return fmt.Sprintf("Your %d virtual machines used %s in all, their shares of their host servers' energy (the host servers are not in this digest)", n, e)
	},
	co2: func(g string, k, n int) string {
		if k >= n {
			return ", which emitted about " + g + " of CO₂"
		}
		return fmt.Sprintf("; %d of the %d machines %s a carbon intensity set, and emitted about %s of CO₂", k, n, plural(k, "has", "have"), g)
	},
	at: func(r string, spread bool) string {
		if spread {
			return " (at " + r + ", the carbon intensities set in each machine's powerinput)"
		}
		return " (at " + r + ", the carbon intensity set in powerinput)"
	},
	asMuchAs: "That is about as much as:",
	powerAll: func(l string, weekly bool) string {
		if weekly {
			return l + " running all week"
		}
		return l + " running all day"
	},
	more: "more", less: "less", same: "the same as",
	vsPrevDay: func(pct, dir, prev string) string {
		return fmt.Sprintf("%s %s than the same day last week (%s)", pct, dir, prev)
	},
	vsPrevWeek: func(pct, dir, prev string) string {
		return fmt.Sprintf("%s %s than the week before (%s)", pct, dir, prev)
	},
	vsMean: func(pct, dir, mean string, n int) string {
		return fmt.Sprintf("%s %s than the %s (%s)", pct, dir, meanOfEN(n), mean)
	},
	sameAs: func(weekly, mean bool, v string, n int) string {
		switch {
		case mean:
			return fmt.Sprintf("about the same as the %s (%s)", meanOfEN(n), v)
		case weekly:
			return "about the same as the week before (" + v + ")"
		}
		return "about the same as the same day last week (" + v + ")"
	},
	noCompare: "No earlier data to compare with yet.",
	prevLabel: func(weekly bool) string {
		if weekly {
			return "week before"
		}
		return "same day last week"
	},
	meanLabel:     meanOfEN,
	unchanged:     "unchanged",
	byHost:        "Machine by machine",
	atWall:        "measured at the wall socket",
	partsOnly:     "processors, memory and graphics cards only",
	guest:         "a virtual machine: its share of its host server, already counted in that server, so not added again to the total",
	estimatedAll:  "ESTIMATED by a model, not measured",
	subjectPartly: "partly estimated", subjectEstimated: "estimated, not measured",
	ofWhichEst: func(e string) string { return "of which " + e + " ESTIMATED by a model, not measured" },
	vms:        "Virtual machines",
	otherVMs:   func(n int) string { return fmt.Sprintf("%d other %s", n, plural(n, "VM", "VMs")) },
	topVM: func(name, eq string) string {
		return "The VM that used the most, " + name + ", took about as much as " + eq + "."
	},
	services:      "Services",
	kinds:         map[string]string{"container": "container", "pod": "pod", "vm": "VM"},
	unused:        func(p string) string { return "Capacity kept ready but not used: " + p },
	unusedExplain: "of the energy of this machine's processors and memory went to capacity that was switched on and available, though no work asked for it",
	ofParts:       "(shares of the processors' and memory's energy, not of the wall socket's)",
	quality:       "About these numbers",
	measured: func(p string, n int, weekly bool) string {
		per := "day"
		if weekly {
			per = "week"
		}
		if n == 1 {
			return fmt.Sprintf("Sensors measured %s of the %s on the machine", p, per)
		}
		return fmt.Sprintf("Sensors measured %s of the %s across the %d machines", p, per, n)
	},
	included: func(vms, silent bool) string {
		switch {
		case vms && silent:
			return " (VMs and machines that sent nothing included)"
		case vms:
			return " (VMs included)"
		case silent:
			return " (machines that sent nothing included)"
		}
		return ""
	},
	estimated: func(names, p string) string {
		return "Estimated, not measured (no readable sensor, so a model was used): " + names + " — " + p + " of the time."
	},
	silent:    "Sent nothing for part of the period:",
	silentFor: func(p string) string { return "silent " + p + " of the time" },
	noData:    "no data at all",
	basis:     "Energy is counted at the wall socket where a meter measures it; elsewhere it is the sum of processors, memory and graphics cards, which leaves out fans, disks and power-supply losses.",
	late: func(p string) string {
		return "This digest comes late: it was due " + p + "."
	},
	andMore: func(n int) string { return fmt.Sprintf("and %d more", n) },
	moreHosts: func(n int, e string) string {
		return fmt.Sprintf("and %d more %s, %s together", n, plural(n, "machine", "machines"), e)
	},
	chartTitle: "Energy per day (kWh)",
	chartY:     "kWh",
	thisWeek:   "these 7 days",
	prevWeek:   "the 7 days before",
	chartAlt:   "Bar chart of the energy used each day of the last seven days, beside the same weekday of the week before.",
	footer:     "Sent by the Green Campus Bot from the lab's powerinput measurements.",
	noneSent: func(weekly bool) string {
		if weekly {
			return "No machine sent a measurement for this week."
		}
		return "No machine sent a measurement for this day."
	},
	noneSentHint: "Either powerinput is not running on the machines, or Telegraf cannot reach the database. " +
		"On a machine, powerinput -doctor says what it can measure and how to fix the rest; " +
		"here, greenbot -check lists the machines that wrote in the last day.",
	noneRollup: func(rp string) string {
		return "This digest read the hourly sums (" + rp + "), not the raw points: if greenbot -check lists machines, " +
			"the continuous query that fills " + rp + " may not be running (deploy/setup-influxdb.sh creates it; SHOW CONTINUOUS QUERIES lists it)."
	},
	noneSentNamed: func(n int) string { return plural(n, "Machine expected:", "Machines expected:") },
	subjectNone:   "no measurement",
}

var french = words{
	lang:    "fr",
	weekday: []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
	month:   []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	title:   func(p string) string { return "Green Campus" + nnbsp + ": l’énergie " + p },
	total: func(n int, e string) string {
		if n == 1 {
			return "Votre machine a consommé " + e
		}
		return fmt.Sprintf("Vos %d machines ont consommé %s au total", n, e)
	},
	guestTotal: func(n int, e string) string {
		if n == 1 {
			return "Votre machine virtuelle a consommé " + e + ", sa part de l’énergie de son serveur hôte (le serveur hôte n’est pas dans ce résumé)"
		}
		return fmt.Sprintf("Vos %d machines virtuelles ont consommé %s au total, leurs parts de l’énergie de leurs serveurs hôtes (les serveurs hôtes ne sont pas dans ce résumé)", n, e)
	},
	co2: func(g string, k, n int) string {
		if k >= n {
			return ", soit environ " + g + " de CO₂ émis"
		}
		return fmt.Sprintf(nnbsp+"; %d %s sur %d %s une intensité carbone réglée, et %s environ %s de CO₂", k, plural(k, "machine", "machines"), n, plural(k, "a", "ont"), plural(k, "a émis", "ont émis"), g)
	},
	at: func(r string, spread bool) string {
		if spread {
			return " (" + r + ", les intensités carbone réglées dans le powerinput de chaque machine)"
		}
		return " (à " + r + ", l’intensité carbone réglée dans powerinput)"
	},
	asMuchAs: "C’est à peu près autant que" + nnbsp + ":",
	powerAll: func(l string, weekly bool) string {
		if weekly {
			return l + " pendant toute la semaine"
		}
		return l + " pendant toute la journée"
	},
	more: "de plus", less: "de moins", same: "autant que",
	vsPrevDay: func(pct, dir, prev string) string {
		return fmt.Sprintf("%s %s que le même jour la semaine dernière (%s)", pct, dir, prev)
	},
	vsPrevWeek: func(pct, dir, prev string) string {
		return fmt.Sprintf("%s %s que la semaine précédente (%s)", pct, dir, prev)
	},
	vsMean: func(pct, dir, mean string, n int) string {
		return fmt.Sprintf("%s %s que la %s (%s)", pct, dir, meanOfFR(n), mean)
	},
	sameAs: func(weekly, mean bool, v string, n int) string {
		switch {
		case mean:
			return fmt.Sprintf("à peu près autant que la %s (%s)", meanOfFR(n), v)
		case weekly:
			return "à peu près autant que la semaine précédente (" + v + ")"
		}
		return "à peu près autant que le même jour la semaine dernière (" + v + ")"
	},
	noCompare: "Pas encore de données antérieures pour comparer.",
	prevLabel: func(weekly bool) string {
		if weekly {
			return "semaine précédente"
		}
		return "même jour la semaine dernière"
	},
	meanLabel:     meanOfFR,
	unchanged:     "inchangé",
	byHost:        "Machine par machine",
	atWall:        "mesuré à la prise",
	partsOnly:     "processeurs, mémoire et cartes graphiques seulement",
	guest:         "machine virtuelle" + nnbsp + ": sa part de son serveur hôte, déjà comptée dans ce serveur, donc pas ajoutée une seconde fois au total",
	estimatedAll:  "ESTIMÉ par un modèle, non mesuré",
	subjectPartly: "en partie estimé", subjectEstimated: "estimé, non mesuré",
	ofWhichEst: func(e string) string { return "dont " + e + " ESTIMÉS par un modèle, non mesurés" },
	vms:        "Machines virtuelles",
	otherVMs:   func(n int) string { return fmt.Sprintf("%d autre%s VM", n, plural(n, "", "s")) },
	topVM: func(name, eq string) string {
		return "La plus gourmande, " + name + ", a consommé à peu près autant que " + eq + "."
	},
	services:      "Services",
	kinds:         map[string]string{"container": "conteneur", "pod": "pod", "vm": "VM"},
	unused:        func(p string) string { return "Capacité disponible mais inutilisée" + nnbsp + ": " + p },
	unusedExplain: "de l’énergie des processeurs et de la mémoire de cette machine est allée à une capacité allumée et prête, sans travail à faire",
	ofParts:       "(parts de l’énergie des processeurs et de la mémoire, pas de celle mesurée à la prise)",
	quality:       "À propos de ces chiffres",
	measured: func(p string, n int, weekly bool) string {
		per := "de la journée"
		if weekly {
			per = "de la semaine"
		}
		if n == 1 {
			return fmt.Sprintf("Les capteurs ont mesuré %s %s sur la machine", p, per)
		}
		return fmt.Sprintf("Les capteurs ont mesuré %s %s sur l’ensemble des %d machines", p, per, n)
	},
	included: func(vms, silent bool) string {
		switch {
		case vms && silent:
			return " (VM et machines muettes comprises)"
		case vms:
			return " (VM comprises)"
		case silent:
			return " (machines muettes comprises)"
		}
		return ""
	},
	estimated: func(names, p string) string {
		return "Estimé, non mesuré (aucun capteur lisible, un modèle a servi)" + nnbsp + ": " + names + " — " + p + " du temps."
	},
	silent:    "N’ont rien envoyé pendant une partie de la période" + nnbsp + ":",
	silentFor: func(p string) string { return "muette " + p + " du temps" },
	noData:    "aucune donnée",
	basis:     "L’énergie est comptée à la prise là où un compteur la mesure" + nnbsp + "; ailleurs, c’est la somme des processeurs, de la mémoire et des cartes graphiques, sans les ventilateurs, les disques ni les pertes de l’alimentation.",
	late: func(p string) string {
		return "Ce résumé arrive en retard" + nnbsp + ": il était prévu " + p + "."
	},
	andMore: func(n int) string { return fmt.Sprintf("et %d autre%s", n, plural(n, "", "s")) },
	moreHosts: func(n int, e string) string {
		return fmt.Sprintf("et %d autre%s machine%s, %s à elles toutes", n, plural(n, "", "s"), plural(n, "", "s"), e)
	},
	chartTitle: "Énergie par jour (kWh)",
	chartY:     "kWh",
	thisWeek:   "ces 7 jours",
	prevWeek:   "les 7 jours d’avant",
	chartAlt:   "Histogramme de l’énergie consommée chaque jour des sept derniers jours, à côté du même jour de la semaine précédente.",
	footer:     "Envoyé par le Green Campus Bot à partir des mesures powerinput du laboratoire.",
	noneSent: func(weekly bool) string {
		if weekly {
			return "Aucune machine n’a envoyé de mesure pour cette semaine."
		}
		return "Aucune machine n’a envoyé de mesure pour cette journée."
	},
	noneSentHint: "Soit powerinput ne tourne pas sur les machines, soit Telegraf n’atteint pas la base de données. " +
		"Sur une machine, powerinput -doctor dit ce qu’elle peut mesurer et comment réparer le reste" + nnbsp + "; " +
		"ici, greenbot -check liste les machines qui ont écrit depuis un jour.",
	noneRollup: func(rp string) string {
		return "Ce résumé a lu les sommes horaires (" + rp + "), pas les points bruts" + nnbsp + ": si greenbot -check liste des machines, " +
			"la requête continue qui remplit " + rp + " ne tourne peut-être pas (deploy/setup-influxdb.sh la crée" + nnbsp + "; SHOW CONTINUOUS QUERIES la liste)."
	},
	noneSentNamed: func(n int) string { return plural(n, "Machine attendue", "Machines attendues") + nnbsp + ":" },
	subjectNone:   "aucune mesure",
}

// dayPeriod names one day: "Friday 4 December 2026".
func (w *words) dayPeriod(t time.Time) string {
	d := fmt.Sprintf("%s %d %s %d", w.weekday[t.Weekday()], t.Day(), w.month[t.Month()-1], t.Year())
	if w.lang == "fr" {
		return "du " + d
	}
	return d
}

// weekPeriod names the week from a to b (both included).
func (w *words) weekPeriod(a, b time.Time) string {
	from := fmt.Sprintf("%d", a.Day())
	if a.Month() != b.Month() || a.Year() != b.Year() {
		from += " " + w.month[a.Month()-1]
	}
	if a.Year() != b.Year() {
		from += fmt.Sprintf(" %d", a.Year())
	}
	to := fmt.Sprintf("%d %s %d", b.Day(), w.month[b.Month()-1], b.Year())
	if w.lang == "fr" {
		return "de la semaine du " + from + " au " + to
	}
	if !strings.Contains(from, " ") {
		return "the week of " + from + "–" + to
	}
	return "the week of " + from + " – " + to
}
