package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/greencampus/powerinput/internal/greenbot/escape"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// checkSlackPayload checks a body against Slack's documented
// incoming-webhook schema (api.slack.com/messaging/webhooks, Block Kit
// reference): only documented fields; "text" a non-empty string of at
// most 40,000 characters; at most 50 blocks; a header's text plain_text
// of at most 150; a section's text mrkdwn or plain_text of at most 3,000,
// never empty.
func checkSlackPayload(body []byte) error {
	type text struct {
		Type  string `json:"type"`
		Text  string `json:"text"`
		Emoji *bool  `json:"emoji"`
	}
	type block struct {
		Type    string `json:"type"`
		Text    *text  `json:"text"`
		BlockID string `json:"block_id"`
	}
	var p struct {
		Text        *string `json:"text"`
		Blocks      []block `json:"blocks"`
		Username    string  `json:"username"`
		IconEmoji   string  `json:"icon_emoji"`
		IconURL     string  `json:"icon_url"`
		UnfurlLinks *bool   `json:"unfurl_links"`
		Mrkdwn      *bool   `json:"mrkdwn"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("not Slack's JSON: %w", err)
	}
	if p.Text == nil || *p.Text == "" {
		return fmt.Errorf("no text")
	}
	if n := utf8.RuneCountInString(*p.Text); n > 40000 {
		return fmt.Errorf("text of %d characters", n)
	}
	if len(p.Blocks) > 50 {
		return fmt.Errorf("%d blocks", len(p.Blocks))
	}
	for i, b := range p.Blocks {
		if b.Text == nil || b.Text.Text == "" {
			return fmt.Errorf("block %d (%s) without text", i, b.Type)
		}
		n := utf8.RuneCountInString(b.Text.Text)
		switch {
		case b.Type == "header" && (b.Text.Type != "plain_text" || n > 150):
			return fmt.Errorf("header block: %s text of %d characters", b.Text.Type, n)
		case b.Type == "section" && (b.Text.Type != "mrkdwn" && b.Text.Type != "plain_text" || n > 3000):
			return fmt.Errorf("section block %d: %s text of %d characters", i, b.Text.Type, n)
		case b.Type != "header" && b.Type != "section":
			return fmt.Errorf("block %d of type %q", i, b.Type)
		}
	}
	return nil
}

// hookReceiver is a local incoming webhook: it checks each body and
// answers fail[i] (0: 200 "ok") to the i-th request.
type hookReceiver struct {
	mu       sync.Mutex
	fail     []int
	requests int
	accepted []slackPayload
	bad      []error
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	i := h.requests
	h.requests++
	if i < len(h.fail) && h.fail[i] != 0 {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "internal_error", h.fail[i])
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		h.bad = append(h.bad, fmt.Errorf("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type")))
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if err := checkSlackPayload(body); err != nil {
		h.bad = append(h.bad, err)
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	var p slackPayload
	json.Unmarshal(body, &p)
	h.accepted = append(h.accepted, p)
	io.WriteString(w, "ok")
}

func alertMessage(host string) message.Message {
	name := escape.Markdown(host)
	return message.Message{
		ID: "alert/power/" + host + "/start", Kind: message.AlertStart, Lang: "en",
		Subject:  "High power on " + escape.Plain(host),
		Text:     "The server " + escape.Plain(host) + " has drawn more than 400 W for 10 minutes.",
		Markdown: "The server *" + name + "* has drawn more than *400 W* for 10 minutes. @channel\n\n" + strings.Repeat("Details. ", 500),
	}
}

func TestWebhookSlackSchema(t *testing.T) {
	for _, blocks := range []bool{false, true} {
		t.Run(fmt.Sprint("blocks=", blocks), func(t *testing.T) {
			recv := &hookReceiver{}
			srv := httptest.NewServer(recv)
			defer srv.Close()
			w, err := NewWebhookPoster(Webhook{URL: srv.URL + "/hooks/T000/B000/XXXX", Blocks: blocks})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Send(context.Background(), alertMessage("<!here> *vm_1* @room")); err != nil {
				t.Fatalf("send: %v (receiver: %v)", err, recv.bad)
			}
			if len(recv.accepted) != 1 {
				t.Fatalf("%d accepted, want 1; refused: %v", len(recv.accepted), recv.bad)
			}
			p := recv.accepted[0]
			all := p.Text
			for _, b := range p.Blocks {
				all += "\n" + b.Text.Text
			}
			if !strings.Contains(p.Text, "*`\u2039!here\u203A *vm_1* @\u2060room`*") {
				t.Errorf("text %.120q: the name is not one code span", p.Text)
			}
			for _, bad := range []string{"<!here>", "@room", "@channel"} {
				if strings.Contains(all, bad) {
					t.Errorf("the payload holds %q as is", bad)
				}
			}
			if !strings.Contains(p.Text, "*400 W*") || !strings.HasPrefix(p.Text, "*High power on") {
				t.Errorf("text %.120q lost the message's formatting", p.Text)
			}
			if blocks && (len(p.Blocks) < 3 || p.Blocks[0].Type != "header") {
				t.Errorf("blocks %d, want a header and the long text in sections", len(p.Blocks))
			}
		})
	}
}

// TestWebhookRefusals: two 5xx then 200 is one delivery within Retry; a
// server that keeps answering 503 keeps the message in the outbox until it
// takes it, once.
func TestWebhookRefusals(t *testing.T) {
	recv := &hookReceiver{fail: []int{500, 502}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	w, err := NewWebhookPoster(Webhook{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r := Retry{Attempts: 3, Backoff: 10 * time.Millisecond}
	if err := r.Do(context.Background(), func(ctx context.Context) error { return w.Send(ctx, alertMessage("kvm-0")) }); err != nil {
		t.Fatal(err)
	}
	if recv.requests != 3 || len(recv.accepted) != 1 {
		t.Fatalf("%d requests, %d accepted; want 3 and 1", recv.requests, len(recv.accepted))
	}

	recv2 := &hookReceiver{fail: []int{503, 503, 503, 503}}
	srv2 := httptest.NewServer(recv2)
	defer srv2.Close()
	w2, _ := NewWebhookPoster(Webhook{URL: srv2.URL})
	clock := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	ob, err := NewOutbox(OutboxConfig{Dir: t.TempDir()}, map[string]Sender{"chat": w2}, slog.New(slog.NewTextHandler(&logs, nil)),
		WithClock(func() time.Time { return clock }), WithRetry(Retry{Attempts: 2, Backoff: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	m := alertMessage("kvm-1")
	if err := ob.Send(context.Background(), m, "chat"); err != nil {
		t.Fatal(err)
	}
	if n, _ := ob.Pending(); n["chat"] != 1 || len(recv2.accepted) != 0 {
		t.Fatalf("after two 503: %d waiting, %d accepted; want 1 and 0", n["chat"], len(recv2.accepted))
	}
	clock = clock.Add(time.Minute)
	ob.Flush(context.Background()) // two more 503: still waiting
	clock = clock.Add(10 * time.Minute)
	for range 3 {
		if err := ob.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := ob.Send(context.Background(), m, "chat"); err != nil {
		t.Fatal(err)
	}
	if len(recv2.accepted) != 1 {
		t.Errorf("%d accepted after the server came back, want 1", len(recv2.accepted))
	}
	if !strings.Contains(logs.String(), "HTTP 503") {
		t.Errorf("the log does not name the refusal:\n%s", logs.String())
	}
}

// TestOutboxGivesUp: a message older than Keep is given up, logged, and
// its destination is not asked again.
func TestOutboxGivesUp(t *testing.T) {
	recv := &hookReceiver{fail: []int{503, 503}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	w, _ := NewWebhookPoster(Webhook{URL: srv.URL})
	clock := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	ob, err := NewOutbox(OutboxConfig{Dir: t.TempDir(), Keep: time.Hour}, map[string]Sender{"chat": w},
		slog.New(slog.NewTextHandler(&logs, nil)), WithClock(func() time.Time { return clock }), WithRetry(Retry{Attempts: 2, Backoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ob.Send(context.Background(), alertMessage("kvm-2"), "chat")
	clock = clock.Add(61 * time.Minute)
	if err := ob.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := ob.Pending(); n["chat"] != 0 || recv.requests != 2 || !strings.Contains(logs.String(), "given up") {
		t.Errorf("%d waiting, %d requests (want 0 and 2); log:\n%s", n["chat"], recv.requests, logs.String())
	}
}

// TestOutboxShared: two outboxes on one folder (the daemon and a -once
// run from the timer) send the same message from ten goroutines: the
// destination receives it once.
func TestOutboxShared(t *testing.T) {
	recv := &hookReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	w, _ := NewWebhookPoster(Webhook{URL: srv.URL})
	dir := t.TempDir()
	var obs []*Outbox
	for range 2 {
		ob, err := NewOutbox(OutboxConfig{Dir: dir}, map[string]Sender{"chat": w}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		obs = append(obs, ob)
	}
	m := alertMessage("kvm-3")
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := obs[i%2].Send(context.Background(), m, "chat"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(recv.accepted) != 1 || recv.requests != 1 {
		t.Errorf("%d requests, %d accepted; want 1 and 1", recv.requests, len(recv.accepted))
	}
}

// TestWebhookErrorHidesPath: a webhook that refuses the connection gives
// an error naming its host, never its secret path, and the outbox's log
// and pending file do not hold it either.
func TestWebhookErrorHidesPath(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close() // nothing listens: the connection is refused
	const secretPath = "/hooks/T0/B0/SECRETTOKEN"
	w, err := NewWebhookPoster(Webhook{URL: "http://" + host + secretPath, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Send(context.Background(), alertMessage("kvm-0"))
	if err == nil {
		t.Fatal("a refused connection gave no error")
	}
	if strings.Contains(err.Error(), "SECRETTOKEN") || !strings.Contains(err.Error(), host) {
		t.Errorf("error %q: want the host %s and not the path", err, host)
	}
	if ok, _ := temporary(err); !ok {
		t.Errorf("error %q is not a refusal for now", err)
	}

	dir := t.TempDir()
	var logs bytes.Buffer
	ob, err := NewOutbox(OutboxConfig{Dir: dir}, map[string]Sender{"chat": w}, slog.New(slog.NewTextHandler(&logs, nil)),
		WithRetry(Retry{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Send(context.Background(), alertMessage("kvm-1"), "chat"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "SECRETTOKEN") {
		t.Errorf("the log holds the webhook's path:\n%s", logs.String())
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), "SECRETTOKEN") {
			t.Errorf("%s holds the webhook's path", filepath.Base(p))
		}
		return nil
	})
}
