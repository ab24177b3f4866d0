// Package say logs conditions once. A file that fails at every gather is
// one line in the log, not one per gather; when the condition ends, the
// next time it comes is said again. The plugin gives the logger: nothing
// here knows Telegraf.
package say

import "github.com/greencampus/powerinput/internal/bounded"

// Level of a message, as Telegraf has them.
type Level int

// Message levels.
const (
	Error Level = iota + 1
	Warn
	Info
	Debug
)

// Func says msg at level, once per key: the same message under the same
// key is not said again, and an empty msg ends the condition, so the next
// message under the key is said. Once.Say is one; readers that must not
// know the plugin take a Func.
type Func func(key string, level Level, msg string)

// Once remembers what each key last said, so that a Func says each
// message once. What it remembers is bounded: past its limit it forgets,
// and a condition is said once more.
type Once struct {
	print func(Level, string)
	said  bounded.Map[string, string] // key → what it last said
}

// NewOnce says through print.
func NewOnce(print func(Level, string)) *Once { return &Once{print: print} }

// Say prints msg at level unless it is what key last said; an empty msg
// ends the key's condition. It is a Func.
func (o *Once) Say(key string, level Level, msg string) {
	if last, _ := o.said.Get(key); last == msg {
		return
	}
	if msg == "" {
		o.said.Delete(key)
		return
	}
	o.said.Put(key, msg)
	o.print(level, msg)
}

// Conditions are the conditions of things that come and go (the channels
// of a source, the sensors, the VMs), said through a Func: those said in
// a round stay, and End ends those that were not said again, so that the
// next time one comes it is said.
type Conditions struct {
	say  Func
	now  map[string]bool // said this round
	said map[string]bool // said and not ended
}

// NewConditions says through say.
func NewConditions(say Func) *Conditions {
	return &Conditions{say: say, now: map[string]bool{}, said: map[string]bool{}}
}

// Say says a condition of this round.
func (c *Conditions) Say(key string, level Level, msg string) {
	c.now[key], c.said[key] = true, true
	c.say(key, level, msg)
}

// SayNew says a condition of this round only when it comes: while it goes
// on it is not said again, though its message changes (one that carries a
// value, different at every round).
func (c *Conditions) SayNew(key string, level Level, msg string) {
	if c.said[key] {
		c.now[key] = true
		return
	}
	c.Say(key, level, msg)
}

// End ends the conditions not said since the previous End, and begins a
// new round.
func (c *Conditions) End() {
	for key := range c.said {
		if !c.now[key] {
			delete(c.said, key)
			c.say(key, Info, "")
		}
	}
	clear(c.now)
}

// Clear ends every condition said.
func (c *Conditions) Clear() {
	clear(c.now)
	c.End()
}
