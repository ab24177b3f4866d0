package atomicfile

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestLockRefusesASecondHolder(t *testing.T) {
	dir := t.TempDir()
	first, err := TakeLock(dir, "greenbot.lock")
	if err != nil {
		t.Fatal(err)
	}
	_, err = TakeLock(dir, "greenbot.lock")
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: got %v, want ErrLocked", err)
	}
	if want := "process " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("second lock's error %q does not name %q", err, want)
	}
	first.Release()
	again, err := TakeLock(dir, "greenbot.lock")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
}

func TestLockMakesItsDirectory(t *testing.T) {
	dir := t.TempDir() + "/state/deeper"
	l, err := TakeLock(dir, "greenbot.lock")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if _, err := os.Stat(dir + "/greenbot.lock"); err != nil {
		t.Fatal(err)
	}
}
