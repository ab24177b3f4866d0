package attribute

import (
	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/split"
)

// ByVCPUs gives a share of energy (the unused capacity's) to workloads in
// proportion to their vCPUs, exactly: the shares add up to it. Workloads
// of unknown size (0 vCPUs) get none. Once warm, it does not allocate.
type ByVCPUs struct {
	s       split.Splitter
	weights []uint64
	out     []uint64
}

// Give divides e by vcpus and adds each share to parts[i] (parts and vcpus
// have the same length). It returns what is left: e when no workload's
// size is known, else 0.
func (b *ByVCPUs) Give(e energy.Energy, vcpus []int, parts []energy.Energy) energy.Energy {
	b.weights = b.weights[:0]
	for _, n := range vcpus {
		b.weights = append(b.weights, uint64(max(n, 0)))
	}
	var ok bool
	b.out, ok = b.s.Split(uint64(e), b.weights, b.out)
	if !ok {
		return e
	}
	for i, v := range b.out {
		parts[i] += energy.Energy(v)
	}
	return 0
}
