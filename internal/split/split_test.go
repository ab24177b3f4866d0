package split

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplit(t *testing.T) {
	var s Splitter
	tests := []struct {
		name    string
		total   uint64
		weights []uint64
		want    []uint64
	}{
		{"even", 900, []uint64{1, 1, 1}, []uint64{300, 300, 300}},
		{"one left over goes to the largest remainder", 10, []uint64{1, 2}, []uint64{3, 7}},
		{"ties: the lower index first", 10, []uint64{1, 1, 1}, []uint64{4, 3, 3}},
		{"a zero weight gets nothing", 7, []uint64{0, 5, 0}, []uint64{0, 7, 0}},
		// Scaphandre divides integers and gets a ratio of 0 or 1 here.
		{"small shares are not rounded to zero", 1_000_000, []uint64{250_000, 500_000, 1_250_000}, []uint64{125_000, 250_000, 625_000}},
		{"no overflow with large totals", math.MaxUint64, []uint64{math.MaxUint32, math.MaxUint32}, []uint64{math.MaxUint64/2 + 1, math.MaxUint64 / 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.Split(tt.total, tt.weights, nil)
			require.True(t, ok)
			require.Equal(t, tt.want, got)
		})
	}
	got, ok := s.Split(5, []uint64{0, 0}, nil)
	require.False(t, ok)
	require.Equal(t, []uint64{0, 0}, got)
}

// Whatever the weights, the parts add up to the total, each within one
// unit of its exact share.
func TestSplitExact(t *testing.T) {
	var s Splitter
	r := rand.New(rand.NewPCG(1, 2))
	var out []uint64
	for i := 0; i < 10000; i++ {
		n := 1 + r.IntN(120)
		weights := make([]uint64, n)
		var sum uint64
		for j := range weights {
			weights[j] = r.Uint64N(10_000_000)
			sum += weights[j]
		}
		if sum == 0 {
			continue
		}
		total := r.Uint64N(1 << 50)
		var ok bool
		out, ok = s.Split(total, weights, out)
		require.True(t, ok)
		var got uint64
		for j, p := range out {
			got += p
			exact := float64(total) * float64(weights[j]) / float64(sum)
			require.InDelta(t, exact, float64(p), 1+exact*1e-12)
		}
		require.Equal(t, total, got)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add(uint64(1000), uint64(1), uint64(2), uint64(3))
	f.Add(uint64(math.MaxUint64), uint64(math.MaxUint32), uint64(0), uint64(7))
	f.Fuzz(func(t *testing.T, total, a, b, c uint64) {
		var s Splitter
		w := []uint64{a >> 4, b >> 4, c >> 4} // keep the sum within 64 bits
		out, ok := s.Split(total, w, nil)
		if !ok {
			return
		}
		if out[0]+out[1]+out[2] != total {
			t.Fatalf("Split(%d, %v) = %v: does not add up", total, w, out)
		}
	})
}

func BenchmarkSplit100(b *testing.B) {
	var s Splitter
	w := make([]uint64, 102)
	for i := range w {
		w[i] = uint64(1000 + 37*i)
	}
	out := make([]uint64, 0, len(w))
	b.ReportAllocs()
	for b.Loop() {
		out, _ = s.Split(10_000_000_123, w, out)
	}
}
