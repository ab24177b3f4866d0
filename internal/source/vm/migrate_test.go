package vm

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/source"
)

// A guest reads its VM's counter as two hypervisors' writers make it: the
// share switches from host A's folder to host B's (a migration), where the
// VM's counter is 15 kJ ahead, within the guest's bound over 10 s. The
// counter_id each writer made tells them apart: that interval is left out,
// and the next is measured from B's value. A counter that B's writer makes
// anew (its folder removed while it was stopped) is left out the same way.
func TestMigrationBetweenWriters(t *testing.T) {
	root := t.TempDir()
	a, b := guestcounter.New(filepath.Join(root, "a")), guestcounter.New(filepath.Join(root, "b"))
	defer a.Close()
	defer func() { b.Close() }()
	apply := func(w *guestcounter.Writer, e energy.Energy) {
		t.Helper()
		require.Empty(t, w.Apply([]guestcounter.Add{{Domain: "vm", Energy: e}}))
	}
	apply(a, 5_000*J)
	apply(b, 20_000*J) // an earlier stay on B
	mnt := filepath.Join(root, "mnt")
	share := func(host string) { // what the guest's mount shows
		t.Helper()
		tmp := mnt + ".new"
		require.NoError(t, os.Symlink(filepath.Join(root, host, "vm"), tmp))
		require.NoError(t, os.Rename(tmp, mnt))
	}
	share("a")
	now := time.Unix(1_700_000_000, 0)
	src := New(source.Env{VMPowercapPath: mnt, StaleIntervals: 10, Clock: func() time.Time { return now }}).(*Source)
	require.NoError(t, src.Probe(time.Time{}))
	defer src.Close()
	sample := func() *meter.Result {
		t.Helper()
		now = now.Add(10 * time.Second)
		r, err := src.Sample(time.Time{})
		require.NoError(t, err)
		return r
	}
	sample() // the baseline
	apply(a, 300*J)
	require.Equal(t, 300*J, sample().Total())

	share("b") // B's counter: 20 kJ, 14.7 kJ above A's
	r := sample()
	require.Empty(t, r.Parts, "a jump within the bound from another host's counter is no energy")
	require.Len(t, r.Problems, 1)
	require.Equal(t, meter.Moved, r.Problems[0].Kind)
	apply(b, 100*J)
	require.Equal(t, 100*J, sample().Total())

	// B's writer stops; the VM's folder is removed; B starts again and
	// makes the counter anew, from 0 plus what it adds.
	b.Close()
	require.NoError(t, os.RemoveAll(filepath.Join(root, "b", "vm")))
	b = guestcounter.New(filepath.Join(root, "b"))
	apply(b, 21_000*J) // from 0: above the 20.1 kJ before, within the bound
	r = sample()
	require.Empty(t, r.Parts)
	require.Equal(t, meter.Moved, r.Problems[0].Kind)
	apply(b, 50*J)
	require.Equal(t, 50*J, sample().Total())
}

// J is a joule in µJ.
const J = energy.Energy(1_000_000)

// -doctor says whether the host gives the counter an identity.
func TestDescribeIdentity(t *testing.T) {
	for _, tt := range []struct {
		name string
		id   bool
		want string
	}{
		{"powerinput's writer", true, "with an identity (counter_id)"},
		{"no counter_id", false, "no counter_id (Scaphandre, or an older powerinput, on the host)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w := guestcounter.New(dir)
			defer w.Close()
			require.Empty(t, w.Apply([]guestcounter.Add{{Domain: "vm", Energy: J}}))
			if !tt.id {
				require.NoError(t, os.Remove(filepath.Join(dir, "vm", guestcounter.Zone, guestcounter.IDFile)))
			}
			src := New(source.Env{VMPowercapPath: filepath.Join(dir, "vm"), StaleIntervals: 10}).(*Source)
			require.NoError(t, src.Probe(time.Time{}))
			defer src.Close()
			require.Contains(t, src.Describe(), tt.want)
		})
	}
}
