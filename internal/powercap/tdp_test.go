package powercap

import (
	"testing"

	"github.com/greencampus/powerinput/internal/energy"
)

func TestMachineTDP(t *testing.T) {
	pkg := func(p, die int, tdp energy.Power) Zone {
		return Zone{Domain: DomainPackage, Package: p, Die: die, TDP: tdp}
	}
	dram := Zone{Domain: DomainDRAM, Package: 0, Die: -1}
	for _, c := range []struct {
		name       string
		zones      []Zone
		configured energy.Power
		want       energy.Power
	}{
		{"no zone: the configured TDP", nil, 65, 65},
		{"only DRAM: the configured TDP", []Zone{dram}, 65, 65},
		{"two packages' own limits", []Zone{pkg(0, -1, 95), pkg(1, -1, 105), dram}, 0, 200},
		{"one unknown, none configured: unknown", []Zone{pkg(0, -1, 95), pkg(1, -1, 0)}, 0, 0},
		{"one unknown takes the configured", []Zone{pkg(0, -1, 95), pkg(1, -1, 0)}, 65, 160},
		{"dies share the configured", []Zone{pkg(0, 0, 0), pkg(0, 1, 0)}, 120, 120},
	} {
		if got := MachineTDP(c.zones, c.configured); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
