package dashboards

// notRAPL keeps the hosts whose numbers come from the hypervisor or from
// a model: the virtual machines and the estimates.
const notRAPL = `"source" != 'rapl' AND "source" != 'msr'`

// VMs is the view of the hosts not measured by RAPL, saying where each
// number comes from.
func VMs() Dashboard {
	ph := "power_host"
	host := []string{during, onHost}
	others := []string{during, notRAPL}
	return Dashboard{
		ID: 900104, Name: "Green Campus - virtual machines and estimates", Organization: "default",
		Templates: []Template{hostTemplate("pi-vms-host", "VM or estimated host", ph, notRAPL)},
		Cells: layout("pi-vms",
			row(
				graph("power", "Hosts not measured by RAPL: power", 8, "W", "W",
					simple(ph, []sel{{"mean", "power_watts", "power"}}, others, true, "host", "source")),
				table("sources", "Hosts not measured by RAPL: where the numbers come from", 4, "W",
					simple(ph, []sel{{"last", "power_watts", "W"}}, others, false, "host", "source", "model"),
					col("host", "Host"),
					col("source", "Source"),
					col("model", "Estimate"),
					col("power_host.W", "Last W")),
			),
			row(
				graph("selected", ":host: power, by source", 8, "W", "W",
					simple(ph, []sel{{"mean", "power_watts", "power"}}, host, true, "source")),
				stat("energy", ":host: energy over the range", 4, "Wh", "Wh",
					`SELECT sum("energy_joules") / 3600 AS "Wh" `+from(ph)+" "+where(host...)).
					withNote("The energy used over the time range chosen at the top right, in watt-hours."),
			),
			row(
				graph("cpu", ":host: CPU usage (what the model reads)", 12, "%", "%",
					simple("cpu", []sel{
						{"mean", "usage_user", "user"},
						{"mean", "usage_system", "system"},
						{"mean", "usage_steal", "steal"},
					}, []string{during, onHost, `"cpu" = 'cpu-total'`}, true)),
			),
			row(note("about", "About estimates",
				"Choose the host under **Variables**, at the top right. Virtual machines have no RAPL counters of their own.\n\n"+
					"- **Source `vm`**: the hypervisor gives the guest a counter of its share of the host's energy (powerinput's hypervisor mode, or Scaphandre's qemu exporter). A measurement, shared out.\n"+
					"- **Source `model`**: an **estimate** from CPU use. Estimate `tdp_curve` scales the CPU's TDP by a curve derived from SPECpower results; "+
					"`vcpu` uses Cloud Carbon Footprint's averages, 0.74 W to 3.5 W per virtual CPU.\n\n"+
					"Such estimates can be off by tens of percent, and by more for a single virtual machine: read them as orders of magnitude, never as measurements.")),
		),
	}
}
