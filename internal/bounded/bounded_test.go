package bounded

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMapStaysBounded(t *testing.T) {
	m := Map[int, string]{Max: 3}
	for i := 0; i < 100; i++ {
		m.Put(i, "x")
		require.LessOrEqual(t, m.Len(), 3)
		v, ok := m.Get(i)
		require.True(t, ok)
		require.Equal(t, "x", v)
	}
	m.Put(100, "x")
	m.Put(101, "x")
	n := m.Len()
	m.Put(101, "y") // an existing key never makes it forget
	require.Equal(t, n, m.Len())
	v, _ := m.Get(101)
	require.Equal(t, "y", v)
	_, ok := m.Get(100)
	require.True(t, ok)
	m.Delete(99)
	_, ok = m.Get(99)
	require.False(t, ok)
}
