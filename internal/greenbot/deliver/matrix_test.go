package deliver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/message"
	"github.com/greencampus/powerinput/internal/greenbot/testserver"
)

// dendrite is a real Matrix homeserver started by a test: config made by
// its generate-config (sqlite in a temp dir, no federation), users made
// by its create-account (the shared-secret admin API).
type dendrite struct {
	*server
	base, dir, config string
}

func startDendrite(t *testing.T) *dendrite {
	t.Helper()
	bin := testserver.Binary(t, filepath.Join(*dendriteDir, "dendrite"), "dendrite")
	dir := t.TempDir()
	port := testserver.FreePort(t)
	run := func(name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(filepath.Join(*dendriteDir, name), args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("%s: %v\n%s", name, err, stderr)
		}
		return out
	}
	run("generate-keys", "--private-key", "matrix_key.pem")
	cfg := string(run("generate-config", "-ci", "-dir", dir, "-server", fmt.Sprintf("127.0.0.1:%d", port)))
	secret := make([]byte, 16)
	rand.Read(secret)
	for old, repl := range map[string]string{
		"disable_federation: false":              "disable_federation: true",
		"registration_shared_secret: complement": "registration_shared_secret: " + hex.EncodeToString(secret),
		"  level: trace":                         "  level: warn",
		// accounts only through the shared secret (create-account)
		"registration_disabled: false": "registration_disabled: true",
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("generate-config's output has no %q", old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	d := &dendrite{base: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir, config: filepath.Join(dir, "dendrite.yaml")}
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d.server = start(t, dir, bin, "-config", d.config, "-http-bind-address", fmt.Sprintf("127.0.0.1:%d", port))
	d.waitHTTP(d.base+"/_matrix/client/versions", 3*time.Minute)
	return d
}

// user makes an account with create-account and logs it in.
func (d *dendrite) user(t *testing.T, name string) string {
	t.Helper()
	pw := "pw-" + name + "-0123456789"
	cmd := exec.Command(filepath.Join(*dendriteDir, "create-account"), "-config", d.config, "-username", name, "-password", pw, "-url", d.base)
	cmd.Dir = d.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("create-account %s: %v\n%s", name, err, out)
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	d.call(t, "", http.MethodPost, "/_matrix/client/v3/login", map[string]any{
		"type": "m.login.password", "identifier": map[string]string{"type": "m.id.user", "user": name}, "password": pw,
	}, &login)
	if login.AccessToken == "" {
		t.Fatalf("login %s: no token", name)
	}
	return login.AccessToken
}

// call is one client-server API request as a test makes it.
func (d *dendrite) call(t *testing.T, token, method, path string, body, into any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d %s", method, path, resp.StatusCode, b)
	}
	if raw, ok := into.(*[]byte); ok {
		*raw = b
		return
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

type roomEvent struct {
	Type    string         `json:"type"`
	Sender  string         `json:"sender"`
	Content map[string]any `json:"content"`
}

// botEvents reads the room's messages, oldest first, sent by sender.
func (d *dendrite) botEvents(t *testing.T, token, room, sender string) []roomEvent {
	var page struct{ Chunk []roomEvent }
	d.call(t, token, http.MethodGet, "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/messages?dir=b&limit=100", nil, &page)
	var out []roomEvent
	for i := len(page.Chunk) - 1; i >= 0; i-- {
		if e := page.Chunk[i]; e.Type == "m.room.message" && e.Sender == sender {
			out = append(out, e)
		}
	}
	return out
}

// tooManyOnce is a proxy in front of the homeserver that answers the
// first event sent through it with 429 and retry_after_ms.
type tooManyOnce struct {
	mu     sync.Mutex
	proxy  *httputil.ReverseProxy
	after  time.Duration
	said   int
	saidAt time.Time
	sends  []time.Time
}

func (p *tooManyOnce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "/send/m.room.message/") {
		p.mu.Lock()
		p.sends = append(p.sends, time.Now())
		first := p.said == 0
		if first {
			p.said++
			p.saidAt = time.Now()
		}
		p.mu.Unlock()
		if first {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":%d}`, p.after.Milliseconds())
			return
		}
	}
	p.proxy.ServeHTTP(w, r)
}

// TestMatrixThroughDendrite: a user makes a room and invites the bot, the
// bot joins; a digest with its chart goes in; the user reads one text and
// one image event, and the image's bytes; sending the same message again
// (a retry after a lost answer) adds nothing. Then, through a proxy that
// answers 429 with retry_after_ms once, a second message arrives once,
// after the wait asked for.
func TestMatrixThroughDendrite(t *testing.T) {
	d := startDendrite(t)
	reader, bot := d.user(t, "reader"), d.user(t, "greenbot")
	server := strings.TrimPrefix(d.base, "http://")
	botID := "@greenbot:" + server
	var created struct {
		RoomID string `json:"room_id"`
	}
	d.call(t, reader, http.MethodPost, "/_matrix/client/v3/createRoom", map[string]any{"name": "Green campus", "preset": "private_chat"}, &created)
	d.call(t, reader, http.MethodPost, "/_matrix/client/v3/rooms/"+url.PathEscape(created.RoomID)+"/invite", map[string]string{"user_id": botID}, nil)
	d.call(t, bot, http.MethodPost, "/_matrix/client/v3/rooms/"+url.PathEscape(created.RoomID)+"/join", map[string]any{}, nil)

	room, err := NewMatrixRoom(Matrix{Homeserver: d.base, AccessToken: bot, Room: created.RoomID, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	msg := digestMessage(t, "digest/daily/2026-12-05")
	msg.Text += "VM @room-builder used 3 kWh.\n"
	msg.HTML = "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>" + msg.Subject + "</title></head>\n<body>" + msg.HTML + "</body></html>"
	ctx := context.Background()
	for range 2 {
		if err := room.Send(ctx, msg); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	evs := d.botEvents(t, reader, created.RoomID, botID)
	if len(evs) != 2 {
		t.Fatalf("%d events from the bot, want 2 (text, image) however often it is sent: %+v", len(evs), evs)
	}
	text, img := evs[0].Content, evs[1].Content
	if text["msgtype"] != "m.text" || text["format"] != "org.matrix.custom.html" {
		t.Errorf("first event %v, want m.text with an HTML body", text)
	}
	body, _ := text["body"].(string)
	html, _ := text["formatted_body"].(string)
	if !strings.HasPrefix(body, msg.Subject+"\n\n") || !strings.Contains(body, "12,4 kWh") || !strings.Contains(html, "<b>kvm-0</b>") || !strings.Contains(html, "1 722 charges") {
		t.Errorf("text event: body %q, formatted %q", body, html)
	}
	if strings.Contains(html, "<title>") || strings.Contains(html, "cid:") || strings.Count(html, msg.Subject) != 1 {
		t.Errorf("formatted body %q: a document's head or a cid: picture left in", html)
	}
	if strings.Contains(body, "@room") {
		t.Errorf("body %q can still notify the whole room", body)
	}
	if m, ok := text["m.mentions"].(map[string]any); !ok || len(m) != 0 {
		t.Errorf("m.mentions %v, want {} (nobody)", text["m.mentions"])
	}
	uri, _ := img["url"].(string)
	if img["msgtype"] != "m.image" || img["body"] != "kWh par jour" || !strings.HasPrefix(uri, "mxc://") {
		t.Fatalf("second event %v, want m.image with its alt text and an mxc:// url", img)
	}
	info, _ := img["info"].(map[string]any)
	if info["mimetype"] != "image/png" || info["w"] != float64(40) || info["h"] != float64(20) {
		t.Errorf("image info %v, want image/png 40×20", info)
	}
	var data []byte
	d.call(t, reader, http.MethodGet, "/_matrix/client/v1/media/download/"+strings.TrimPrefix(uri, "mxc://"), nil, &data)
	if !bytes.Equal(data, msg.Images[0].Data) {
		t.Errorf("downloaded image: %d bytes, not the %d sent", len(data), len(msg.Images[0].Data))
	}

	target, _ := url.Parse(d.base)
	limiter := &tooManyOnce{proxy: httputil.NewSingleHostReverseProxy(target), after: 700 * time.Millisecond}
	proxy := httptest.NewServer(limiter)
	defer proxy.Close()
	viaProxy, err := NewMatrixRoom(Matrix{Homeserver: proxy.URL, AccessToken: bot, Room: created.RoomID, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	second := alertMessage("kvm-0")
	second.HTML = "<p>High power on <b>kvm-0</b></p>"
	r := Retry{Attempts: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 5 * time.Second}
	if err := r.Do(ctx, func(ctx context.Context) error { return viaProxy.Send(ctx, second) }); err != nil {
		t.Fatalf("through the 429 proxy: %v", err)
	}
	if limiter.said != 1 || len(limiter.sends) != 2 {
		t.Fatalf("proxy said 429 %d times and saw %d sends; want 1 and 2", limiter.said, len(limiter.sends))
	}
	if waited := limiter.sends[1].Sub(limiter.saidAt); waited < limiter.after {
		t.Errorf("tried again after %v, before the %v asked", waited, limiter.after)
	}
	// The homeserver may show a sent event a moment later when the
	// machine is busy: ask again for a while before judging.
	n := 0
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		evs, n = d.botEvents(t, reader, created.RoomID, botID), 0
		for _, e := range evs {
			if b, _ := e.Content["body"].(string); strings.HasPrefix(b, "High power on kvm-0\n\nThe server kvm-0 has drawn") {
				n++
			}
		}
		if len(evs) >= 3 || time.Now().After(deadline) {
			break
		}
	}
	if n != 1 || len(evs) != 3 {
		t.Errorf("%d events for the second message (want 1), %d in all (want 3)", n, len(evs))
	}
}

func TestRoomHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`<p>a</p>`, `<p>a</p>`},
		{"<!DOCTYPE html>\n<html><head><title>T</title></head>\n<body style=\"x\"><p>a</p><p><IMG src='cid:week' alt=\"w\"></p></body></html>", `<p>a</p><p></p>`},
		{"<html><head><title>T</title></head><p>b</p>", `<p>b</p>`},
		{`<p><img src="mxc://x/y"></p>`, `<p><img src="mxc://x/y"></p>`},
	} {
		if got := roomHTML(tc.in); got != tc.want {
			t.Errorf("roomHTML(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMatrixLongMessage: a message whose event would pass the 64 KB a
// homeserver takes is sent shortened (the detail lines of the last hosts
// dropped, a note saying so), not refused for good with a 413.
func TestMatrixLongMessage(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if len(b) > 65536 {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			w.Write([]byte(`{"errcode":"M_TOO_LARGE"}`))
			return
		}
		var ev map[string]any
		json.Unmarshal(b, &ev)
		got = append(got, ev)
		w.Write([]byte(`{"event_id":"$1"}`))
	}))
	defer srv.Close()
	room, err := NewMatrixRoom(Matrix{Homeserver: srv.URL, AccessToken: "t", Room: "!r:example.org"})
	if err != nil {
		t.Fatal(err)
	}
	var text, html strings.Builder
	for i := range 600 {
		fmt.Fprintf(&text, "* pc-%03d: 1.20 kWh <b>\n    Same day last week: 1.10 kWh (+9 %%) · Mean of the 4 weeks before: 1.00 kWh (+20 %%)\n", i)
		fmt.Fprintf(&html, "<li>pc-%03d: 1.20 kWh</li>", i)
	}
	text.WriteString("\nAbout these numbers")
	for _, lang := range []string{"en", "fr"} {
		got = nil
		m := message.Message{ID: "digest-x-" + lang, Lang: lang, Subject: "Green Campus", Text: text.String(), HTML: "<ul>" + html.String() + "</ul>"}
		if err := room.Send(context.Background(), m); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if len(got) != 1 {
			t.Fatalf("%s: %d events", lang, len(got))
		}
		body, _ := got[0]["body"].(string)
		for _, want := range []string{"* pc-000: ", "* pc-599: ", "    Same day last week", "About these numbers", map[string]string{"en": "shortened", "fr": "raccourci"}[lang]} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the shortened body lacks %q", lang, want)
			}
		}
		if strings.Contains(body, "pc-599: 1.20 kWh <b>\n    Same") {
			t.Errorf("%s: the last host's details were kept", lang)
		}
	}
}
