package say

import (
	"fmt"
	"slices"
	"testing"
)

type printed []string

func (p *printed) print(l Level, msg string) { *p = append(*p, fmt.Sprintf("%d %s", l, msg)) }

func TestOnce(t *testing.T) {
	var got printed
	o := NewOnce(got.print)
	o.Say("a", Warn, "a fails")
	o.Say("a", Warn, "a fails")   // the same: not said
	o.Say("b", Error, "b fails")  // another key
	o.Say("a", Warn, "a fails 2") // another message: said
	o.Say("a", Info, "")          // ended: nothing printed
	o.Say("a", Warn, "a fails 2") // comes again: said
	want := printed{"2 a fails", "1 b fails", "2 a fails 2", "2 a fails 2"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestConditions(t *testing.T) {
	var got printed
	o := NewOnce(got.print)
	c := NewConditions(o.Say)
	c.Say("x", Warn, "x is bad")
	c.Say("y", Warn, "y is bad")
	c.End()
	c.Say("y", Warn, "y is bad") // y stays: not said again; x ends
	c.End()
	c.Say("x", Warn, "x is bad") // x comes back: said
	c.Say("y", Warn, "y is bad")
	c.End()
	c.Clear()                    // both end
	c.Say("y", Warn, "y is bad") // said again
	c.End()
	want := printed{"2 x is bad", "2 y is bad", "2 x is bad", "2 y is bad"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestConditionsSayNew(t *testing.T) {
	var got printed
	o := NewOnce(got.print)
	c := NewConditions(o.Say)
	c.SayNew("x", Warn, "x is 5")
	c.End()
	c.SayNew("x", Warn, "x is 6") // goes on: not said, though it changed
	c.End()
	c.End()                       // x ends
	c.SayNew("x", Warn, "x is 7") // comes again: said
	c.End()
	want := printed{"2 x is 5", "2 x is 7"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
