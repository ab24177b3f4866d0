package dashboards

// Servers is the engineers' view of one host: package and DRAM power per
// CPU package (the lab's Figures 10 and 11), the whole host, the parts
// measured beside the wall socket and the GPUs, CPU and network, and where
// each host's numbers come from.
func Servers() Dashboard {
	host := []string{during, onHost}
	all := []string{during}
	// Legends sort series by name: Package before TDP.
	pkgW := sel{"mean", "current_power_consumption_watts", "Package"}
	tdp := sel{"mean", "thermal_design_power_watts", "TDP"}
	dram := sel{"mean", "current_dram_power_consumption_watts", "DRAM"}
	return Dashboard{
		ID: 900101, Name: "Green Campus - servers", Organization: "default",
		Templates: []Template{hostTemplate("pi-servers-host", "Host", "powerstat_package", "")},
		Cells: layout("pi-servers",
			row(
				graph("package", ":host: package power per package, with TDP (Figure 10)", 8, "W", "W",
					perPackage([]sel{pkgW}, host, true),
					perPackage([]sel{tdp}, host, true)).
					// Two packages (the lab's servers): their power in cyan and
					// green, the TDP lines in grey, so that their fills read as
					// a background.
					withColors("#31C0F6", "#7CE490", "#8E91A1", "#8E91A1"),
				stat("host-now", ":host: whole host, last interval", 4, "W", "W",
					simple("power_host", []sel{{"last", "power_watts", "W"}}, host, false)).
					withNote("Packages plus DRAM, and the GPUs, averaged over the last interval measured."),
			),
			row(
				graph("dram", ":host: DRAM power per package (Figure 11)", 8, "W", "W",
					perPackage([]sel{dram}, host, true)),
				table("packages", ":host: per package, last interval", 4, "W",
					perPackage([]sel{
						{"last", "current_power_consumption_watts", "Package"},
						{"last", "current_dram_power_consumption_watts", "DRAM"},
						{"last", "thermal_design_power_watts", "TDP"},
					}, host, false),
					col("package_id", "Package"),
					col("powerstat_package.Package", "Package W"),
					col("powerstat_package.DRAM", "DRAM W"),
					col("powerstat_package.TDP", "TDP W")).
					withNote("A package's dies, if its CPU has several, are added up."),
			),
			row(
				graph("hosts", "All hosts: power", 8, "W", "W",
					simple("power_host", []sel{{"mean", "power_watts", "power"}}, all, true, "host")),
				table("sources", "All hosts: where the numbers come from", 4, "W",
					simple("power_host", []sel{{"last", "power_watts", "W"}}, all, false, "host", "source", "model"),
					col("host", "Host"),
					col("source", "Source"),
					col("model", "Estimate"),
					col("power_host.W", "Last W")),
			),
			row(
				// RAPL beside the wall, in one query: power_host carries both
				// where the host has a wall sensor.
				graph("wall", ":host: measured part by part, beside the wall socket", 5, "W", "W",
					simple("power_host", []sel{
						{"mean", "power_watts", "CPUs, memory and GPUs"},
						{"mean", "wall_watts", "wall socket"},
					}, host, true)).
					withNote("The CPU packages, their memory and the GPUs, measured by their own counters, beside the whole machine at the wall socket "+
						"(the server's power meter): the difference is the fans, disks, network cards and the power supply's loss."),
				graph("gpu", ":host: GPU power, per GPU", 4, "W", "W",
					simple("power_gpu", []sel{{"mean", "power_watts", "GPU"}}, host, true, "gpu")),
				stat("coverage", ":host: share of the wall measured", 3, "%", "%",
					`SELECT last("coverage") * 100 AS "coverage" `+from("power_host")+" "+where(host...)).
					withNote("How much of the wall socket's power the CPUs, memory and GPUs account for, over the last interval where all were measured."),
			),
			row(
				graph("cpu", ":host: CPU usage, all CPUs", 6, "%", "%",
					simple("cpu", []sel{
						{"mean", "usage_user", "user"},
						{"mean", "usage_system", "system"},
						{"mean", "usage_iowait", "iowait"},
						{"mean", "usage_steal", "steal"},
					}, []string{during, onHost, `"cpu" = 'cpu-total'`}, true)),
				graph("net", ":host: network throughput", 6, "bit/s", "bit/s",
					`SELECT non_negative_derivative(max("bytes_recv"), 1s) * 8 AS "received", non_negative_derivative(max("bytes_sent"), 1s) * 8 AS "sent" `+
						from("net")+" "+where(host...)+groupBy(true, "interface")),
			),
			row(note("about", "About these numbers",
				"Choose the host under **Variables**, at the top right.\n\n"+
					"- Power is the average over each interval between two measurements, in watts (W).\n"+
					"- **Source** says where a number comes from: `rapl` is measured by the CPU's own energy counters (RAPL) on that machine, "+
					"`msr` by the same counters read directly; "+
					"`vm` is a counter the hypervisor gives a virtual machine; `model` is an **estimate** from CPU use "+
					"(Estimate: `tdp_curve` from the CPU's TDP, `vcpu` from the number of virtual CPUs).\n"+
					"- Host power is the CPU packages plus their DRAM, plus the GPUs. TDP is a package's long-term power limit: a reference, not a measurement.\n"+
					"- The wall socket is the whole machine, as the server's own power meter sees it; RAPL sees only the CPUs and their memory, "+
					"so the two differ by the fans, disks, network cards and the power supply's loss. Hosts without a power meter or a GPU leave those cells empty.\n"+
					"- A CPU made of several dies is shown as one package: its dies are added up.")),
		),
	}
}
