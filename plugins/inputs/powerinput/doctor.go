package powerinput

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/meter"
)

// Doctor exit codes, so scripts can tell.
const (
	DoctorMeasured  = 0 // a measuring source (rapl or vm) works
	DoctorModelOnly = 1 // only the estimate is left
	DoctorNothing   = 2 // no source works
)

// Doctor says, for each configured source in order, whether it works here
// and, if not, why and how to fix it; then which one powerinput will use.
func (p *PowerInput) Doctor(w io.Writer) int {
	fmt.Fprintf(w, "powerinput doctor: host_sys=%s host_proc=%s vm_powercap_path=%s\n", p.HostSys, p.HostProc, p.VMPowercapPath)
	chosen := ""
	for _, s := range p.sources {
		err := s.probe()
		if err != nil {
			why, fix := explain(p, s.name(), err)
			fmt.Fprintf(w, "%-6s unavailable: %s\n%-6s fix: %s\n", s.name(), why, "", fix)
			continue
		}
		fmt.Fprintf(w, "%-6s works: %s\n", s.name(), describeSource(s))
		if chosen == "" {
			chosen = s.name()
		}
	}
	p.current = -1 // the probes replaced any running state
	switch chosen {
	case "":
		fmt.Fprintln(w, "result: no source works; powerinput will write no power")
		return DoctorNothing
	case SourceModel:
		fmt.Fprintln(w, "result: power will be an ESTIMATE (source=model), not a measurement; fix a source above to measure")
		return DoctorModelOnly
	default:
		fmt.Fprintf(w, "result: power will be measured (source=%s)\n", chosen)
		return DoctorMeasured
	}
}

func describeSource(s powerSource) string {
	switch s := s.(type) {
	case *counterSource:
		var ids []int
		dram := 0
		for _, c := range s.m.Channels {
			if c.Kind == meter.DRAM {
				dram++
			} else {
				ids = append(ids, c.Package)
			}
		}
		sort.Ints(ids)
		var names, tdp []string
		for _, id := range ids {
			names = append(names, fmt.Sprint(id))
			if t := s.tdp(id); t > 0 {
				tdp = append(tdp, fmt.Sprintf("%d: %s W", id, fmtW(t)))
			}
		}
		out := fmt.Sprintf("%d package(s) [%s], %d DRAM zone(s)", len(ids), strings.Join(names, " "), dram)
		if len(tdp) > 0 {
			return out + ", TDP " + strings.Join(tdp, ", ")
		}
		return out + ", TDP unknown"
	case *modelSource:
		if s.tdpTotal > 0 {
			return fmt.Sprintf("estimate with the TDP curve (TDP %s W)", fmtW(s.tdpTotal))
		}
		return fmt.Sprintf("estimate per vCPU (%g to %g W per vCPU); set tdp_watts to use the TDP curve instead", s.p.VCPUMinWatts, s.p.VCPUMaxWatts)
	}
	return ""
}

func fmtW(p energy.Power) string { return fmt.Sprintf("%g", p.Watts()) }
