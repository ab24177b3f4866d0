package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/greencampus/powerinput/internal/greenbot/escape"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// Webhook is a Slack-compatible incoming webhook: Slack's, Mattermost's
// or Rocket.Chat's take the same JSON.
type Webhook struct {
	// URL (or URLFile, whose first line is read: the URL is the secret)
	// is the webhook's address.
	URL     string `toml:"url"`
	URLFile string `toml:"url_file"`
	// Blocks adds Slack's layout blocks (a header with the subject, then
	// the text in sections) beside the plain "text"; Mattermost and
	// Rocket.Chat show "text" and leave the blocks aside.
	Blocks bool `toml:"blocks"`
	// Timeout bounds each request (default 30s).
	Timeout time.Duration `toml:"timeout"`
}

// Validate says what is missing or wrong, naming the option.
func (c Webhook) Validate() error {
	var errs []error
	switch {
	case c.URL == "" && c.URLFile == "":
		errs = append(errs, errors.New("url or url_file is not set"))
	case c.URL != "" && c.URLFile != "":
		errs = append(errs, errors.New("url and url_file are both set: keep one"))
	case c.URL != "":
		if err := checkHookURL(c.URL); err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// checkHookURL never repeats the URL: it holds the secret.
func checkHookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("want https://host/path")
	}
	return nil
}

// WebhookPoster posts each message to an incoming webhook. Pictures are
// not sent: an incoming webhook takes only links to images, and the
// bot's charts are not on the web.
type WebhookPoster struct {
	url    string
	host   string
	blocks bool
	hc     *http.Client
}

// NewWebhookPoster checks cfg; it does not connect.
func NewWebhookPoster(cfg Webhook) (*WebhookPoster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	raw, err := secret(cfg.URL, cfg.URLFile)
	if err != nil {
		return nil, fmt.Errorf("webhook: url_file: %w", err)
	}
	if err := checkHookURL(raw); err != nil {
		return nil, fmt.Errorf("webhook: the url in url_file: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	u, _ := url.Parse(raw)
	return &WebhookPoster{url: raw, host: u.Host, blocks: cfg.Blocks, hc: &http.Client{Timeout: cfg.Timeout}}, nil
}

// Slack's documented limits.
const (
	slackTextMax    = 40000 // "text", beyond which Slack truncates
	slackHeaderMax  = 150   // a header block's plain_text
	slackSectionMax = 3000  // a section block's text
	slackBlocksMax  = 50
)

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type string     `json:"type"`
	Text *slackText `json:"text,omitempty"`
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks,omitempty"`
}

// payload is m as Slack's incoming-webhook JSON.
func (w *WebhookPoster) payload(m message.Message) slackPayload {
	body := m.Markdown
	if body == "" {
		body = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(m.Text)
	}
	body = escape.Mentions(body)
	subject := escape.Mentions(m.Subject)
	p := slackPayload{Text: cut("*"+slackEscape(subject)+"*\n"+body, slackTextMax)}
	if !w.blocks {
		return p
	}
	p.Blocks = append(p.Blocks, slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: cut(subject, slackHeaderMax)}})
	for _, chunk := range chunks(body, slackSectionMax) {
		if len(p.Blocks) == slackBlocksMax {
			break
		}
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: chunk}})
	}
	return p
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to at most n characters, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// chunks splits s into pieces of at most n characters, at paragraph
// breaks where it can, else at line breaks, else anywhere.
func chunks(s string, n int) []string {
	var out []string
	for s != "" {
		if utf8.RuneCountInString(s) <= n {
			out = append(out, s)
			break
		}
		head := string([]rune(s)[:n])
		at := strings.LastIndex(head, "\n\n")
		if at <= 0 {
			at = strings.LastIndex(head, "\n")
		}
		if at <= 0 {
			at = len(head)
		}
		if piece := strings.TrimSpace(s[:at]); piece != "" {
			out = append(out, piece)
		}
		s = strings.TrimLeft(s[at:], "\n")
	}
	return out
}

// Send posts m. Slack answers 200 "ok"; 429 and 5xx are refusals for now.
func (w *WebhookPoster) Send(ctx context.Context, m message.Message) error {
	body, err := json.Marshal(w.payload(m))
	if err != nil {
		return err
	}
	a, err := do(ctx, w.hc, http.MethodPost, w.url, http.Header{"Content-Type": {"application/json"}}, body)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.host, err)
	}
	if a.status >= 200 && a.status < 300 {
		return nil
	}
	err = fmt.Errorf("webhook %s: HTTP %d %s", w.host, a.status, clip(string(a.body), 60))
	if refusedForNow(a.status) {
		return Temporary(err, a.retryAfter)
	}
	return err
}
