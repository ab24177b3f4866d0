package main

import (
	"fmt"
	"io"
)

// part is a workload of a hypervisor and its share of the busy CPU time.
type part struct {
	name, kind string
	share      float64
}

var (
	services = []part{{"qemu-web-01", "vm", 0.30}, {"postgresql.service", "service", 0.18}, {"nginx.service", "service", 0.12},
		{"3f4e5a6b7c8d", "container", 0.10}, {"8f14e45f-ceea-467f-9d6b-3d2a1c0b9e8d", "pod", 0.08}, {"user-1000.slice", "user", 0.04},
		{"other", "other", 0.08}, {"unattributed", "unattributed", 0.10}}
	programs = []part{{"qemu-system-x86", "program", 0.32}, {"postgres", "program", 0.20}, {"nginx", "program", 0.12},
		{"python3", "program", 0.10}, {"java", "program", 0.08}, {"kworker", "kernel", 0.03}, {"sshd", "program", 0.01},
		{"other", "other", 0.06}, {"unattributed", "unattributed", 0.08}}
)

// writeApps writes the hypervisors' power_service and power_process: the
// interval's energy divided by CPU time, busy share u of the capacity
// among the parts, the rest unused capacity, as powerinput writes them.
func writeApps(w io.Writer, h host, u, total, dt float64, ts int64) {
	if h.source != "rapl" {
		return
	}
	for _, m := range []struct {
		measurement, tag string
		parts            []part
	}{{"power_service", "unit", services}, {"power_process", "process", programs}} {
		cpus := 2 * float64(len(h.packages)) * 8 // CPU seconds of capacity per second
		emit := func(name, kind string, share float64) {
			watts := total * share
			joules := watts * dt
			fields := fmt.Sprintf("power_watts=%s,energy_joules=%s,cpu_seconds=%s,co2_grams=%s",
				num(watts), num(joules), num(share*cpus*dt), num(joules/3.6e6*carbon))
			fields += metaphorFields(watts, joules)
			fmt.Fprintf(w, "%s,host=%s,%s=%s,kind=%s %s %d\n", m.measurement, h.name, m.tag, name, kind, fields, ts)
		}
		for _, p := range m.parts {
			emit(p.name, p.kind, u*p.share)
		}
		emit("unused_capacity", "unused_capacity", 1-u)
	}
}
