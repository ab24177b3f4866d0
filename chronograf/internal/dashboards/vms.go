package dashboards

// VMs: the hosts not measured by RAPL, and where their numbers come from.
func VMs() Dashboard {
	ph := from("power_host") + ` `
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
					`SELECT mean("usage_user") AS "user", mean("usage_system") AS "system", mean("usage_steal") AS "steal" ` + from("cpu") + ` ` + sel + ` AND "cpu" = 'cpu-total' GROUP BY time(:interval:) FILL(null)`}},
			},
			[]spec{{id: "about", name: "About estimates", kind: "note", w: 12, note: "Virtual machines have no RAPL counters. " +
				"`source = vm`: the hypervisor gives the guest a counter of its share of the host's energy (Scaphandre's qemu exporter layout). " +
				"`source = model` is an **estimate** from CPU utilisation: `tdp_curve` scales the CPU's TDP by a SPECpower-derived curve, " +
				"`vcpu` uses Cloud Carbon Footprint's average of 0.74 W to 3.5 W per vCPU. Such estimates can be off by tens of percent, " +
				"by more for a single VM: read them as orders of magnitude, never as measurements."}},
		),
	}
}
