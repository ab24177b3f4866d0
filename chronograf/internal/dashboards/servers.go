package dashboards

// Servers: package, DRAM and host power, CPU and network of one host.
func Servers() Dashboard {
	host := `WHERE time > :dashboardTime: AND "host" = :host:`
	// powerstat_package adds up the dies of each package (perPackage).
	pkgHost := []string{during, `"host" = :host:`}
	return Dashboard{
		ID: 900101, Name: "Green Campus - servers", Organization: "default",
		Templates: []Template{hostTemplate("pi-servers-host", "powerstat_package")},
		Cells: layout("pi-servers",
			[]spec{
				{id: "package", name: "Package power per package, with TDP (Figure 10)", kind: "line", w: 8, unit: "W", digits: 1, queries: []string{
					perPackage([]sel{{"mean", "current_power_consumption_watts", "package W"}}, pkgHost, true),
					perPackage([]sel{{"mean", "thermal_design_power_watts", "TDP W"}}, pkgHost, true)}},
				{id: "host-now", name: "Whole host now", kind: "single-stat", w: 4, unit: " W", digits: 1, queries: []string{
					`SELECT last("power_watts") AS "W" ` + from("power_host") + ` ` + host}},
			},
			[]spec{
				{id: "dram", name: "DRAM power per package (Figure 11)", kind: "line", w: 8, unit: "W", digits: 1, queries: []string{
					perPackage([]sel{{"mean", "current_dram_power_consumption_watts", "DRAM W"}}, pkgHost, true)}},
				{id: "tdp", name: "TDP per package (reference)", kind: "table", w: 4, unit: "W", digits: 0, queries: []string{
					perPackage([]sel{{"last", "thermal_design_power_watts", "TDP W"}}, pkgHost, false)}},
			},
			[]spec{
				{id: "hosts", name: "Host power, all hosts", kind: "line", w: 8, unit: "W", digits: 1, queries: []string{
					`SELECT mean("power_watts") AS "W" ` + from("power_host") + ` WHERE time > :dashboardTime: GROUP BY time(:interval:), "host" FILL(null)`}},
				{id: "sources", name: "Where the numbers come from", kind: "table", w: 4, unit: "W", digits: 1, queries: []string{
					`SELECT last("power_watts") AS "W" ` + from("power_host") + ` WHERE time > :dashboardTime: GROUP BY "host", "source", "model"`}},
			},
			[]spec{
				{id: "cpu", name: "CPU usage, all CPUs", kind: "line", w: 6, unit: "%", digits: 1, queries: []string{
					`SELECT mean("usage_user") AS "user", mean("usage_system") AS "system", mean("usage_iowait") AS "iowait", mean("usage_steal") AS "steal" ` + from("cpu") + ` ` + host + ` AND "cpu" = 'cpu-total' GROUP BY time(:interval:) FILL(null)`}},
				{id: "net", name: "Network throughput", kind: "line", w: 6, unit: "bit/s", digits: 0, queries: []string{
					`SELECT non_negative_derivative(max("bytes_recv"), 1s) * 8 AS "received", non_negative_derivative(max("bytes_sent"), 1s) * 8 AS "sent" ` + from("net") + ` ` + host + ` GROUP BY time(:interval:), "interface" FILL(null)`}},
			},
			[]spec{
				{id: "about", name: "About these numbers", kind: "note", w: 12, note: "Power is the average over each interval between two gathers. " +
					"**source** says where it comes from: `rapl` is measured by the CPU's RAPL energy counters on this machine; " +
					"`vm` is a counter the hypervisor gives a guest; `model` is an **estimate** from CPU utilisation (tag `model`: `tdp_curve` or `vcpu`). " +
					"Host power is the packages plus DRAM. TDP is the package's long-term power limit, a reference, not a measurement."}},
		),
	}
}
