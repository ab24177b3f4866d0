// Package deliver sends the bot's messages to where people read them: mail
// by SMTP, a Matrix room, a Slack-compatible incoming webhook (Slack,
// Mattermost, Rocket.Chat), or stdout. A destination that refuses for now
// (SMTP 4xx, Matrix 429 or 5xx, webhook 429 or 5xx, a server that does not
// answer) is tried again with backoff; a message that still cannot go is
// kept in the Outbox, a directory, and sent when the destination takes it,
// within a bound (a day by default), and never twice to one destination.
//
// Each destination has a TOML-tagged configuration (SMTP, Matrix, Webhook,
// Stdout; Destination holds one of them) for the bot's configuration file
// to embed, with Validate and a constructor.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// Sender sends one message to one destination. An error that another
// attempt may cure is a *RefusedError (see Temporary); any other error is
// final for this message.
type Sender interface {
	Send(ctx context.Context, m message.Message) error
}

// RefusedError is a refusal for now: the destination was unreachable or
// answered "later" (SMTP 4xx, HTTP 429 or 5xx). After, when above zero, is
// how long the destination asked to be left alone.
type RefusedError struct {
	Err   error
	After time.Duration
}

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// Temporary marks err as a refusal for now, to be tried again after at
// least after.
func Temporary(err error, after time.Duration) error {
	return &RefusedError{Err: err, After: after}
}

// temporary reports whether err is a refusal for now, and the wait it asked.
func temporary(err error) (bool, time.Duration) {
	var r *RefusedError
	if errors.As(err, &r) {
		return true, r.After
	}
	return false, 0
}

// Retry is how a refusal is tried again within one delivery: up to
// Attempts tries, waiting Backoff before the second, doubled each time up
// to MaxBackoff; a destination that asks for a longer wait than MaxBackoff
// (Matrix's retry_after_ms, HTTP's Retry-After) is left to the Outbox's
// next flush rather than waited for.
type Retry struct {
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// DefaultRetry is four tries over about seven seconds, waiting at most
// 30 s for a destination that asks for time.
func DefaultRetry() Retry {
	return Retry{Attempts: 4, Backoff: time.Second, MaxBackoff: 30 * time.Second}
}

// Do calls send until it succeeds, fails for good, or Attempts is spent.
// The error returned is send's last, still a *RefusedError where it was one.
func (r Retry) Do(ctx context.Context, send func(context.Context) error) error {
	wait := r.Backoff
	for attempt := 1; ; attempt++ {
		err := send(ctx)
		if err == nil {
			return nil
		}
		temp, after := temporary(err)
		if !temp || attempt >= max(r.Attempts, 1) {
			return err
		}
		d := max(wait, after)
		if r.MaxBackoff > 0 && d > r.MaxBackoff {
			return err
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return Temporary(fmt.Errorf("%w (while waiting to try again: %w)", err, ctx.Err()), 0)
		case <-t.C:
		}
		wait = 2 * wait
		if r.MaxBackoff > 0 {
			wait = min(wait, r.MaxBackoff)
		}
	}
}
