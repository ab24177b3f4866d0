// Package bounded is a map that never grows past a limit: what powerinput
// remembers about things that come and go (messages said, names seen) must
// not grow with them.
package bounded

// Map holds at most Max entries. Putting one more when it is full forgets
// everything first: what it held is then only said or looked up again,
// never lost data. The zero value holds up to 4096 entries.
type Map[K comparable, V any] struct {
	Max int
	m   map[K]V
}

// Get returns the value stored under k.
func (b *Map[K, V]) Get(k K) (V, bool) {
	v, ok := b.m[k]
	return v, ok
}

// Put stores v under k.
func (b *Map[K, V]) Put(k K, v V) {
	if b.m == nil {
		b.m = map[K]V{}
	}
	if _, ok := b.m[k]; !ok && len(b.m) >= b.limit() {
		clear(b.m)
	}
	b.m[k] = v
}

// Delete forgets k.
func (b *Map[K, V]) Delete(k K) { delete(b.m, k) }

// Len is the number of entries.
func (b *Map[K, V]) Len() int { return len(b.m) }

func (b *Map[K, V]) limit() int {
	if b.Max > 0 {
		return b.Max
	}
	return 4096
}
