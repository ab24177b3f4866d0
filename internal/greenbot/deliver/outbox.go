package deliver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/atomicfile"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// OutboxConfig is where undelivered messages wait, and for how long.
type OutboxConfig struct {
	// Dir holds one folder per destination (default
	// /var/lib/greenbot/outbox, systemd's StateDirectory).
	Dir string `toml:"dir"`
	// Keep is how long a message is tried before it is given up, logged
	// (default 24h).
	Keep time.Duration `toml:"keep"`
}

// DefaultKeep is how long an undelivered message is kept by default.
const DefaultKeep = 24 * time.Hour

// The outbox's files, in Dir/<destination>/:
//
//	pending-<key>.json  a message still to send (record, JSON)
//	sent-<key>          sent: the same ID is never sent again (kept 2×Keep)
//	failed-<key>.json   refused for good (a 5xx, a bad address): kept for a look
//	bad-<key>.json      a pending file that could not be read
//
// key is a digest of the message's ID.
const (
	pendingPrefix = "pending-"
	sentPrefix    = "sent-"
)

// destName is a destination's name as a folder name.
var destName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// record is a pending file.
type record struct {
	Queued   time.Time       `json:"queued"`
	Attempts int             `json:"attempts"`
	Next     time.Time       `json:"next"`
	LastErr  string          `json:"last_error,omitempty"`
	Message  message.Message `json:"message"`
}

// parseRecord reads a pending file.
func parseRecord(b []byte) (record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return record{}, fmt.Errorf("not an outbox record: %w", err)
	}
	if r.Message.ID == "" {
		return record{}, errors.New("outbox record without a message ID")
	}
	if r.Queued.IsZero() {
		return record{}, errors.New("outbox record without its queue time")
	}
	if r.Attempts < 0 {
		return record{}, fmt.Errorf("outbox record with %d attempts", r.Attempts)
	}
	return r, nil
}

// Outbox delivers messages to named destinations and keeps, in a
// directory, those that could not be delivered yet. Safe for concurrent
// use, and between processes sharing Dir (a lock file).
type Outbox struct {
	dir   string
	keep  time.Duration
	retry Retry
	dests map[string]Sender
	log   *slog.Logger
	now   func() time.Time
	mu    sync.Mutex
}

// OutboxOption changes an Outbox's defaults.
type OutboxOption func(*Outbox)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) OutboxOption { return func(o *Outbox) { o.now = now } }

// WithRetry sets how one delivery is tried again before it waits in the
// outbox.
func WithRetry(r Retry) OutboxOption { return func(o *Outbox) { o.retry = r } }

// NewOutbox makes the directory (and one folder per destination) where
// missing.
func NewOutbox(cfg OutboxConfig, dests map[string]Sender, log *slog.Logger, opts ...OutboxOption) (*Outbox, error) {
	if cfg.Dir == "" {
		return nil, errors.New("outbox: dir is not set")
	}
	if cfg.Keep < 0 {
		return nil, fmt.Errorf("outbox: keep %v is negative", cfg.Keep)
	}
	if cfg.Keep == 0 {
		cfg.Keep = DefaultKeep
	}
	o := &Outbox{dir: cfg.Dir, keep: cfg.Keep, retry: DefaultRetry(), dests: dests, log: log, now: time.Now}
	for _, opt := range opts {
		opt(o)
	}
	for name := range dests {
		if !destName.MatchString(name) {
			return nil, fmt.Errorf("outbox: destination name %q: use letters, digits, '-', '_' or '.' (at most 64)", name)
		}
		if err := os.MkdirAll(filepath.Join(cfg.Dir, name), 0o700); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
	}
	return o, nil
}

func key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// lock holds the outbox for this process and others sharing the folder.
func (o *Outbox) lock() (unlock func(), err error) {
	o.mu.Lock()
	f, err := os.OpenFile(filepath.Join(o.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		o.mu.Unlock()
		return nil, fmt.Errorf("outbox: lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		o.mu.Unlock()
	}, nil
}

// Send queues m for each destination named in to and tries to deliver it
// now. An error says what could not be queued or was refused for good; a
// message refused for now stays queued (logged) and is not an error.
func (o *Outbox) Send(ctx context.Context, m message.Message, to ...string) error {
	if err := o.Enqueue(m, to...); err != nil {
		return err
	}
	return o.flush(ctx, to, m.ID)
}

// Enqueue writes m, durably, to each destination's folder, unless it was
// sent there or is already waiting there.
func (o *Outbox) Enqueue(m message.Message, to ...string) error {
	if m.ID == "" {
		return errors.New("outbox: a message without an ID cannot be kept from going twice")
	}
	unlock, err := o.lock()
	if err != nil {
		return err
	}
	defer unlock()
	k := key(m.ID)
	for _, name := range to {
		if _, ok := o.dests[name]; !ok {
			return fmt.Errorf("outbox: no destination named %q", name)
		}
		folder := filepath.Join(o.dir, name)
		if exists(filepath.Join(folder, sentPrefix+k)) || exists(filepath.Join(folder, pendingPrefix+k+".json")) {
			continue
		}
		now := o.now()
		b, err := json.Marshal(record{Queued: now, Next: now, Message: m})
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		if err := atomicfile.Write(filepath.Join(folder, pendingPrefix+k+".json"), b, 0o600); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// Flush tries every waiting message whose time has come, oldest first per
// destination, and gives up (logged) those older than Keep. It returns
// what it could not do for good (a refusal for now is only logged).
func (o *Outbox) Flush(ctx context.Context) error {
	names := make([]string, 0, len(o.dests))
	for n := range o.dests {
		names = append(names, n)
	}
	slices.Sort(names)
	return o.flush(ctx, names, "")
}

// flush works on the destinations named; with only set, on that message
// alone (Send: others wait for Flush, so one new message is not held up
// behind a long queue).
func (o *Outbox) flush(ctx context.Context, names []string, only string) error {
	unlock, err := o.lock()
	if err != nil {
		return err
	}
	defer unlock()
	var errs []error
	for _, name := range names {
		errs = append(errs, o.flushOne(ctx, name, only))
	}
	return errors.Join(errs...)
}

// flushOne: one destination. The first refusal for now ends its turn.
func (o *Outbox) flushOne(ctx context.Context, name, only string) error {
	folder := filepath.Join(o.dir, name)
	ents, err := os.ReadDir(folder)
	if err != nil {
		return fmt.Errorf("outbox %s: %w", name, err)
	}
	now := o.now()
	type item struct {
		file string
		rec  record
	}
	var items []item
	for _, e := range ents {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, sentPrefix):
			o.prune(folder, e, now)
		case strings.HasPrefix(n, pendingPrefix) && strings.HasSuffix(n, ".json"):
			if only != "" && n != pendingPrefix+key(only)+".json" {
				continue
			}
			p := filepath.Join(folder, n)
			b, err := os.ReadFile(p)
			if err == nil {
				var rec record
				if rec, err = parseRecord(b); err == nil {
					items = append(items, item{p, rec})
					continue
				}
			}
			o.log.Error("outbox: a waiting message's file cannot be read; set aside", "destination", name, "file", n, "err", err)
			o.setAside(p, "bad-")
		}
	}
	slices.SortFunc(items, func(a, b item) int { return a.rec.Queued.Compare(b.rec.Queued) })
	var errs []error
	for _, it := range items {
		rec := it.rec
		if age := now.Sub(rec.Queued); age > o.keep {
			o.log.Error("outbox: message given up, undelivered", "destination", name, "id", rec.Message.ID,
				"subject", rec.Message.Subject, "queued", rec.Queued.Format(time.RFC3339), "attempts", rec.Attempts, "last_error", rec.LastErr)
			if err := os.Remove(it.file); err != nil {
				errs = append(errs, fmt.Errorf("outbox %s: %w", name, err))
			}
			continue
		}
		if now.Before(rec.Next) {
			continue
		}
		m := rec.Message
		if rec.Attempts > 0 && now.Sub(rec.Queued) >= LateAfter {
			m = lateNote(m, rec.Queued)
		}
		err := o.retry.Do(ctx, func(ctx context.Context) error { return o.dests[name].Send(ctx, m) })
		if err == nil {
			if err := o.markSent(folder, it.file, rec.Message.ID); err != nil {
				errs = append(errs, err)
			}
			attrs := []any{"destination", name, "id", rec.Message.ID}
			if rec.Attempts > 0 {
				attrs = append(attrs, "late", o.now().Sub(rec.Queued).Round(time.Second).String(), "after_attempts", rec.Attempts+1)
			}
			o.log.Info("sent", attrs...)
			continue
		}
		if temp, after := temporary(err); temp {
			rec.Attempts++
			rec.LastErr = clip(err.Error(), 300)
			rec.Next = o.now().Add(max(after, backoff(rec.Attempts)))
			if werr := o.write(it.file, rec); werr != nil {
				errs = append(errs, werr)
			}
			o.log.Warn("outbox: destination refused for now; the message is kept", "destination", name, "id", rec.Message.ID,
				"attempts", rec.Attempts, "next", rec.Next.Format(time.RFC3339), "err", err)
			break // the destination is down: the others wait their turn
		}
		o.log.Error("outbox: destination refused the message for good", "destination", name, "id", rec.Message.ID, "err", err)
		o.setAside(it.file, "failed-")
		errs = append(errs, fmt.Errorf("outbox %s: message %s: %w", name, rec.Message.ID, err))
	}
	return errors.Join(errs...)
}

// LateAfter is how long after it was queued a message is marked late
// when it goes out.
const LateAfter = 10 * time.Minute

// lateNote marks m late and says so at the head of each of its texts, in
// its language: it was ready at queued and could not go before.
func lateNote(m message.Message, queued time.Time) message.Message {
	q := queued.UTC()
	note := "This message comes late: it was ready on " + q.Format("Jan 2 at 15:04") + " UTC and could not be delivered before."
	if m.Lang == "fr" {
		note = "Ce message arrive en retard\u202F: il était prêt le " + q.Format("02/01 à 15") + "\u202Fh\u202F" + q.Format("04") + " UTC et n’a pas pu être remis plus tôt."
	}
	m.Late = true
	m.Text = note + "\n\n" + m.Text
	if m.HTML != "" {
		m.HTML = "<p><em>" + note + "</em></p>\n" + m.HTML
	}
	if m.Markdown != "" {
		m.Markdown = "_" + note + "_\n\n" + m.Markdown
	}
	return m
}

// backoff is the wait before a kept message's next try: 1 min, doubled
// per attempt, at most an hour.
func backoff(attempts int) time.Duration {
	return time.Minute << min(attempts-1, 6) // 64 min at most
}

func (o *Outbox) write(p string, rec record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := atomicfile.Write(p, b, 0o600); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// markSent records the delivery before the pending file goes, so a crash
// between the two never sends it again.
func (o *Outbox) markSent(folder, pending, id string) error {
	if err := atomicfile.Write(filepath.Join(folder, sentPrefix+key(id)), []byte(id+"\n"), 0o600); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Remove(pending); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return atomicfile.SyncDir(folder)
}

// setAside renames a pending file so it is not tried again.
func (o *Outbox) setAside(p, prefix string) {
	dir, base := filepath.Split(p)
	if err := os.Rename(p, filepath.Join(dir, prefix+strings.TrimPrefix(base, pendingPrefix))); err != nil {
		o.log.Error("outbox: cannot set a file aside", "file", base, "err", err)
	}
}

// prune removes a sent marker older than twice Keep: by then no copy of
// its message can still be waiting.
func (o *Outbox) prune(folder string, e fs.DirEntry, now time.Time) {
	if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > 2*o.keep {
		os.Remove(filepath.Join(folder, e.Name()))
	}
}

// Pending counts the messages waiting for each destination.
func (o *Outbox) Pending() (map[string]int, error) {
	out := map[string]int{}
	for name := range o.dests {
		ents, err := os.ReadDir(filepath.Join(o.dir, name))
		if err != nil {
			return nil, fmt.Errorf("outbox %s: %w", name, err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), pendingPrefix) && strings.HasSuffix(e.Name(), ".json") {
				out[name]++
			}
		}
	}
	return out, nil
}
