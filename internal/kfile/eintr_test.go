package kfile

import (
	"errors"
	"syscall"
	"testing"
)

func TestRetry(t *testing.T) {
	calls := 0
	n, err := Retry(func() (int, error) {
		calls++
		if calls < 3 {
			return -1, syscall.EINTR
		}
		return 7, nil
	})
	if n != 7 || err != nil || calls != 3 {
		t.Errorf("got %d, %v after %d calls, want 7, nil after 3", n, err, calls)
	}
	calls = 0
	err = RetryErr(func() error {
		calls++
		if calls < 2 {
			return syscall.EINTR
		}
		return syscall.ENOENT
	})
	if !errors.Is(err, syscall.ENOENT) || calls != 2 {
		t.Errorf("got %v after %d calls, want ENOENT after 2", err, calls)
	}
	buf := make([]byte, 8)
	if a := testing.AllocsPerRun(100, func() {
		_, _ = Retry(func() (int, error) { return len(buf), nil })
	}); a != 0 {
		t.Errorf("%v allocations per call", a)
	}
}
