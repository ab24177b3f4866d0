package main

import (
	"fmt"
	"io"
)

// hypervisor is the host whose energy is divided over VMs.
const hypervisor = "kvm-0"

// seedVMs are kvm-0's VMs: vCPUs, and the share of the host's 32 CPUs each
// uses at a utilisation u of 1.
var seedVMs = []struct {
	domain string
	vcpus  int
	cpu    float64
}{
	{"greenit", 2, 0.05},
	{"web", 4, 0.12},
	{"_hypervisor", 0, 0.04},
}

// writeVMs writes the power_vm points of one interval of the hypervisor:
// its total divided by CPU time over capacity, the rest as _unused.
func writeVMs(w io.Writer, h host, total, dt, u float64, ts int64) {
	const cpus = 32.0
	used := 0.0
	for _, v := range seedVMs {
		share := v.cpu * u
		used += share
		more := ""
		if v.vcpus > 0 {
			more = fmt.Sprintf(",vcpus=%di", v.vcpus)
		}
		vmPoint(w, h, v.domain, total*share, dt, share*cpus*dt, more, ts)
	}
	vmPoint(w, h, "_unused", total*(1-used), dt, (1-used)*cpus*dt, "", ts)
}

func vmPoint(w io.Writer, h host, domain string, watts, dt, cpuSeconds float64, more string, ts int64) {
	joules := watts * dt
	fields := fmt.Sprintf("power_watts=%s,energy_joules=%s,interval_seconds=%s,cpu_seconds=%s,co2_grams=%s%s",
		num(watts), num(joules), num(dt), num(cpuSeconds), num(joules/3.6e6*carbon), more)
	fields += metaphorFields(watts, joules)
	fmt.Fprintf(w, "power_vm,host=%s,domain=%s,source=%s %s %d\n", h.name, domain, h.source, fields, ts)
}
