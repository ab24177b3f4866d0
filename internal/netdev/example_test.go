package netdev_test

import (
	"fmt"
	"time"

	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/netdev"
)

// A plugin reads under a guard, so that a hung mount never blocks its
// gather, and uses the interfaces once the guard has returned.
func ExampleReader() {
	// Init: Telegraf checks the interfaces only without an `interfaces`
	// list and with HOST_PROC unset.
	r := netdev.NewReader("/proc", "/sys", netdev.Options{Checks: true})
	var g guard.Guard

	// Gather:
	var list []netdev.Interface
	var err error
	if gerr := g.Do(time.Now().Add(time.Second), func() { list, err = r.Read() }); gerr != nil {
		// The read goes on in the background: leave r and list alone
		// until a later Do succeeds.
		fmt.Println("network counters:", gerr)
		return
	}
	if err != nil {
		fmt.Printf("%s: %v\n", r.Path(), err) // a *SyntaxError still returns the good lines
	}
	for _, it := range list {
		if it.Skip == netdev.SkipName && it.New {
			fmt.Printf("W! interface %+q skipped: its name %v\n", it.Name, it.TagErr)
		}
		if it.Skip != netdev.Write {
			continue
		}
		_ = it.RxBytes // … the net metric's fields, and speed = it.Speed
	}

	// Stop: close under the guard too, as a late read may still use r.
	_ = g.Do(time.Now().Add(100*time.Millisecond), func() { r.Close() })
}
