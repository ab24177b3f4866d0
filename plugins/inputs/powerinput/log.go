package powerinput

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/bounded"
	"github.com/greencampus/powerinput/internal/source"
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

// sayer logs a condition once: the same message under the same key is not
// said again until the condition ends (an empty message), so a file that
// fails at every gather is one line in the log, not one per gather.
type sayer struct {
	log  telegraf.Logger
	said bounded.Map[string, string] // key → what it last said
}

func newSayer(log telegraf.Logger) *sayer { return &sayer{log: log} }

// once logs msg at level unless it is what key last said; an empty msg
// clears the key.
func (s *sayer) once(key string, level telegraf.LogLevel, msg string) {
	if last, _ := s.said.Get(key); last == msg {
		return
	}
	if msg == "" {
		s.said.Delete(key)
		return
	}
	s.said.Put(key, msg)
	switch level {
	case telegraf.Error:
		s.log.Error(msg)
	case telegraf.Warn:
		s.log.Warn(msg)
	case telegraf.Debug:
		s.log.Debug(msg)
	default:
		s.log.Info(msg)
	}
}

// source is once for the power sources, which do not know Telegraf.
func (s *sayer) source(key string, level source.Level, msg string) {
	l := telegraf.Info
	switch level {
	case source.Error:
		l = telegraf.Error
	case source.Warn:
		l = telegraf.Warn
	}
	s.once(key, l, msg)
}
