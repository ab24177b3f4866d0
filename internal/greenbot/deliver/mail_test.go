package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// testPNG is a small real PNG (a green bar on white).
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for y := range 20 {
		for x := range 40 {
			c := color.RGBA{255, 255, 255, 255}
			if y > 5 && x < 30 {
				c = color.RGBA{30, 140, 60, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func digestMessage(t *testing.T, id string) message.Message {
	return message.Message{
		ID: id, Kind: message.Digest, Lang: "fr",
		Subject:  "Campus : 12,4 kWh hier (" + id + ")",
		Text:     "Hier, kvm-0 a utilisé 12,4 kWh, soit 1 722 charges de téléphone.\n",
		HTML:     `<p>Hier, <b>kvm-0</b> a utilisé 12,4 kWh, soit 1 722 charges de téléphone.</p><img src="cid:week" alt="kWh par jour">`,
		Markdown: "Hier, *kvm-0* a utilisé 12,4 kWh.",
		Images:   []message.Image{{Name: "week.png", CID: "week", ContentType: "image/png", Alt: "kWh par jour", Data: testPNG(t)}},
	}
}

// mailpitMessages lists what Mailpit received (newest first).
type mailpitSummary struct {
	ID, MessageID, Subject string
}

func (m *mailpit) get(t *testing.T, path string, into any) {
	t.Helper()
	resp, err := http.Get("http://" + m.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: HTTP %d", path, resp.StatusCode)
	}
	if s, ok := into.(*[]byte); ok {
		*s = b
		return
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

func (m *mailpit) messages(t *testing.T) []mailpitSummary {
	var list struct{ Messages []mailpitSummary }
	m.get(t, "/api/v1/messages?limit=500", &list)
	return list.Messages
}

func (m *mailpit) chaos(t *testing.T, senderCode int) {
	t.Helper()
	// Mailpit's chaos: its Sender trigger answers MAIL FROM with the
	// code, at the probability in percent; {} resets every trigger.
	trig := map[string]any{}
	if senderCode != 0 {
		trig["Sender"] = map[string]int{"ErrorCode": senderCode, "Probability": 100}
	}
	b, _ := json.Marshal(trig)
	req, _ := http.NewRequest(http.MethodPut, "http://"+m.api+"/api/v1/chaos", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit chaos: HTTP %d", resp.StatusCode)
	}
}

// countSubjects counts the received mails per subject.
func countSubjects(list []mailpitSummary) map[string]int {
	out := map[string]int{}
	for _, s := range list {
		out[s.Subject]++
	}
	return out
}

func mailSetup(t *testing.T, security ...string) (*mailpit, SMTP) {
	sec := ""
	if len(security) > 0 {
		sec = security[0]
	}
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "auth")
	if err := os.WriteFile(auth, []byte("greenbot:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := startMailpit(t, dir, auth, sec)
	host, port, _ := strings.Cut(mp.smtp, ":")
	var p int
	fmt.Sscan(port, &p)
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("s3cret pass\n"), 0o600)
	cfg := SMTP{Host: host, Port: p, Security: sec, CAFile: filepath.Join(dir, "cert.pem"), Username: "greenbot", PasswordFile: pwFile,
		From: "Green Campus Bot <bot@campus.example>", To: []string{"it@campus.example"}, Timeout: 5 * time.Second}
	return mp, cfg
}

// TestMailThroughMailpit sends a digest through a real SMTP server
// (STARTTLS required, a password file) and reads it back through its API.
func TestMailThroughMailpit(t *testing.T) {
	mp, cfg := mailSetup(t)
	mailer, err := NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	msg := digestMessage(t, "digest/daily/2026-12-05")
	if err := mailer.Send(context.Background(), msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	list := mp.messages(t)
	if len(list) != 1 {
		t.Fatalf("mailpit holds %d mails, want 1", len(list))
	}
	var got struct {
		MessageID, Subject, Text, HTML string
		From                           struct{ Address string }
		To                             []struct{ Address string }
		Inline, Attachments            []struct {
			PartID, FileName, ContentType, ContentID string
			Size                                     int
		}
	}
	mp.get(t, "/api/v1/message/"+list[0].ID, &got)
	if got.Subject != msg.Subject {
		t.Errorf("subject %q, want %q", got.Subject, msg.Subject)
	}
	if got.MessageID != messageID(msg.ID, cfg.From) {
		t.Errorf("Message-ID %q, want %q (derived from the message's ID)", got.MessageID, messageID(msg.ID, cfg.From))
	}
	if got.From.Address != "bot@campus.example" || len(got.To) != 1 || got.To[0].Address != "it@campus.example" {
		t.Errorf("from %v to %v", got.From, got.To)
	}
	for _, want := range []string{"12,4 kWh", "1 722 charges"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("text part %q lacks %q", got.Text, want)
		}
		if !strings.Contains(got.HTML, want) {
			t.Errorf("HTML part %q lacks %q", got.HTML, want)
		}
	}
	if !strings.Contains(got.HTML, `src="cid:week"`) || !strings.Contains(got.HTML, "<b>kvm-0</b>") {
		t.Errorf("HTML part %q lost its markup or its picture's reference", got.HTML)
	}
	if len(got.Attachments) != 0 || len(got.Inline) != 1 {
		t.Fatalf("%d inline parts and %d attachments, want the chart inline only", len(got.Inline), len(got.Attachments))
	}
	in := got.Inline[0]
	if in.ContentID != "week" || in.ContentType != "image/png" || in.FileName != "week.png" {
		t.Errorf("inline part %+v, want week.png image/png cid week", in)
	}
	var data []byte
	mp.get(t, "/api/v1/message/"+list[0].ID+"/part/"+in.PartID, &data)
	if !bytes.Equal(data, msg.Images[0].Data) {
		t.Errorf("inline picture: %d bytes, not the %d sent", len(data), len(msg.Images[0].Data))
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Errorf("inline picture is not a PNG: %v", err)
	}
}

// TestMailImplicitTLS: a server that speaks TLS from the first byte
// (port 465's way) takes the mail with security = "tls"; a client set for
// STARTTLS waits for a greeting that never comes, and gives up within its
// bound (it once waited for ever), sending nothing in clear.
func TestMailImplicitTLS(t *testing.T) {
	mp, cfg := mailSetup(t, "tls")
	mailer, err := NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := mailer.Send(context.Background(), digestMessage(t, "tls")); err != nil {
		t.Fatalf("send over TLS: %v", err)
	}
	cfg.Security = "starttls"
	cfg.Timeout = 2 * time.Second
	plain, _ := NewMailer(cfg)
	begin := time.Now()
	if err := plain.Send(context.Background(), digestMessage(t, "starttls")); err == nil {
		t.Error("a STARTTLS client got through to a TLS-only server")
	} else if temp, _ := temporary(err); !temp {
		t.Errorf("no greeting within the bound is a refusal for now, not %v", err)
	}
	if took := time.Since(begin); took > sessionBound*cfg.Timeout+2*time.Second {
		t.Errorf("gave up after %v, past its bound of %v", took, sessionBound*cfg.Timeout)
	}
	if n := len(mp.messages(t)); n != 1 {
		t.Errorf("%d mails received, want 1", n)
	}
}

func TestMailBadPassword(t *testing.T) {
	_, cfg := mailSetup(t)
	cfg.PasswordFile, cfg.Password = "", "wrong"
	mailer, err := NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = mailer.Send(context.Background(), digestMessage(t, "x"))
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if temp, _ := temporary(err); temp {
		t.Errorf("a refused password is taken as a refusal for now: %v", err)
	}
}

// TestMailServerDown: the SMTP server stops; two messages wait in the
// outbox; it comes back on the same port; each is received exactly once,
// and flushing or queueing them again sends nothing more. Then a 4xx
// answer (Mailpit's chaos: 451 to MAIL FROM) keeps a third for later.
func TestMailServerDown(t *testing.T) {
	mp, cfg := mailSetup(t)
	mailer, err := NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	ob, err := NewOutbox(OutboxConfig{Dir: t.TempDir()}, map[string]Sender{"it": mailer},
		slog.New(slog.NewTextHandler(&logs, nil)),
		WithClock(func() time.Time { return clock }), WithRetry(Retry{Attempts: 2, Backoff: 50 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := digestMessage(t, "digest/one")
	if err := ob.Send(ctx, first, "it"); err != nil {
		t.Fatal(err)
	}
	mp.stop()
	second, third := digestMessage(t, "alert/two"), digestMessage(t, "alert/three")
	for _, m := range []message.Message{second, third} {
		if err := ob.Send(ctx, m, "it"); err != nil {
			t.Fatalf("a refusal for now is an error: %v", err)
		}
	}
	if n, _ := ob.Pending(); n["it"] != 2 {
		t.Fatalf("%d messages waiting while the server is down, want 2", n["it"])
	}
	if !strings.Contains(logs.String(), "refused for now") {
		t.Errorf("the log does not say the message is kept:\n%s", logs.String())
	}
	mp.restart(t)
	if err := ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := ob.Pending(); n["it"] != 2 {
		t.Errorf("tried again before their time: %d waiting, want 2", n["it"])
	}
	clock = clock.Add(LateAfter)
	for range 2 {
		if err := ob.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []message.Message{first, second, third} {
		if err := ob.Send(ctx, m, "it"); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{first.Subject: 1, second.Subject: 1, third.Subject: 1}
	if got := countSubjects(mp.messages(t)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("received %v, want %v", got, want)
	}
	if n, _ := ob.Pending(); n["it"] != 0 {
		t.Errorf("%d still waiting", n["it"])
	}
	for _, s := range mp.messages(t) {
		var got struct{ Text, HTML string }
		mp.get(t, "/api/v1/message/"+s.ID, &got)
		late := strings.Contains(got.Text, "Ce message arrive en retard\u202F: il était prêt le 05/12 à 08\u202Fh\u202F00 UTC") &&
			strings.Contains(got.HTML, "<em>Ce message arrive en retard")
		if want := s.Subject != first.Subject; late != want {
			t.Errorf("%q marked late: %v, want %v (it waited 10 minutes)", s.Subject, late, want)
		}
	}
	if !strings.Contains(logs.String(), "late=") {
		t.Errorf("the log does not say a message went late:\n%s", logs.String())
	}

	mp.chaos(t, 451)
	fourth := digestMessage(t, "alert/four")
	if err := ob.Send(ctx, fourth, "it"); err != nil {
		t.Fatalf("a 451 is an error, not a refusal for now: %v", err)
	}
	if n, _ := ob.Pending(); n["it"] != 1 || !strings.Contains(logs.String(), "451") {
		t.Fatalf("after a 451, %d waiting (want 1); log:\n%s", n["it"], logs.String())
	}
	mp.chaos(t, 0)
	clock = clock.Add(2 * time.Minute)
	if err := ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want[fourth.Subject] = 1
	if got := countSubjects(mp.messages(t)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("received %v, want %v", got, want)
	}
}

// TestMailPlainRelay: a relay that takes plain mail (no STARTTLS, no
// password, like a local Postfix on port 25). The default (starttls)
// refuses to send in clear with a message that names the setting to
// change, the cause kept; security = "none" delivers.
func TestMailPlainRelay(t *testing.T) {
	mp, cfg := mailSetup(t, "none")
	cfg.Username, cfg.PasswordFile, cfg.CAFile = "", "", ""
	cfg.Security = ""
	strict, err := NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = strict.Send(context.Background(), digestMessage(t, "strict"))
	if err == nil {
		t.Fatal("the default security sent in clear to a server without STARTTLS")
	}
	for _, want := range []string{`security = "none"`, `security = "tls"`, "does not offer STARTTLS", "does not support STARTTLS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if errors.Unwrap(err) == nil {
		t.Errorf("error %q does not wrap its cause", err)
	}
	if temp, _ := temporary(err); temp {
		t.Errorf("a server without STARTTLS is no refusal for now: %v", err)
	}
	cfg.Security = "none"
	plain, err := NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Send(context.Background(), digestMessage(t, "plain")); err != nil {
		t.Fatalf("security = none: %v", err)
	}
	if n := len(mp.messages(t)); n != 1 {
		t.Errorf("%d mails received, want 1", n)
	}
}
