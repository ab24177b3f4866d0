package powerinput

import (
	"fmt"
	"io"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/sensors"
	"github.com/greencampus/powerinput/internal/source/vm"
)

// Doctor exit codes, so scripts can tell.
const (
	DoctorMeasured  = 0 // a measuring source (rapl, msr or vm) works
	DoctorModelOnly = 1 // only the estimate is left
	DoctorNothing   = 2 // no source works
)

// Doctor says, for each configured source in order, whether it works here
// and, if not, why and how to fix it; then which one powerinput will use.
func (p *PowerInput) Doctor(w io.Writer) int {
	fmt.Fprintf(w, "powerinput doctor: host_sys=%s host_proc=%s host_dev=%s vm_powercap_path=%s\n", p.HostSys, p.HostProc, p.HostDev, p.VMPowercapPath)
	chosen, estimate := "", false
	for _, s := range p.power.chain.Sources {
		if err := s.Probe(p.power.chain.Deadline()); err != nil {
			if s.Name() == vm.Name && p.VMs {
				// Its fix is for a guest: this host writes the counters.
				fmt.Fprintf(w, "%-6s not used here: the vm source is for a guest, which reads the counter its hypervisor writes; this host is a hypervisor (vms = true) and does not need it\n", s.Name())
				continue
			}
			why, fix := s.Explain(err)
			fmt.Fprintf(w, "%-6s unavailable: %s\n%-6s fix: %s\n", s.Name(), why, "", fix)
			continue
		}
		describe := s.Describe()
		if s.Name() == vm.Name {
			line, works := p.guestLine()
			if !works {
				fmt.Fprintln(w, line)
				continue
			}
			describe += "; " + line
		}
		fmt.Fprintf(w, "%-6s works: %s\n", s.Name(), describe)
		if g, ok := s.(interface{ Bound() energy.Power }); ok && s.Name() == vm.Name {
			fmt.Fprintf(w, "%-6s that is: your hypervisor gives this VM an energy counter, which powerinput reads as a measurement; a value above %.0f W over one interval is left out as impossible\n", "", g.Bound().Watts())
		}
		if chosen == "" {
			chosen, estimate = s.Name(), s.Model() != ""
		}
	}
	p.doctorVMs(w)
	p.doctorSensors(w)
	p.appsDoctor(w)
	switch {
	case chosen == "":
		fmt.Fprintln(w, "result: no source works; powerinput will write no power")
		return DoctorNothing
	case estimate:
		fmt.Fprintf(w, "result: power will be an ESTIMATE (source=%s), not a measurement; fix a source above to measure\n", chosen)
		return DoctorModelOnly
	default:
		fmt.Fprintf(w, "result: power will be measured (source=%s)\n", chosen)
		return DoctorMeasured
	}
}

// doctorSensors lists every sensor beside the CPU chain, what it
// measures, and which measurement the metaphors count.
func (p *PowerInput) doctorSensors(w io.Writer) {
	set := p.power.sensors
	wall := ""
	if set == nil {
		fmt.Fprintln(w, "sensors: not looked for (hwmon, gpus and psys are off)")
	} else {
		errs, err := set.Check(p.deadline())
		if err != nil {
			fmt.Fprintf(w, "sensors: their reads %v\n", err)
		}
		list := set.Sensors()
		if len(list) == 0 && set.PsysOff() == "" && len(set.Skipped()) == 0 {
			fmt.Fprintln(w, "sensors: none beside the CPUs (no hwmon power sensor, no GPU)")
		}
		for _, sn := range list {
			head := sn.Scope
			if sn.Kind == sensors.GPU {
				head = "gpu " + sn.Name
			}
			name := sn.Name
			switch {
			case sn.Kind == sensors.GPU:
				name = sn.Driver
			case sn.Scope == sensors.Psys:
				name = sn.Source
			}
			fmt.Fprintf(w, "%-6s %s: %s (%s)\n", head, name, sn.Describe(), sn.Path)
			if e := errs[sn]; e != nil {
				fmt.Fprintf(w, "%-6s cannot read it: %v\n", "", e)
			}
			if sn.Scope == sensors.Wall && errs[sn] == nil {
				wall = sn.Name
			}
		}
		if off := set.PsysOff(); off != "" {
			fmt.Fprintf(w, "%-6s found (%s), not read: set psys = true to write it\n", "psys", off)
		}
		for _, sk := range set.Skipped() {
			fmt.Fprintf(w, "%-6s %s: %s\n", "skip", sk.Path, sk.Why)
		}
	}
	var m string
	switch {
	case p.MetaphorBasis == basisParts:
		m = "the host total, power_watts"
	case p.MetaphorBasis == basisAuto && wall == "" && p.WallSensor != "" && p.Hwmon:
		m = fmt.Sprintf("the host total, power_watts; a wall sensor named %s would come first", p.WallSensor)
	case p.MetaphorBasis == basisAuto && wall == "":
		m = "the host total, power_watts"
	case p.MetaphorBasis == basisAuto:
		m = fmt.Sprintf("the wall sensor %s; an interval without it, the host total", wall)
	case wall != "":
		m = fmt.Sprintf("the wall sensor %s only; an interval without it has none", wall)
	default:
		m = "nothing: metaphor_basis = \"wall\" and no wall sensor works"
	}
	fmt.Fprintf(w, "metaphors: count %s (metaphor_basis = %q)\n", m, p.MetaphorBasis)
}
