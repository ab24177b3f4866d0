package gatherloop

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// prompts is where gathers are asked for: lines on stdin, and pokes (a
// signal, the poll timer).
type prompts interface {
	// next waits for a prompt: prompted is false when it returns for
	// another reason (a wake, the end); more is false at stdin's end.
	next() (prompted, more bool)
	// pending says, without waiting, whether a prompt is already there.
	pending() bool
	// poke asks for a gather from another goroutine.
	poke()
	// wake makes next return from another goroutine, without a gather.
	wake()
	// ended is closed once stdin's writer has gone, possibly with lines
	// still to read.
	ended() <-chan struct{}
	// close releases what reading stdin holds (Run's end); next then
	// returns at once, as at stdin's end.
	close()
}

// newPrompts reads prompts from r: a pipe or a socket (execd's stdin)
// through the runtime's poller, anything else in a goroutine of its own.
func newPrompts(r io.Reader) prompts {
	if f, ok := r.(*os.File); ok {
		if p := newFDPrompts(f); p != nil {
			return p
		}
	}
	return newLinePrompts(r)
}

// aLongTimeAgo is a deadline that has passed: a read waiting in the
// poller returns at once.
var aLongTimeAgo = time.Unix(1, 0)

// fdPrompts reads a pipe or a socket made non-blocking, so that the
// goroutine waiting for a line is parked in the runtime's poller, holding
// no thread: when the line comes, that goroutine runs and nothing else is
// woken. A goroutine blocked in poll(2) until the writer goes (POLLHUP)
// costs nothing per gather and tells Run of stdin's end while a gather may
// still run.
type fdPrompts struct {
	f       *os.File // a duplicate of stdin, in the poller
	rc      syscall.RawConn
	buf     [512]byte
	partial bool // bytes after the last newline: a line begun
	poked   atomic.Bool
	hup     chan struct{}
	stop    int // an eventfd that ends watch
}

func newFDPrompts(stdin *os.File) *fdPrompts {
	sc, err := stdin.SyscallConn()
	if err != nil {
		return nil
	}
	fd := -1
	if sc.Control(func(s uintptr) {
		var st syscall.Stat_t
		if syscall.Fstat(int(s), &st) != nil {
			return
		}
		if t := st.Mode & syscall.S_IFMT; t != syscall.S_IFIFO && t != syscall.S_IFSOCK {
			return // a terminal, a file: read in a goroutine
		}
		if d, err := unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0); err == nil {
			fd = d
		}
	}) != nil || fd < 0 {
		return nil
	}
	// Non-blocking is a property of the pipe's open file, which only this
	// process reads.
	if syscall.SetNonblock(fd, true) != nil {
		syscall.Close(fd)
		return nil
	}
	f := os.NewFile(uintptr(fd), "stdin")
	rc, err := f.SyscallConn()
	if err != nil || f.SetReadDeadline(time.Time{}) != nil { // not in the poller
		f.Close()
		return nil
	}
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		f.Close()
		return nil
	}
	p := &fdPrompts{f: f, rc: rc, hup: make(chan struct{}), stop: stop}
	go p.watch(fd)
	return p
}

// watch closes p.hup when stdin's writer has gone, or close is called.
// poll(2) is asked for no event on stdin but the hang-up (which it always
// reports), so lines do not wake it.
func (p *fdPrompts) watch(fd int) {
	defer close(p.hup)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}, {Fd: int32(p.stop), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, -1)
		if err == unix.EINTR || (err == nil && n == 0) {
			continue
		}
		return
	}
}

// errNotYet: nothing to read, and read was told not to wait.
var errNotYet = errors.New("nothing to read yet")

// read reads what stdin has, waiting in the poller for it if wait is set
// (until a deadline passes).
func (p *fdPrompts) read(wait bool) (int, error) {
	var n int
	var rerr error
	err := p.rc.Read(func(fd uintptr) bool {
		// Raw: stdin is non-blocking, and an ordinary call would wake
		// the scheduler's monitor thread at every prompt.
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p.buf[0])), uintptr(len(p.buf)))
			n, rerr = int(r), nil
			if e != 0 {
				n, rerr = 0, e
			}
			if rerr != syscall.EINTR {
				break
			}
		}
		return !wait || rerr != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, err
	case rerr == syscall.EAGAIN:
		return 0, errNotYet
	case rerr != nil:
		return 0, rerr
	}
	return max(n, 0), nil
}

// lines says whether b ends a line, and keeps whether it begins one.
func (p *fdPrompts) lines(b []byte) bool {
	ended := bytes.IndexByte(b, '\n') >= 0
	p.partial = b[len(b)-1] != '\n'
	return ended
}

func (p *fdPrompts) next() (prompted, more bool) {
	for {
		n, err := p.read(true)
		switch {
		case n > 0:
			if p.lines(p.buf[:n]) {
				return true, true
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
			// Poked or woken: clear the deadline before looking at the
			// poke, so a poke made meanwhile is seen now or by the next
			// read.
			p.f.SetReadDeadline(time.Time{})
			return p.poked.Swap(false), true
		default:
			// The end (or a read error, taken as the end): a last line
			// without its newline is a line, as bufio.Scanner gives it.
			return p.partial, false
		}
	}
}

func (p *fdPrompts) pending() bool {
	p.f.SetReadDeadline(time.Time{})
	prompted := p.poked.Swap(false)
	for {
		n, err := p.read(false)
		if n == 0 {
			if err == nil {
				return prompted || p.partial
			}
			return prompted
		}
		prompted = p.lines(p.buf[:n]) || prompted
	}
}

func (p *fdPrompts) poke() {
	p.poked.Store(true)
	p.f.SetReadDeadline(aLongTimeAgo)
}

func (p *fdPrompts) wake() { p.f.SetReadDeadline(aLongTimeAgo) }

func (p *fdPrompts) ended() <-chan struct{} { return p.hup }

// close ends watch, then closes the duplicate of stdin (a read waiting
// for it returns) and the eventfd: the watcher has left both by then, so
// neither number can be polled after it is reused.
func (p *fdPrompts) close() {
	one := [8]byte{1}
	unix.Write(p.stop, one[:])
	<-p.hup
	p.f.Close()
	unix.Close(p.stop)
}

// linePrompts reads lines in a goroutine of its own, for a reader that is
// no pipe (a terminal, a test's io.Pipe).
type linePrompts struct {
	prompt chan struct{} // a gather is asked for
	woken  chan struct{}
	eof    chan struct{}
}

func newLinePrompts(r io.Reader) *linePrompts {
	p := &linePrompts{prompt: make(chan struct{}, 1), woken: make(chan struct{}, 1), eof: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.poke()
		}
		close(p.eof)
	}()
	return p
}

func (p *linePrompts) next() (prompted, more bool) {
	select {
	case <-p.prompt:
		return true, true
	case <-p.woken:
		return false, true
	case <-p.eof:
		// The last line's prompt was pushed before the end was closed,
		// but select may take the end first.
		return p.pending(), false
	}
}

func (p *linePrompts) pending() bool {
	select {
	case <-p.prompt:
		return true
	default:
		return false
	}
}

func (p *linePrompts) poke() {
	select {
	case p.prompt <- struct{}{}:
	default: // a gather is already asked for
	}
}

func (p *linePrompts) wake() {
	select {
	case p.woken <- struct{}{}:
	default:
	}
}

func (p *linePrompts) ended() <-chan struct{} { return p.eof }

// close does nothing: the goroutine reading r ends at its end.
func (p *linePrompts) close() {}
