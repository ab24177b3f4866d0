package powerinput

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/say"
)

// LineLogger writes one line per message with the level prefix that
// Telegraf's execd input reads from a plugin's stderr ("E! ", "W! ", "I! ",
// "D! "), so each message lands at its level in Telegraf's log. The shim's
// own logger starts lines with a timestamp, which execd would log as an
// error whatever the level.
type LineLogger struct {
	mu    sync.Mutex
	w     io.Writer
	level telegraf.LogLevel
}

// NewLineLogger logs messages up to level (telegraf.Info: errors, warnings
// and information) to w.
func NewLineLogger(w io.Writer, level telegraf.LogLevel) *LineLogger {
	return &LineLogger{w: w, level: level}
}

func (l *LineLogger) print(level telegraf.LogLevel, msg string) {
	if level > l.level {
		return
	}
	// One message, one line: execd reads stderr line by line.
	msg = strings.ReplaceAll(strings.TrimRight(msg, "\n"), "\n", " | ")
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %s\n", level.Indicator(), msg)
}

func (l *LineLogger) Level() telegraf.LogLevel       { return l.level }
func (*LineLogger) AddAttribute(string, interface{}) {}
func (l *LineLogger) Errorf(f string, a ...interface{}) {
	l.print(telegraf.Error, fmt.Sprintf(f, a...))
}
func (l *LineLogger) Error(a ...interface{})           { l.print(telegraf.Error, fmt.Sprint(a...)) }
func (l *LineLogger) Warnf(f string, a ...interface{}) { l.print(telegraf.Warn, fmt.Sprintf(f, a...)) }
func (l *LineLogger) Warn(a ...interface{})            { l.print(telegraf.Warn, fmt.Sprint(a...)) }
func (l *LineLogger) Infof(f string, a ...interface{}) { l.print(telegraf.Info, fmt.Sprintf(f, a...)) }
func (l *LineLogger) Info(a ...interface{})            { l.print(telegraf.Info, fmt.Sprint(a...)) }
func (l *LineLogger) Debugf(f string, a ...interface{}) {
	l.print(telegraf.Debug, fmt.Sprintf(f, a...))
}
func (l *LineLogger) Debug(a ...interface{}) { l.print(telegraf.Debug, fmt.Sprint(a...)) }
func (l *LineLogger) Tracef(f string, a ...interface{}) {
	l.print(telegraf.Trace, fmt.Sprintf(f, a...))
}
func (l *LineLogger) Trace(a ...interface{}) { l.print(telegraf.Trace, fmt.Sprint(a...)) }

// newSayer says each condition once (internal/say) through log, at its
// level.
func newSayer(log telegraf.Logger) *say.Once {
	return say.NewOnce(func(level say.Level, msg string) {
		switch level {
		case say.Error:
			log.Error(msg)
		case say.Warn:
			log.Warn(msg)
		case say.Debug:
			log.Debug(msg)
		default:
			log.Info(msg)
		}
	})
}
