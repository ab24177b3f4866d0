package powercap

import "github.com/greencampus/powerinput/internal/energy"

// PackageDie names a package zone: a package, or a die of a multi-die
// package (Die is the zone's Die).
type PackageDie struct{ Package, Die int }

// PackageTDPs gives each package zone its TDP: its own long-term limit,
// else its share of the configured TDP of one package (tdp_watts), split
// evenly over the package's dies; 0 when unknown.
func PackageTDPs(zones []Zone, configured energy.Power) map[PackageDie]energy.Power {
	dies := map[int]int{}
	for _, z := range zones {
		if z.Domain == DomainPackage {
			dies[z.Package]++
		}
	}
	out := map[PackageDie]energy.Power{}
	for _, z := range zones {
		if z.Domain != DomainPackage {
			continue
		}
		tdp := z.TDP
		if tdp <= 0 && configured > 0 {
			tdp = configured / energy.Power(dies[z.Package])
		}
		out[PackageDie{Package: z.Package, Die: z.Die}] = tdp
	}
	return out
}

// MachineTDP is the TDP of all the packages of zones: their sum, or 0 when
// any is unknown (a curve on part of the machine's TDP would under-estimate
// the whole). With no package zone, the configured TDP (one package).
func MachineTDP(zones []Zone, configured energy.Power) energy.Power {
	tdps := PackageTDPs(zones, configured)
	if len(tdps) == 0 {
		return configured
	}
	var sum energy.Power
	for _, t := range tdps {
		if t <= 0 {
			return 0
		}
		sum += t
	}
	return sum
}
