package deliver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// SMTP is a mail destination: a submission server and the recipients.
type SMTP struct {
	// Host and Port of the submission server; Port defaults to 587 with
	// STARTTLS, 465 with TLS, 25 without.
	Host string `toml:"host"`
	Port int    `toml:"port"`
	// Security is "starttls" (the default: the server must offer it),
	// "tls" (TLS from the first byte, port 465), or "none" (plain text,
	// for a relay on the same machine).
	Security string `toml:"security"`
	// CAFile is a PEM file of the authorities to trust beyond the
	// system's (a campus CA, a test server's certificate).
	CAFile string `toml:"ca_file"`
	// Username and Password (or PasswordFile, whose first line is read)
	// authenticate; Auth is the mechanism: "auto" (the default: the
	// strongest the server offers among SCRAM-SHA-256, CRAM-MD5, LOGIN
	// and PLAIN), or one of "scram-sha-256", "cram-md5", "login", "plain".
	Username     string `toml:"username"`
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
	Auth         string `toml:"auth"`
	// From is the sender ("Green Campus Bot <bot@example.org>"), To the
	// recipients.
	From string   `toml:"from"`
	To   []string `toml:"to"`
	// Timeout bounds the connection and each command (default 30s).
	Timeout time.Duration `toml:"timeout"`
}

// smtpAuth is the mechanism an auth option names ("" is "auto").
func smtpAuth(name string) (mail.SMTPAuthType, bool) {
	switch name {
	case "", "auto":
		return mail.SMTPAuthAutoDiscover, true
	case "scram-sha-256":
		return mail.SMTPAuthSCRAMSHA256, true
	case "cram-md5":
		return mail.SMTPAuthCramMD5, true
	case "login":
		return mail.SMTPAuthLogin, true
	case "plain":
		return mail.SMTPAuthPlain, true
	}
	return "", false
}

// Validate says what is missing or wrong, naming the option.
func (c SMTP) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("host is not set"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d is not a TCP port", c.Port))
	}
	switch c.Security {
	case "", "starttls", "tls", "none":
	default:
		errs = append(errs, fmt.Errorf("security %q: want starttls, tls or none", c.Security))
	}
	if _, ok := smtpAuth(c.Auth); !ok {
		errs = append(errs, fmt.Errorf("auth %q: want auto, scram-sha-256, cram-md5, login or plain", c.Auth))
	}
	if c.Password != "" && c.PasswordFile != "" {
		errs = append(errs, errors.New("password and password_file are both set: keep one"))
	}
	if (c.Password != "" || c.PasswordFile != "") && c.Username == "" {
		errs = append(errs, errors.New("a password without a username"))
	}
	if err := mail.NewMsg().From(c.From); err != nil {
		errs = append(errs, fmt.Errorf("from %q: %w", c.From, err))
	}
	if len(c.To) == 0 {
		errs = append(errs, errors.New("to: no recipient"))
	}
	for _, to := range c.To {
		if err := mail.NewMsg().To(to); err != nil {
			errs = append(errs, fmt.Errorf("to %q: %w", to, err))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// Mailer sends each message as one mail: a text part and an HTML part as
// alternatives, the pictures inline (multipart/related, referred to by
// their CID).
type Mailer struct {
	cfg  SMTP
	port int
	opts []mail.Option
}

// NewMailer checks cfg and prepares the connection's options; it does not
// connect.
func NewMailer(cfg SMTP) (*Mailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	tlsCfg := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mail: ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mail: ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	opts := []mail.Option{mail.WithTimeout(cfg.Timeout), mail.WithTLSConfig(tlsCfg)}
	if cfg.Security != "tls" {
		// With TLS from the first byte go-mail dials itself (it then
		// knows the session is encrypted when it picks a mechanism); a
		// plain server fails the handshake within Timeout.
		opts = append(opts, mail.WithDialContextFunc(boundedDial(sessionBound*cfg.Timeout)))
	}
	port := cfg.Port
	switch cfg.Security {
	case "", "starttls":
		port = portOr(port, 587)
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "tls":
		port = portOr(port, 465)
		opts = append(opts, mail.WithSSL())
	case "none":
		port = portOr(port, 25)
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	opts = append(opts, mail.WithPort(port))
	if cfg.Username != "" {
		pw, err := secret(cfg.Password, cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("mail: password_file: %w", err)
		}
		auth, _ := smtpAuth(cfg.Auth)
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(cfg.Username), mail.WithPassword(pw))
	}
	return &Mailer{cfg: cfg, port: port, opts: opts}, nil
}

// sessionBound times Timeout bounds a whole SMTP session: go-mail bounds
// the dial and each command, but not the wait for the server's greeting
// (a server that waits for a TLS handshake the client does not start
// would hold the bot for ever).
const sessionBound = 4

// boundedDial connects and sets a deadline on every read and write of
// the session.
func boundedDial(bound time.Duration) mail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := c.SetDeadline(time.Now().Add(bound)); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
}

func portOr(p, def int) int {
	if p == 0 {
		return def
	}
	return p
}

// messageID is the mail's Message-ID, derived from the message's ID so
// that a mail client recognises a copy sent twice (after a crash between
// the server's acceptance and the outbox's record of it).
func messageID(id, from string) string {
	sum := sha256.Sum256([]byte(id))
	domain := "greenbot.invalid"
	if _, d, ok := strings.Cut(strings.TrimSuffix(from, ">"), "@"); ok && d != "" {
		domain = d
	}
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

// build makes the mail of m.
func (s *Mailer) build(m message.Message) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(s.cfg.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(messageID(m.ID, s.cfg.From))
	msg.SetDate()
	if m.Lang != "" {
		msg.SetGenHeader(mail.HeaderContentLang, m.Lang)
	}
	msg.SetGenHeader("X-Green-Campus-Bot", string(m.Kind))
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	for _, img := range m.Images {
		opts := []mail.FileOption{mail.WithFileContentType(mail.ContentType(img.ContentType))}
		if img.CID != "" {
			opts = append(opts, mail.WithFileContentID(img.CID))
		}
		if img.Alt != "" {
			opts = append(opts, mail.WithFileDescription(img.Alt))
		}
		if err := msg.EmbedReader(img.Name, bytes.NewReader(img.Data), opts...); err != nil {
			return nil, fmt.Errorf("picture %s: %w", img.Name, err)
		}
	}
	return msg, nil
}

// Send connects, sends m as one mail and disconnects. A refusal for now
// (a 4xx answer, a server that cannot be reached or times out) is a
// *RefusedError.
func (s *Mailer) Send(ctx context.Context, m message.Message) error {
	msg, err := s.build(m)
	if err != nil {
		return fmt.Errorf("mail %s: %w", m.ID, err)
	}
	c, err := mail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail to %s: %w", s.cfg.Host, err)
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	if noStartTLS(err) {
		return fmt.Errorf("mail to %s:%d: the server does not offer STARTTLS, which security = \"starttls\" (the default) requires: "+
			"for a relay on this machine or network that takes plain mail, set security = \"none\" (port 25); "+
			"for a server that speaks TLS from the first byte, set security = \"tls\" (port 465): %w", s.cfg.Host, s.port, err)
	}
	err = fmt.Errorf("mail to %s:%d: %w", s.cfg.Host, s.port, err)
	if smtpTemporary(err) {
		return Temporary(err, 0)
	}
	return err
}

// noStartTLS reports whether err is go-mail's refusal to go on in clear
// with a server that offers no STARTTLS (it has no sentinel: its text is
// matched, and TestMailPlainRelay fails if a new go-mail words it
// otherwise).
func noStartTLS(err error) bool {
	return strings.Contains(err.Error(), "does not support STARTTLS")
}

// smtpTemporary: a 4xx answer, or no answer at all (refused, reset, timed
// out), may be cured by waiting; a 5xx answer, a certificate that does not
// verify or a failed authentication will not.
func smtpTemporary(err error) bool {
	var se *mail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code != 0 {
			return code >= 400 && code < 500
		}
		return se.IsTemp()
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}
