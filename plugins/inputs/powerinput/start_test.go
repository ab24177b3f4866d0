package powerinput

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// openUnder counts this process's open files under root.
func openUnder(t *testing.T, root string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if to, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(to, root+"/") {
			n++
		}
	}
	return n
}

// Stop closes every file the collectors keep open (counters, /proc/stat,
// network, control groups, the VMs' and the guests' counters), and a
// gather after it opens them again from a new baseline.
func TestStopClosesTheCollectorsFiles(t *testing.T) {
	for _, name := range []string{"first-gather-soon", "cpu-net-bad-input", "services-exact-split", "vms-split", "processes-exit-and-reuse"} {
		t.Run(name, func(t *testing.T) {
			s := loadScenario(t, filepath.Join("testdata", "scenarios", name+".txtar"))
			s.run(t)
			if !s.begun {
				s.begin(t)
			}
			require.NoError(t, s.plugin.Gather(s.acc))
			require.NotZero(t, openUnder(t, s.root), "the collectors keep files open between gathers")
			s.plugin.Stop()
			require.Zero(t, openUnder(t, s.root), "files left open after Stop")
			require.NoError(t, s.plugin.Gather(s.acc))
			require.NotZero(t, openUnder(t, s.root), "a gather after Stop opens its files again")
			s.plugin.Stop()
		})
	}
}
