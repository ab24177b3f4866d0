package powerinput

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/guard"
)

// A guided scan that does not finish (its guard times out, or is still
// busy with one that did) asks the next walk for every group's members:
// those the walk gave meanwhile are not seen by any scan, and a list given
// from memory next would miss what changed in them.
func TestUnfinishedScanAsksForEveryGroup(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tree.txtar")
	writeFile(t, file, appsTree+"-- sys/fs/cgroup/cgroup.procs --\n1\n"+
		"-- sys/fs/cgroup/system.slice/nginx.service/cgroup.procs --\n10\n")
	s := loadScenarioIn(t, file, filepath.Join(filepath.Dir(file), "run"))
	s.plugin.Log = testutil.Logger{Quiet: true}
	require.NoError(t, os.Symlink(strconv.Itoa(os.Getpid()), filepath.Join(s.root, "proc", "self")))
	gather := func(n int) { // 2 CPUs over 10 s, and some energy
		writeFile(t, filepath.Join(s.root, "proc", "stat"), fmt.Sprintf("cpu  %d 0 0 %d 0 0 0 0 0 0\n", 100*n, 2000*n-100*n))
		writeFile(t, filepath.Join(s.root, "proc", "1", "stat"), fmt.Sprintf("1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 %d 0 0 0 20 0 1 0 1 1000 100 1\n", 10*n))
		writeFile(t, filepath.Join(s.root, "sys", "class", "powercap", "intel-rapl:0", "energy_uj"), strconv.Itoa(1_000_000_000+100_000_000*n))
		s.start(t)
		s.clock.now = s.clock.now.Add(10 * time.Second)
		require.NoError(t, s.plugin.Gather(s.acc))
	}
	gather(0)
	gather(1)
	c := s.plugin.processes
	require.NotNil(t, c.services, "the scan is guided")
	require.False(t, c.g.Inline, "the scan runs under its guard")

	// A scan that hangs past its deadline keeps the guard busy: the next
	// gather's scan is refused (ErrBusy). (One that times out itself
	// needs a hung /proc: the same branch.)
	hang := make(chan struct{})
	defer close(hang)
	require.ErrorIs(t, c.g.Do(time.Now().Add(10*time.Millisecond), func() { <-hang }), guard.ErrTimeout)
	c.services.procsAll.Store(false)
	gather(2)
	require.True(t, c.services.procsAll.Load(), "the next walk lists every group")
}
