package deliver

import (
	"errors"
	"fmt"
	"io"
)

// Destination is one place messages go, as the configuration names it:
// exactly one of its tables is set, e.g.
//
//	[destinations.it-staff.mail]
//	host = "smtp.example.org"
//	from = "Green Campus Bot <bot@example.org>"
//	to = ["it@example.org"]
type Destination struct {
	Mail    *SMTP    `toml:"mail"`
	Matrix  *Matrix  `toml:"matrix"`
	Webhook *Webhook `toml:"webhook"`
	Stdout  *Stdout  `toml:"stdout"`
}

// Validate checks that one kind is set and that it is valid.
func (d Destination) Validate() error {
	n := 0
	var err error
	if d.Mail != nil {
		n++
		err = wrapKind("mail", d.Mail.Validate())
	}
	if d.Matrix != nil {
		n++
		err = wrapKind("matrix", d.Matrix.Validate())
	}
	if d.Webhook != nil {
		n++
		err = wrapKind("webhook", d.Webhook.Validate())
	}
	if d.Stdout != nil {
		n++
		err = wrapKind("stdout", d.Stdout.Validate())
	}
	switch {
	case n == 0:
		return errors.New("no kind: set one of mail, matrix, webhook or stdout")
	case n > 1:
		return errors.New("more than one kind: set one of mail, matrix, webhook or stdout per destination")
	}
	return err
}

func wrapKind(kind string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", kind, err)
}

// Sender makes the destination's sender; stdout is where a Stdout
// destination prints.
func (d Destination) Sender(stdout io.Writer) (Sender, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	switch {
	case d.Mail != nil:
		return NewMailer(*d.Mail)
	case d.Matrix != nil:
		return NewMatrixRoom(*d.Matrix)
	case d.Webhook != nil:
		return NewWebhookPoster(*d.Webhook)
	default:
		return NewPrinter(*d.Stdout, stdout)
	}
}
