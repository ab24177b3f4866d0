package chronograf

// The dashboards are written by this generator: go test ./chronograf -update
// rewrites the .dashboard files from it, and TestDashboardsUpToDate keeps
// the committed files equal to its output. The files are what users load.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the dashboard files")

const from = `FROM "metrics_from_pau"."forever".`

// Cell is a dashboard cell as Chronograf stores it.
type Cell struct {
	I              string          `json:"i"`
	X              int             `json:"x"`
	Y              int             `json:"y"`
	W              int             `json:"w"`
	H              int             `json:"h"`
	Name           string          `json:"name"`
	Type           string          `json:"type"`
	Queries        []Query         `json:"queries"`
	Axes           map[string]Axis `json:"axes"`
	Colors         []Color         `json:"colors"`
	Legend         map[string]any  `json:"legend"`
	TableOptions   *TableOptions   `json:"tableOptions,omitempty"`
	FieldOptions   []any           `json:"fieldOptions"`
	TimeFormat     string          `json:"timeFormat"`
	DecimalPlaces  DecimalPlaces   `json:"decimalPlaces"`
	Note           string          `json:"note"`
	NoteVisibility string          `json:"noteVisibility"`
}

type Query struct {
	Query       string         `json:"query"`
	QueryConfig map[string]any `json:"queryConfig"`
	Source      string         `json:"source"`
	Type        string         `json:"type"`
}

type Axis struct {
	Bounds []string `json:"bounds"`
	Label  string   `json:"label"`
	Prefix string   `json:"prefix"`
	Suffix string   `json:"suffix"`
	Base   string   `json:"base"`
	Scale  string   `json:"scale"`
}

type Color struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Hex   string `json:"hex"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

type TableOptions struct {
	VerticalTimeAxis bool           `json:"verticalTimeAxis"`
	SortBy           map[string]any `json:"sortBy"`
	Wrapping         string         `json:"wrapping"`
	FixFirstColumn   bool           `json:"fixFirstColumn"`
}

type DecimalPlaces struct {
	IsEnforced bool `json:"isEnforced"`
	Digits     int  `json:"digits"`
}

type Template struct {
	ID       string          `json:"id"`
	TempVar  string          `json:"tempVar"`
	Type     string          `json:"type"`
	Label    string          `json:"label"`
	SourceID string          `json:"sourceID"`
	Values   []TemplateValue `json:"values"`
	Query    TemplateQuery   `json:"query"`
}

type TemplateValue struct {
	Value    string `json:"value"`
	Type     string `json:"type"`
	Selected bool   `json:"selected"`
}

type TemplateQuery struct {
	InfluxQL    string `json:"influxql"`
	DB          string `json:"db"`
	Measurement string `json:"measurement"`
	TagKey      string `json:"tagKey"`
	FieldKey    string `json:"fieldKey"`
}

type Dashboard struct {
	ID           int        `json:"id"`
	Name         string     `json:"name"`
	Organization string     `json:"organization"`
	Templates    []Template `json:"templates"`
	Cells        []Cell     `json:"cells"`
}

// spec is what a cell shows; layout places it.
type spec struct {
	id, name, kind string
	w              int
	queries        []string
	unit           string // y axis label or single-stat suffix
	digits         int
	note           string
}

// layout places rows of cells on the 12-column grid, each row directly
// under the previous one: compact as Chronograf's grid wants it.
func layout(prefix string, rows ...[]spec) []Cell {
	var cells []Cell
	y := 0
	for _, row := range rows {
		x, h := 0, 0
		for _, s := range row {
			c := newCell(prefix, s)
			c.X, c.Y = x, y
			x += c.W
			if c.H > h {
				h = c.H
			}
			cells = append(cells, c)
		}
		if x > 12 {
			panic(fmt.Sprintf("row at y=%d is %d columns wide", y, x))
		}
		for i := len(cells) - len(row); i < len(cells); i++ {
			cells[i].H = h // one height per row: no hole for the grid to close
		}
		y += h
	}
	return cells
}

func newCell(prefix string, s spec) Cell {
	c := Cell{
		I: prefix + "-" + s.id, W: s.w, H: 4, Name: s.name, Type: s.kind,
		Axes: map[string]Axis{
			"x":  {Bounds: []string{"", ""}, Base: "10", Scale: "linear"},
			"y":  {Bounds: []string{"0", ""}, Label: s.unit, Base: "10", Scale: "linear"},
			"y2": {Bounds: []string{"", ""}, Base: "10", Scale: "linear"},
		},
		Colors:         []Color{},
		Legend:         map[string]any{},
		FieldOptions:   []any{},
		DecimalPlaces:  DecimalPlaces{IsEnforced: true, Digits: s.digits},
		Note:           s.note,
		NoteVisibility: "default",
	}
	for _, q := range s.queries {
		c.Queries = append(c.Queries, Query{Query: q, QueryConfig: map[string]any{}, Type: "influxql"})
	}
	switch s.kind {
	case "note":
		c.Queries = []Query{{Query: "", QueryConfig: map[string]any{}, Type: "influxql"}}
		c.H = 3
		if strings.Count(s.note, "\n") > 8 {
			c.H = 5
		}
	case "single-stat":
		c.H = 3
		c.Axes["y"] = Axis{Bounds: []string{"", ""}, Suffix: s.unit, Base: "10", Scale: "linear"}
		c.Colors = []Color{{ID: "base", Type: "text", Hex: "#7CE490", Name: "honeydew", Value: "-1000000000000000000"}}
	case "table":
		c.TableOptions = &TableOptions{SortBy: map[string]any{"internalName": "time", "displayName": "", "visible": true}, Wrapping: "truncate", FixFirstColumn: true}
	default:
		c.Colors = []Color{
			{ID: prefix + "-" + s.id + "-c1", Type: "scale", Hex: "#31C0F6", Name: "Nineteen Eighty Four", Value: "0"},
			{ID: prefix + "-" + s.id + "-c2", Type: "scale", Hex: "#A500A5", Name: "Nineteen Eighty Four", Value: "0"},
			{ID: prefix + "-" + s.id + "-c3", Type: "scale", Hex: "#FF7E27", Name: "Nineteen Eighty Four", Value: "0"},
		}
	}
	return c
}

func hostTemplate(id, measurement string) Template {
	return Template{
		ID: id, TempVar: ":host:", Type: "tagValues", Label: "Host", Values: []TemplateValue{},
		Query: TemplateQuery{InfluxQL: "SHOW TAG VALUES ON :database: FROM :measurement: WITH KEY=:tagKey:", DB: "metrics_from_pau", Measurement: measurement, TagKey: "host"},
	}
}

func servers() Dashboard {
	host := `WHERE time > :dashboardTime: AND "host" = :host:`
	return Dashboard{
		ID: 900101, Name: "Green Campus - servers", Organization: "default",
		Templates: []Template{hostTemplate("pi-servers-host", "powerstat_package")},
		Cells: layout("pi-servers",
			[]spec{
				{id: "package", name: "Package power per package, with TDP (Figure 10)", kind: "line", w: 8, unit: "W", digits: 1, queries: []string{
					`SELECT mean("current_power_consumption_watts") AS "package W" ` + from + `"powerstat_package" ` + host + ` GROUP BY time(:interval:), "package_id" FILL(null)`,
					`SELECT mean("thermal_design_power_watts") AS "TDP W" ` + from + `"powerstat_package" ` + host + ` GROUP BY time(:interval:), "package_id" FILL(null)`}},
				{id: "host-now", name: "Whole host now", kind: "single-stat", w: 4, unit: " W", digits: 1, queries: []string{
					`SELECT last("power_watts") AS "W" ` + from + `"power_host" ` + host}},
			},
			[]spec{
				{id: "dram", name: "DRAM power per package (Figure 11)", kind: "line", w: 8, unit: "W", digits: 1, queries: []string{
					`SELECT mean("current_dram_power_consumption_watts") AS "DRAM W" ` + from + `"powerstat_package" ` + host + ` GROUP BY time(:interval:), "package_id" FILL(null)`}},
				{id: "tdp", name: "TDP per package (reference)", kind: "table", w: 4, unit: "W", digits: 0, queries: []string{
					`SELECT last("thermal_design_power_watts") AS "TDP W" ` + from + `"powerstat_package" ` + host + ` GROUP BY "package_id"`}},
			},
			[]spec{
				{id: "hosts", name: "Host power, all hosts", kind: "line", w: 8, unit: "W", digits: 1, queries: []string{
					`SELECT mean("power_watts") AS "W" ` + from + `"power_host" WHERE time > :dashboardTime: GROUP BY time(:interval:), "host" FILL(null)`}},
				{id: "sources", name: "Where the numbers come from", kind: "table", w: 4, unit: "W", digits: 1, queries: []string{
					`SELECT last("power_watts") AS "W" ` + from + `"power_host" WHERE time > :dashboardTime: GROUP BY "host", "source", "model"`}},
			},
			[]spec{
				{id: "cpu", name: "CPU usage, all CPUs", kind: "line", w: 6, unit: "%", digits: 1, queries: []string{
					`SELECT mean("usage_user") AS "user", mean("usage_system") AS "system", mean("usage_iowait") AS "iowait", mean("usage_steal") AS "steal" ` + from + `"cpu" ` + host + ` AND "cpu" = 'cpu-total' GROUP BY time(:interval:) FILL(null)`}},
				{id: "net", name: "Network throughput", kind: "line", w: 6, unit: "bit/s", digits: 0, queries: []string{
					`SELECT non_negative_derivative(max("bytes_recv"), 1s) * 8 AS "received", non_negative_derivative(max("bytes_sent"), 1s) * 8 AS "sent" ` + from + `"net" ` + host + ` GROUP BY time(:interval:), "interface" FILL(null)`}},
			},
			[]spec{
				{id: "about", name: "About these numbers", kind: "note", w: 12, note: "Power is the average over each interval between two gathers. " +
					"**source** says where it comes from: `rapl` is measured by the CPU's RAPL energy counters on this machine; " +
					"`vm` is a counter the hypervisor gives a guest; `model` is an **estimate** from CPU utilisation (tag `model`: `tdp_curve` or `vcpu`). " +
					"Host power is the packages plus DRAM. TDP is the package's long-term power limit, a reference, not a measurement."}},
		),
	}
}

// words of the everyday dashboards, in one language.
type everyday struct {
	id                                           int
	prefix, name, rightNow, overRange, all       string
	led, macs, tvs, ps5, phones, ebike, kwh, co2 string
	perHost, aboutName, about                    string
}

func everydayDashboard(w everyday) Dashboard {
	host := `WHERE time > :dashboardTime: AND "host" = :host:`
	ph := from + `"power_host" `
	stat := func(id, name, q string, digits int) spec {
		return spec{id: id, name: name, kind: "single-stat", w: 3, digits: digits, queries: []string{q}}
	}
	// "Right now": the last interval. Over the range: energy metaphors sum.
	lastOf := func(f string) string { return `SELECT last("` + f + `") AS "` + f + `" ` + ph + host }
	sumOf := func(f string) string { return `SELECT sum("` + f + `") AS "` + f + `" ` + ph + host }
	allNow := func(f string) string {
		return `SELECT sum("n") AS "` + f + `" FROM (SELECT last("` + f + `") AS "n" ` + ph + `WHERE time > :dashboardTime: GROUP BY "host")`
	}
	allSum := func(f string) string {
		return `SELECT sum("` + f + `") AS "` + f + `" ` + ph + `WHERE time > :dashboardTime:`
	}
	return Dashboard{
		ID: w.id, Name: w.name, Organization: "default",
		Templates: []Template{hostTemplate(w.prefix+"-host", "power_host")},
		Cells: layout(w.prefix,
			[]spec{
				stat("led", w.rightNow+": "+w.led, lastOf("led_bulbs"), 1),
				stat("macs", w.rightNow+": "+w.macs, lastOf("mac_pros_idle"), 1),
				stat("tvs", w.rightNow+": "+w.tvs, lastOf("tvs_19in"), 1),
				stat("ps5", w.rightNow+": "+w.ps5, lastOf("ps5s_menu"), 1),
			},
			[]spec{
				stat("phones", w.overRange+": "+w.phones, sumOf("smartphone_charges"), 1),
				stat("ebike", w.overRange+": "+w.ebike, sumOf("ebike_km"), 1),
				stat("kwh", w.overRange+": "+w.kwh, `SELECT sum("energy_joules") / 3600000 AS "kWh" `+ph+host, 3),
				stat("co2", w.overRange+": "+w.co2, sumOf("co2_grams"), 0),
			},
			[]spec{
				stat("all-led", w.all+", "+strings.ToLower(w.rightNow)+": "+w.led, allNow("led_bulbs"), 1),
				stat("all-phones", w.all+", "+strings.ToLower(w.overRange)+": "+w.phones, allSum("smartphone_charges"), 1),
				stat("all-ebike", w.all+", "+strings.ToLower(w.overRange)+": "+w.ebike, allSum("ebike_km"), 1),
				stat("all-kwh", w.all+", "+strings.ToLower(w.overRange)+": "+w.kwh, `SELECT sum("energy_joules") / 3600000 AS "kWh" `+ph+`WHERE time > :dashboardTime:`, 3),
			},
			[]spec{
				{id: "led-hosts", name: w.perHost, kind: "line", w: 12, unit: w.led, digits: 1, queries: []string{
					`SELECT mean("led_bulbs") AS "led_bulbs" ` + ph + `WHERE time > :dashboardTime: GROUP BY time(:interval:), "host" FILL(null)`}},
			},
			[]spec{{id: "about", name: w.aboutName, kind: "note", w: 12, note: w.about}},
		),
	}
}

func everydayEN() Dashboard {
	return everydayDashboard(everyday{
		id: 900102, prefix: "pi-everyday-en", name: "Green Campus - in everyday terms",
		rightNow: "Right now", overRange: "Over the range", all: "All hosts",
		led: "LED bulbs", macs: "idle Mac Pros", tvs: "19-inch TVs", ps5: "PS5s on the menu",
		phones: "smartphone charges", ebike: "e-bike km", kwh: "kWh", co2: "g of CO2",
		perHost: "LED bulbs lit by each host", aboutName: "What the comparisons mean",
		about: "**Right now** (last interval) counts things drawing the same power: LED bulb 9 W (silamp.fr); " +
			"idle Mac Pro, late 2013, 43 W (support.apple.com HT201796); 19-inch TV 25 W (acheter-tv.fr); " +
			"PS5 on its home menu 47 W, 1.3 W in standby (monpetitforfait.com).\n\n" +
			"**Over the range** adds up the energy used in the time range chosen above: a full charge of a Galaxy S4 " +
			"battery is 10 Wh (desideespourchangerlemonde.wordpress.com); an e-bike uses 72 Wh per 100 km " +
			"(abicyclettepaulette.fr). CO2 uses the grid carbon intensity set in powerinput, an average, not a measurement.\n\n" +
			"Where a host has no power meter its numbers are an estimate (see the virtual machines dashboard).",
	})
}

func everydayFR() Dashboard {
	return everydayDashboard(everyday{
		id: 900103, prefix: "pi-everyday-fr", name: "Green Campus - en termes de tous les jours",
		rightNow: "En ce moment", overRange: "Sur la période", all: "Tous les serveurs",
		led: "ampoules LED", macs: "Mac Pro au repos", tvs: "téléviseurs 19 pouces", ps5: "PS5 sur le menu",
		phones: "recharges de smartphone", ebike: "km en vélo électrique", kwh: "kWh", co2: "g de CO2",
		perHost: "Ampoules LED allumées par chaque serveur", aboutName: "Ce que veulent dire les comparaisons",
		about: "**En ce moment** (dernier intervalle) compte des objets qui consomment la même puissance : ampoule LED 9 W (silamp.fr) ; " +
			"Mac Pro fin 2013 au repos 43 W (support.apple.com HT201796) ; téléviseur 19 pouces 25 W (acheter-tv.fr) ; " +
			"PS5 sur son menu d'accueil 47 W, 1,3 W en veille (monpetitforfait.com).\n\n" +
			"**Sur la période** additionne l'énergie consommée pendant la période choisie en haut : une recharge complète " +
			"d'une batterie de Galaxy S4 vaut 10 Wh (desideespourchangerlemonde.wordpress.com) ; un vélo électrique consomme " +
			"72 Wh aux 100 km (abicyclettepaulette.fr). Le CO2 utilise l'intensité carbone du réseau réglée dans powerinput, " +
			"une moyenne et non une mesure.\n\n" +
			"Quand un serveur n'a pas de compteur, ses chiffres sont une estimation (voir le tableau des machines virtuelles).",
	})
}

func vms() Dashboard {
	ph := from + `"power_host" `
	notRAPL := `WHERE time > :dashboardTime: AND "source" != 'rapl'`
	sel := `WHERE time > :dashboardTime: AND "host" = ':host:'`
	return Dashboard{
		ID: 900104, Name: "Green Campus - virtual machines and estimates", Organization: "default",
		Templates: []Template{{
			ID: "pi-vms-host", TempVar: ":host:", Type: "influxql", Label: "VM or estimated host", Values: []TemplateValue{},
			Query: TemplateQuery{InfluxQL: `SHOW TAG VALUES ON "metrics_from_pau" FROM "power_host" WITH KEY = "host" WHERE "source" != 'rapl'`, DB: "metrics_from_pau", Measurement: "power_host", TagKey: "host"},
		}},
		Cells: layout("pi-vms",
			[]spec{
				{id: "power", name: "Power of hosts not measured by RAPL", kind: "line", w: 8, unit: "W", digits: 2, queries: []string{
					`SELECT mean("power_watts") AS "W" ` + ph + notRAPL + ` GROUP BY time(:interval:), "host", "source", "model" FILL(null)`}},
				{id: "sources", name: "Where each number comes from", kind: "table", w: 4, unit: "W", digits: 2, queries: []string{
					`SELECT last("power_watts") AS "W" ` + ph + notRAPL + ` GROUP BY "host", "source", "model"`}},
			},
			[]spec{
				{id: "selected", name: "Selected host: power and its source", kind: "line", w: 8, unit: "W", digits: 2, queries: []string{
					`SELECT mean("power_watts") AS "W" ` + ph + sel + ` GROUP BY time(:interval:), "source", "model" FILL(null)`}},
				{id: "energy", name: "Selected host: energy over the range", kind: "single-stat", w: 4, unit: " Wh", digits: 2, queries: []string{
					`SELECT sum("energy_joules") / 3600 AS "Wh" ` + ph + sel}},
			},
			[]spec{
				{id: "cpu", name: "Selected host: CPU usage (drives the model)", kind: "line", w: 12, unit: "%", digits: 1, queries: []string{
					`SELECT mean("usage_user") AS "user", mean("usage_system") AS "system", mean("usage_steal") AS "steal" ` + from + `"cpu" ` + sel + ` AND "cpu" = 'cpu-total' GROUP BY time(:interval:) FILL(null)`}},
			},
			[]spec{{id: "about", name: "About estimates", kind: "note", w: 12, note: "Virtual machines have no RAPL counters. " +
				"`source = vm`: the hypervisor gives the guest a counter of its share of the host's energy (Scaphandre's qemu exporter layout). " +
				"`source = model` is an **estimate** from CPU utilisation: `tdp_curve` scales the CPU's TDP by a SPECpower-derived curve, " +
				"`vcpu` uses Cloud Carbon Footprint's average of 0.74 W to 3.5 W per vCPU. Such estimates can be off by tens of percent, " +
				"by more for a single VM: read them as orders of magnitude, never as measurements."}},
		),
	}
}

// dashboards maps each committed file to its dashboard.
func dashboards() map[string]Dashboard {
	return map[string]Dashboard{
		"servers.dashboard":     servers(),
		"everyday-en.dashboard": everydayEN(),
		"everyday-fr.dashboard": everydayFR(),
		"vms.dashboard":         vms(),
	}
}

func render(d Dashboard) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func TestDashboardsUpToDate(t *testing.T) {
	for file, d := range dashboards() {
		want := render(d)
		if *update {
			if err := os.WriteFile(file, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (go test ./chronograf -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator; run go test ./chronograf -update", file)
		}
	}
}
