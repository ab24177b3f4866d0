package powerinput

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// -summary on the GPU server of the rapl-vs-wall-gpu scenario: the parts
// (CPUs and memory, the GPU) beside the wall, in English and French, the
// metaphors counting the parts as its configuration asks.
func TestSummaryBesideTheWall(t *testing.T) {
	for lang, want := range map[string][]string{
		"en": {"Power: 173.0 W (CPUs and memory 128.0 W, GPUs 45.0 W)",
			"The CPUs and memory draw 128.0 W, the GPUs 45.0 W; the wall socket gives 262.0 W (power_meter). These parts are 66 % of the machine.",
			"The everyday terms below count the 173.0 W measured part by part.",
			"17.3  lamps"},
		"fr": {"Puissance\u202f: 173,0 W (processeurs et mémoire 128,0 W, cartes graphiques 45,0 W)",
			"la prise murale fournit 262,0 W (power_meter). Ces parties font 66\u202f% de la machine."},
	} {
		t.Run(lang, func(t *testing.T) {
			s := loadScenario(t, filepath.Join("testdata", "scenarios", "rapl-vs-wall-gpu.txtar"))
			s.start(t)
			s.plugin.sleep = func(d time.Duration) {
				s.clock.now = s.clock.now.Add(d)
				for path, v := range map[string]string{
					"sys/class/powercap/intel-rapl:0/energy_uj":   "1165000000", // 55 W over 3 s
					"sys/class/powercap/intel-rapl:0:0/energy_uj": "127000000",  // 9 W
					"sys/class/powercap/intel-rapl:1/energy_uj":   "2165000000",
					"sys/class/powercap/intel-rapl:1:0/energy_uj": "227000000",
				} {
					require.NoError(t, os.WriteFile(filepath.Join(s.root, path), []byte(v+"\n"), 0o644))
				}
			}
			var out bytes.Buffer
			require.NoError(t, s.plugin.Summary(&out, 3*time.Second, lang))
			for _, w := range want {
				require.Contains(t, out.String(), w)
			}
			require.Equal(t, 1, strings.Count(out.String(), "262"), out.String())
		})
	}
}

// -summary in a guest whose hypervisor writes the counter less often than
// -summary_duration: the held interval is waited out (up to
// vm_stale_intervals times the duration), not reported as a failure. The
// counter moves at the second wait: 60 J over 6 s, 10 W.
func TestSummaryWaitsForASlowGuestCounter(t *testing.T) {
	s := loadScenario(t, filepath.Join("testdata", "scenarios", "guest-counter.txtar"))
	s.start(t)
	waits := 0
	s.plugin.sleep = func(d time.Duration) {
		s.clock.now = s.clock.now.Add(d)
		waits++
		if waits == 2 {
			require.NoError(t, os.WriteFile(filepath.Join(s.root, "vm/intel-rapl:0/energy_uj"), []byte("5060000000\n"), 0o644))
		}
	}
	var out bytes.Buffer
	require.NoError(t, s.plugin.Summary(&out, 3*time.Second, "en"))
	require.Contains(t, out.String(), "This machine, measured over 6.0 s")
	require.Contains(t, out.String(), "Power: 10.0 W")
	require.Equal(t, 2, waits)

	// A counter that never moves: the error says why, after waiting (short
	// of making it stale: vm_stale_intervals is 3, so two waits).
	s = loadScenario(t, filepath.Join("testdata", "scenarios", "guest-counter.txtar"))
	s.start(t)
	s.plugin.sleep = func(d time.Duration) { s.clock.now = s.clock.now.Add(d) }
	err := s.plugin.Summary(&out, 3*time.Second, "en")
	require.ErrorContains(t, err, "did not move in 6s")
}
