package powerinput

import (
	"fmt"
	"io"
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
	chosen, estimate := "", false
	for _, s := range p.power.chain.Sources {
		if err := s.Probe(p.power.chain.Deadline()); err != nil {
			why, fix := s.Explain(err)
			fmt.Fprintf(w, "%-6s unavailable: %s\n%-6s fix: %s\n", s.Name(), why, "", fix)
			continue
		}
		fmt.Fprintf(w, "%-6s works: %s\n", s.Name(), s.Describe())
		if chosen == "" {
			chosen, estimate = s.Name(), s.Model() != ""
		}
	}
	p.doctorVMs(w)
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
