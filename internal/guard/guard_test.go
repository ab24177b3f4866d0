package guard

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDoRunsAndReturns(t *testing.T) {
	var g Guard
	n := 0
	for i := 0; i < 3; i++ {
		if err := g.Do(time.Now().Add(time.Second), func() { n++ }); err != nil {
			t.Fatalf("Do: %v", err)
		}
	}
	if n != 3 {
		t.Fatalf("ran %d times, want 3", n)
	}
	if err := g.Do(time.Time{}, func() { n++ }); err != nil || n != 4 {
		t.Fatalf("Do without deadline: %v, n=%d", err, n)
	}
}

func TestTimeoutThenBusyThenFree(t *testing.T) {
	var g Guard
	release := make(chan struct{})
	start := time.Now()
	err := g.Do(time.Now().Add(50*time.Millisecond), func() { <-release })
	require.ErrorIs(t, err, ErrTimeout, "hung work")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Do waited %s past a 50 ms deadline", d)
	}
	ran := false
	require.ErrorIs(t, g.Do(time.Now().Add(time.Second), func() { ran = true }), ErrBusy, "while hung")
	require.False(t, ran, "work handed to a hung guard must not run")
	if !g.Busy() {
		t.Fatal("Busy() = false while the work is hung")
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for g.Busy() {
		if time.Now().After(deadline) {
			t.Fatal("guard still busy after the work returned")
		}
		time.Sleep(time.Millisecond)
	}
	if err := g.Do(time.Now().Add(time.Second), func() { ran = true }); err != nil || !ran {
		t.Fatalf("after release: %v (ran %v)", err, ran)
	}
}
