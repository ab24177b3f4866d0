package attribute

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
)

func TestByVCPUs(t *testing.T) {
	var b ByVCPUs
	parts := []energy.Energy{10, 20, 30, 40}
	// 1000 µJ over 1, 2 and 4 vCPUs, one VM of unknown size: 1000/7 is not
	// whole, the largest remainders get the 2 µJ left.
	left := b.Give(1000, []int{1, 2, 4, 0}, parts)
	require.Equal(t, energy.Energy(0), left)
	require.Equal(t, []energy.Energy{10 + 143, 20 + 286, 30 + 571, 40}, parts)

	left = b.Give(77, []int{0, 0}, parts[:2])
	require.Equal(t, energy.Energy(77), left, "nobody's size is known: nothing given")

	allocs := testing.AllocsPerRun(100, func() { b.Give(1000, []int{1, 2, 4, 0}, parts) })
	require.Zero(t, allocs)
}
