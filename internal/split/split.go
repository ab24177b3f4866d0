// Package split divides a whole into parts exactly, in integers: the parts
// always add up to the whole, so a year of intervals split this way drifts
// by nothing (floats would).
package split

import (
	"math/bits"
	"slices"
)

// Splitter divides totals by weights, reusing its memory: once warm, a
// split does not allocate.
type Splitter struct {
	rem   []uint64
	order []int
}

// Split divides total into len(weights) parts proportional to the
// weights, by the largest-remainder method: each part is the floor of its
// exact share, and the units left over go one each to the parts with the
// largest remainders (the lower index first among equals), so the parts
// add up to total exactly and the result does not depend on anything but
// its inputs. It returns out (grown as needed) and false when the weights
// are all zero (then every part is 0).
func (s *Splitter) Split(total uint64, weights []uint64, out []uint64) ([]uint64, bool) {
	out = slices.Grow(out[:0], len(weights))[:len(weights)]
	var sum uint64
	for _, w := range weights {
		sum += w // callers' weights (µs, ticks) are far from 2^64
	}
	if sum == 0 {
		clear(out)
		return out, false
	}
	s.rem = slices.Grow(s.rem[:0], len(weights))[:len(weights)]
	var given uint64
	for i, w := range weights {
		hi, lo := bits.Mul64(total, w)
		q, r := bits.Div64(hi, lo, sum) // hi < sum since w <= sum
		out[i], s.rem[i] = q, r
		given += q
	}
	left := total - given // fewer than len(weights)
	if left == 0 {
		return out, true
	}
	s.order = slices.Grow(s.order[:0], len(weights))[:len(weights)]
	for i := range s.order {
		s.order[i] = i
	}
	slices.SortStableFunc(s.order, func(a, b int) int {
		switch {
		case s.rem[a] > s.rem[b]:
			return -1
		case s.rem[a] < s.rem[b]:
			return 1
		}
		return 0
	})
	for _, i := range s.order[:left] {
		out[i]++
	}
	return out, true
}
