// Command seed writes line protocol that looks like what powerinput and
// Telegraf store for the lab: two hypervisors measured by RAPL (kvm-0 and
// kvm-1, two packages with DRAM each), a guest with a counter from the
// hypervisor (vm-1, source=vm) and a guest with nothing but the per-vCPU
// estimate (vm-2, source=model, model=vcpu), with cpu and net points for
// each. kvm-0 also has a GPU (power_gpu) and a power meter at the wall
// (power_platform, and the wall beside the parts in power_host, which
// counts its metaphors), and the hypervisors' services and programs
// (power_service, power_process). old-0, a plain server, stopped sending
// 20 minutes before the end (a machine switched off). It is for looking at the dashboards in
// a real Chronograf: write it to a file, load it into an InfluxDB database metrics_from_pau (retention
// policy forever) and open the dashboards, for example
//
//	go run ./chronograf/seed -minutes 60 > /tmp/seed.lp
//	curl -XPOST 'http://127.0.0.1:8086/write?db=metrics_from_pau&rp=forever' --data-binary @/tmp/seed.lp
//
// kvm-0 is also a hypervisor: its power_host is divided over its VMs
// greenit and web, _hypervisor and _unused in power_vm.
//
// The newest point is at -end (now by default), one point per -step.
//
// -dies 2 splits each of kvm-1's packages into two dies (a die tag, one
// point per die, as multi-die CPUs may soon be written), so the dashboards'
// sums over dies can be checked: kvm-1 must then look exactly as with -dies 1.
// The output is the same for the same flags, except for -end.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/greencampus/powerinput/internal/metaphor"
)

// carbon is the intensity the lab configures (g CO2 per kWh).
const carbon = 56.0

type pkg struct {
	base, swing, dram, tdp float64
}

type host struct {
	name, source, model string
	packages            []pkg
	vcpus               int     // model=vcpu only
	load                float64 // mean CPU utilisation, 0..1
	phase               float64
	netRate             float64 // bytes/s received, about
	// gpuIdle and gpuSwing: a GPU's power at rest and its rise with load;
	// none where gpuSwing is 0.
	gpuIdle, gpuSwing float64
	// wallRest: what the wall sees beyond the parts (fans, disks, network
	// cards), before the power supply's loss; no power meter where 0.
	wallRest float64
	// silent: how long before the end the host stopped sending (a server
	// switched off or unplugged from the network); 0 for one still sending.
	silent time.Duration
}

// psuEfficiency: a power supply at moderate load loses about 8 %.
const psuEfficiency = 0.92

var hosts = []host{
	{name: "kvm-0", source: "rapl", load: 0.45, phase: 0, netRate: 4e6, gpuIdle: 22, gpuSwing: 110, wallRest: 48, packages: []pkg{
		{base: 38, swing: 45, dram: 5.5, tdp: 125},
		{base: 32, swing: 40, dram: 4.5, tdp: 125},
	}},
	{name: "kvm-1", source: "rapl", load: 0.25, phase: 2, netRate: 1.5e6, packages: []pkg{
		{base: 24, swing: 30, dram: 3.5, tdp: 105},
		{base: 21, swing: 28, dram: 3, tdp: 105},
	}},
	{name: "vm-1", source: "vm", load: 0.35, phase: 1, netRate: 2e5, packages: []pkg{{base: 6, swing: 12}}},
	{name: "vm-2", source: "model", model: "vcpu", vcpus: 2, load: 0.3, phase: 4, netRate: 5e4},
	// A server switched off 20 minutes ago: "right now" must not show it.
	{name: "old-0", source: "rapl", load: 0.2, phase: 3, netRate: 1e5, silent: 20 * time.Minute, packages: []pkg{
		{base: 18, swing: 20, dram: 2.5, tdp: 85},
	}},
}

func main() {
	minutes := flag.Int("minutes", 30, "how many minutes of data")
	step := flag.Duration("step", 10*time.Second, "interval between gathers")
	dies := flag.Int("dies", 1, "dies per package on kvm-1 (more than 1 adds a die tag)")
	end := flag.Int64("end", time.Now().Truncate(time.Second).Unix(), "time of the last point, Unix seconds")
	out := flag.String("o", "-", "output file (- for stdout)")
	flag.Parse()
	if *step < time.Second || *minutes < 1 || *dies < 1 {
		fmt.Fprintln(os.Stderr, "seed: -step at least 1s, -minutes and -dies at least 1")
		os.Exit(2)
	}
	w := io.Writer(os.Stdout)
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "seed:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	write(bw, *minutes, *step, *dies, time.Unix(*end, 0))
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func write(w io.Writer, minutes int, step time.Duration, dies int, end time.Time) {
	n := int(time.Duration(minutes) * time.Minute / step)
	dt := step.Seconds()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, h := range hosts {
		var recv, sent int64 = 1 << 32, 1 << 30
		for i := 0; i <= n; i++ {
			at := end.Add(-time.Duration(n-i) * step)
			if h.silent > 0 && at.After(end.Add(-h.silent)) {
				break
			}
			ts := at.UnixNano()
			t := float64(i) * dt
			// A slow wave of work, a faster ripple and some noise.
			u := h.load * (1 + 0.6*math.Sin(t/420+h.phase) + 0.2*math.Sin(t/37+h.phase))
			u = clamp(u+0.04*rng.NormFloat64(), 0.02, 0.98)

			total := 0.0
			for id, p := range h.packages {
				watts := p.base + p.swing*u + 0.8*rng.NormFloat64()
				total += watts + p.dram
				d := dies
				if h.name != "kvm-1" {
					d = 1
				}
				for die := 0; die < d; die++ {
					tags := fmt.Sprintf(",package_id=%d", id)
					share := 1.0
					if d > 1 {
						tags += fmt.Sprintf(",die=%d", die)
						// Unequal shares (60/40 for two dies), so that a
						// query that picks one die instead of adding them shows.
						share = (1 + 0.2*float64(d-1-2*die)/float64(d-1)) / float64(d)
					}
					fields := fmt.Sprintf("current_power_consumption_watts=%s", num(watts*share))
					if p.dram > 0 {
						fields += ",current_dram_power_consumption_watts=" + num(p.dram*share)
					}
					if p.tdp > 0 {
						fields += ",thermal_design_power_watts=" + num(p.tdp*share)
					}
					fmt.Fprintf(w, "powerstat_package,host=%s%s,source=%s %s %d\n", h.name, tags, h.source, fields, ts)
				}
			}
			gpu := 0.0
			if h.gpuSwing > 0 {
				gpu = h.gpuIdle + h.gpuSwing*u*u + 1.5*rng.NormFloat64()
				total += gpu
				fmt.Fprintf(w, "power_gpu,host=%s,driver=xe,gpu=0,method=counter,source=hwmon power_watts=%s,energy_joules=%s,interval_seconds=%s %d\n",
					h.name, num(gpu), num(gpu*dt), num(dt), ts)
			}
			src := ",source=" + h.source
			if h.model != "" {
				// The per-vCPU estimate: vCPUs × (0.74 W + utilisation × 2.76 W).
				total = float64(h.vcpus) * (0.74 + u*(3.5-0.74))
				src += ",model=" + h.model
				fmt.Fprintf(w, "powerstat_package,host=%s,package_id=0%s current_power_consumption_watts=%s %d\n", h.name, src, num(total), ts)
			}
			joules := total * dt
			fields := fmt.Sprintf("power_watts=%s,energy_joules=%s,interval_seconds=%s", num(total), num(joules), num(dt))
			if h.gpuSwing > 0 {
				fields += ",gpu_watts=" + num(gpu)
			}
			// The metaphors count the wall where there is one (the
			// default metaphor_basis), else the parts.
			basis := total
			if h.wallRest > 0 {
				wall := (total + h.wallRest + 0.5*rng.NormFloat64()) / psuEfficiency
				fmt.Fprintf(w, "power_platform,host=%s,method=average,scope=wall,sensor=power_meter,source=hwmon power_watts=%s,energy_joules=%s,interval_seconds=%s %d\n",
					h.name, num(wall), num(wall*dt), num(dt), ts)
				fields += fmt.Sprintf(",wall_watts=%s,wall_joules=%s,coverage=%s", num(wall), num(wall*dt), num(total/wall))
				basis = wall
				src += ",basis=wall"
			}
			bj := basis * dt
			fields += ",co2_grams=" + num(bj/3.6e6*carbon)
			// The metaphors as powerinput computes them: power over watts,
			// the interval's energy over watt-hours.
			fields += metaphorFields(basis, bj)
			fmt.Fprintf(w, "power_host,host=%s%s %s %d\n", h.name, src, fields, ts)
			if h.name == hypervisor {
				writeVMs(w, h, total, dt, u, ts)
			}
			writeApps(w, h, u, total, dt, ts)

			user := 100 * u * 0.8
			system := 100 * u * 0.15
			iowait := 100 * u * 0.03
			steal := 0.0
			if h.source != "rapl" {
				steal = 100 * u * 0.02
			}
			idle := 100 - user - system - iowait - steal
			fmt.Fprintf(w, "cpu,host=%s,cpu=cpu-total usage_user=%s,usage_system=%s,usage_idle=%s,usage_nice=0,usage_iowait=%s,usage_irq=0,usage_softirq=0.1,usage_steal=%s,usage_guest=0,usage_guest_nice=0 %d\n",
				h.name, num(user), num(system), num(idle), num(iowait), num(steal), ts)

			recv += int64(h.netRate * dt * (0.5 + u))
			sent += int64(h.netRate * dt * 0.3 * (0.5 + u))
			fmt.Fprintf(w, "net,host=%s,interface=eth0 bytes_sent=%di,bytes_recv=%di,packets_sent=%di,packets_recv=%di,err_in=0i,err_out=0i,drop_in=0i,drop_out=0i,speed=10000i %d\n",
				h.name, sent, recv, sent/900, recv/1200, ts)
		}
	}
}

// metaphorFields are the default metaphors as powerinput writes them:
// power over watts, the interval's energy over watt-hours.
func metaphorFields(watts, joules float64) string {
	out := ""
	for _, m := range metaphor.Defaults() {
		v, unit := m.Unit()
		n := watts / v
		if unit == "Wh" {
			n = joules / 3600 / v
		}
		out += "," + m.Field + "=" + num(n)
	}
	return out
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// num writes a float with at most 4 decimals, never in exponent form.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64) }
