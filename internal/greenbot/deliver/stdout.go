package deliver

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// Stdout prints messages (for -preview and for a log read by people).
type Stdout struct {
	// Format is "text" (the default), "markdown" or "html": which of the
	// message's forms is printed.
	Format string `toml:"format"`
}

// Validate says what is wrong, naming the option.
func (c Stdout) Validate() error {
	switch c.Format {
	case "", "text", "markdown", "html":
		return nil
	}
	return fmt.Errorf("format %q: want text, markdown or html", c.Format)
}

// Printer writes each message to a writer: its subject, underlined, then
// the chosen form, then the pictures' names and what they show.
type Printer struct {
	w      io.Writer
	format string
}

// NewPrinter checks cfg.
func NewPrinter(cfg Stdout, w io.Writer) (*Printer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("stdout: %w", err)
	}
	return &Printer{w: w, format: cfg.Format}, nil
}

// Send prints m.
func (p *Printer) Send(_ context.Context, m message.Message) error {
	body := m.Text
	switch p.format {
	case "markdown":
		body = m.Markdown
	case "html":
		body = m.HTML
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\n%s\n", m.Subject, strings.Repeat("=", max(len([]rune(m.Subject)), 3)), strings.TrimRight(body, "\n"))
	for _, img := range m.Images {
		fmt.Fprintf(&b, "[%s: %s, %d bytes]\n", img.Name, img.Alt, len(img.Data))
	}
	b.WriteString("\n")
	if _, err := io.WriteString(p.w, b.String()); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	return nil
}
