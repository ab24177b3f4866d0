package deliver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	_ "image/png" // the charts' size for m.image's info
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/escape"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// Matrix is a Matrix room the bot posts to with a user's access token.
type Matrix struct {
	// Homeserver is the client-server API's base URL
	// ("https://matrix.example.org").
	Homeserver string `toml:"homeserver"`
	// AccessToken (or AccessTokenFile, whose first line is read) is the
	// bot user's token; the user must have joined Room.
	AccessToken     string `toml:"access_token"`
	AccessTokenFile string `toml:"access_token_file"`
	// Room is the room's ID ("!abc:example.org").
	Room string `toml:"room"`
	// Timeout bounds each request (default 30s).
	Timeout time.Duration `toml:"timeout"`
}

// Validate says what is missing or wrong, naming the option.
func (c Matrix) Validate() error {
	var errs []error
	if u, err := url.Parse(c.Homeserver); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("homeserver %q: want https://host[:port]", c.Homeserver))
	}
	switch {
	case c.AccessToken == "" && c.AccessTokenFile == "":
		errs = append(errs, errors.New("access_token or access_token_file is not set"))
	case c.AccessToken != "" && c.AccessTokenFile != "":
		errs = append(errs, errors.New("access_token and access_token_file are both set: keep one"))
	}
	if !strings.HasPrefix(c.Room, "!") || !strings.Contains(c.Room, ":") {
		errs = append(errs, fmt.Errorf("room %q: want a room ID such as !abc:example.org (the room's settings show it)", c.Room))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// MatrixRoom posts each message to a room: the text as one m.text event
// (HTML as its formatted body), then each picture uploaded to the media
// repository and posted as an m.image event. Each event's transaction ID
// derives from the message's ID, so a retry after a lost answer does not
// post twice.
type MatrixRoom struct {
	base  *url.URL
	token string
	room  string
	hc    *http.Client
}

// NewMatrixRoom checks cfg; it does not connect.
func NewMatrixRoom(cfg Matrix) (*MatrixRoom, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("matrix: %w", err)
	}
	token, err := secret(cfg.AccessToken, cfg.AccessTokenFile)
	if err != nil {
		return nil, fmt.Errorf("matrix: access_token_file: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	u, _ := url.Parse(strings.TrimRight(cfg.Homeserver, "/"))
	return &MatrixRoom{base: u, token: token, room: cfg.Room, hc: &http.Client{Timeout: cfg.Timeout}}, nil
}

// txnID is the transaction ID of a message's part-th event.
func txnID(id string, part int) string {
	sum := sha256.Sum256([]byte(id))
	return fmt.Sprintf("greenbot-%s-%d", hex.EncodeToString(sum[:16]), part)
}

// matrixError is the client-server API's error answer.
type matrixError struct {
	Errcode      string `json:"errcode"`
	Error        string `json:"error"`
	RetryAfterMS int64  `json:"retry_after_ms"`
}

// parseMatrixError reads an error answer; a body that is not one gives
// the zero value.
func parseMatrixError(body []byte) matrixError {
	var e matrixError
	if json.Unmarshal(body, &e) != nil {
		return matrixError{}
	}
	e.RetryAfterMS = min(max(e.RetryAfterMS, 0), 86400_000)
	return e
}

// parseUpload reads the media repository's answer to an upload.
func parseUpload(body []byte) (string, error) {
	var a struct {
		ContentURI string `json:"content_uri"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return "", fmt.Errorf("upload answer is not JSON: %w", err)
	}
	if !strings.HasPrefix(a.ContentURI, "mxc://") || len(a.ContentURI) <= len("mxc://") {
		return "", errors.New("upload answer has no mxc:// content_uri")
	}
	return a.ContentURI, nil
}

// call sends one request to the homeserver and classifies its answer.
func (r *MatrixRoom) call(ctx context.Context, method, path, query string, contentType string, body []byte) ([]byte, error) {
	// path is already escaped (the room ID's '!' and ':').
	u := r.base.String() + path
	if query != "" {
		u += "?" + query
	}
	h := http.Header{"Authorization": {"Bearer " + r.token}, "Content-Type": {contentType}}
	a, err := do(ctx, r.hc, method, u, h, body)
	if err != nil {
		return nil, fmt.Errorf("matrix %s: %w", r.base.Host, err)
	}
	if a.status == http.StatusOK {
		return a.body, nil
	}
	me := parseMatrixError(a.body)
	err = fmt.Errorf("matrix %s: %s %s: HTTP %d %s", r.base.Host, method, strings.SplitN(path, "/send/", 2)[0], a.status, clip(me.Errcode, 40))
	if refusedForNow(a.status) {
		after := a.retryAfter
		if me.RetryAfterMS > 0 {
			after = time.Duration(me.RetryAfterMS) * time.Millisecond
		}
		return nil, Temporary(err, after)
	}
	return nil, err
}

// send posts one event with its transaction ID.
func (r *MatrixRoom) send(ctx context.Context, txn string, content map[string]any) error {
	body, err := json.Marshal(content)
	if err != nil {
		return err
	}
	path := "/_matrix/client/v3/rooms/" + url.PathEscape(r.room) + "/send/m.room.message/" + url.PathEscape(txn)
	_, err = r.call(ctx, http.MethodPut, path, "", "application/json", body)
	return err
}

// Send posts m's subject and text as one event (the subject its first
// line, in bold where HTML shows), then its pictures.
func (r *MatrixRoom) Send(ctx context.Context, m message.Message) error {
	text := map[string]any{
		"msgtype": "m.text",
		"body":    escape.Mentions(m.Subject + "\n\n" + m.Text),
		// Intentional mentions (Matrix 1.7): an empty m.mentions says
		// this event mentions nobody, so no client pings on "@room".
		"m.mentions": map[string]any{},
	}
	if m.HTML != "" {
		text["format"] = "org.matrix.custom.html"
		text["formatted_body"] = escape.Mentions("<p><strong>" + html.EscapeString(m.Subject) + "</strong></p>\n" + roomHTML(m.HTML))
	}
	if b, err := json.Marshal(text); err == nil && len(b) > matrixMaxEvent {
		// Too long for a room (a homeserver answers 413 past 64 KB,
		// for good): the plain text alone, shortened.
		delete(text, "format")
		delete(text, "formatted_body")
		body := text["body"].(string)
		text["body"] = ""
		b, _ := json.Marshal(text)
		text["body"] = shortened(body, matrixMaxEvent-len(b), shortNote(m.Lang))
	}
	if err := r.send(ctx, txnID(m.ID, 0), text); err != nil {
		return err
	}
	for i, img := range m.Images {
		mxc, err := r.upload(ctx, img)
		if err != nil {
			return err
		}
		info := map[string]any{"mimetype": img.ContentType, "size": len(img.Data)}
		if c, _, err := image.DecodeConfig(bytes.NewReader(img.Data)); err == nil {
			info["w"], info["h"] = c.Width, c.Height
		}
		body := img.Alt
		if body == "" {
			body = img.Name
		}
		ev := map[string]any{
			"msgtype": "m.image", "body": escape.Mentions(body), "filename": img.Name,
			"url": mxc, "info": info, "m.mentions": map[string]any{},
		}
		if err := r.send(ctx, txnID(m.ID, i+1), ev); err != nil {
			return err
		}
	}
	return nil
}

// matrixMaxEvent is the most a text event's JSON may take: under the
// 65,536 bytes a homeserver accepts, with room for what it adds.
const matrixMaxEvent = 60 << 10

func shortNote(lang string) string {
	if lang == "fr" {
		return "(Message raccourci pour le salon\u202F: le détail de certaines machines est omis.)"
	}
	return "(Message shortened for the room: some machines' details are left out.)"
}

// shortened fits text in budget bytes of JSON string: it drops the
// detail lines (indented under an item) from the last up, then, if that
// is not enough, whole lines from the end; note ends a text so cut.
func shortened(text string, budget int, note string) string {
	lines := strings.Split(text, "\n")
	cost := make([]int, len(lines))
	total := 0
	for i, l := range lines {
		b, _ := json.Marshal(l) // escaping as the event's JSON does; +2 quotes for the "\n"
		cost[i] = len(b)
		total += cost[i]
	}
	if total <= budget {
		return text
	}
	nb, _ := json.Marshal(note)
	budget -= len(nb) + 4
	drop := make([]bool, len(lines))
	for _, detail := range []bool{true, false} {
		for i := len(lines) - 1; i >= 0 && total > budget; i-- {
			if !drop[i] && (!detail || strings.HasPrefix(lines[i], " ")) {
				drop[i], total = true, total-cost[i]
			}
		}
	}
	var out []string
	for i, l := range lines {
		if !drop[i] {
			out = append(out, l)
		}
	}
	return strings.Join(append(out, "", note), "\n")
}

// roomHTML is a mail's HTML as a room event's formatted body: the body of
// a whole document only (a client would show the head's title as text),
// without the pictures referred to by CID, which follow as m.image events
// (a room cannot resolve cid: links).
func roomHTML(h string) string {
	lower := strings.ToLower(h)
	if i := strings.Index(lower, "<body"); i >= 0 {
		if j := strings.IndexByte(lower[i:], '>'); j >= 0 {
			h, lower = h[i+j+1:], lower[i+j+1:]
		}
		if k := strings.LastIndex(lower, "</body>"); k >= 0 {
			h = h[:k]
		}
	} else if k := strings.LastIndex(lower, "</head>"); k >= 0 {
		h = h[k+len("</head>"):]
	}
	return cidImage.ReplaceAllString(h, "")
}

// cidImage is an img element whose source is a cid: link (as the bot's
// renderer writes them: its own HTML, not arbitrary markup).
var cidImage = regexp.MustCompile(`(?is)<img\b[^>]*\bsrc\s*=\s*["']cid:[^>]*>`)

// upload puts one picture in the homeserver's media repository.
func (r *MatrixRoom) upload(ctx context.Context, img message.Image) (string, error) {
	b, err := r.call(ctx, http.MethodPost, "/_matrix/media/v3/upload", url.Values{"filename": {img.Name}}.Encode(), img.ContentType, img.Data)
	if err != nil {
		return "", err
	}
	mxc, err := parseUpload(b)
	if err != nil {
		return "", fmt.Errorf("matrix %s: %w", r.base.Host, err)
	}
	return mxc, nil
}
