package deliver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/testserver"
)

// The servers' binaries, built by the Makefile (make mailpit, make
// dendrite) into the cache; a test whose binary is missing skips.
var (
	mailpitBin  = flag.String("mailpit", testserver.Cached("mailpit-v1.27.11/mailpit"), "Mailpit binary")
	dendriteDir = flag.String("dendrite", testserver.Cached("dendrite-v0.13.8"), "folder of the dendrite, generate-keys, generate-config and create-account binaries")
)

// server is a process started by a test, stopped at its end.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func start(t *testing.T, dir, name string, args ...string) *server {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(name)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	s := &server{t: t, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); logf.Close(); close(s.done) }()
	t.Cleanup(s.stop)
	return s
}

// stop ends the process (TERM, then KILL after 5 s) and waits for it.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// waitHTTP polls url until it answers 200, the process ends, or d passes.
func (s *server) waitHTTP(url string, d time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			b, _ := os.ReadFile(s.log)
			s.t.Fatalf("%s ended before it answered; its log:\n%s", s.cmd.Path, b)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(s.log)
	s.t.Fatalf("%s did not answer %s in %v; its log:\n%s", s.cmd.Path, url, d, b)
}

// waitTCP polls addr until it accepts a connection.
func waitTCP(t *testing.T, addr string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s after %v", addr, d)
}

// selfSigned writes a certificate for 127.0.0.1 and its key; the
// certificate is also the CA a client must trust.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := errors.Join(
		os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600),
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600),
	); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// mailpit is a Mailpit started by a test: SMTP with STARTTLS required and
// a password file; its HTTP API lists what it received.
type mailpit struct {
	*server
	dir, smtp, api string
	args           []string
}

// startMailpit: security "tls" requires TLS from the first byte (port
// 465's way), anything else STARTTLS.
func startMailpit(t *testing.T, dir, authFile, security string) *mailpit {
	t.Helper()
	bin := testserver.Binary(t, *mailpitBin, "mailpit")
	cert, key := selfSigned(t, dir)
	m := &mailpit{
		dir:  dir,
		smtp: fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t)),
		api:  fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t)),
	}
	m.args = []string{"--smtp", m.smtp, "--listen", m.api, "--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-disable-rdns", "--disable-version-check", "--enable-chaos"}
	if security != "none" { // "none": a plain relay, no TLS nor password
		m.args = append(m.args, "--smtp-tls-cert", cert, "--smtp-tls-key", key,
			map[bool]string{true: "--smtp-require-tls", false: "--smtp-require-starttls"}[security == "tls"],
			"--smtp-auth-file", authFile)
	}
	m.server = start(t, dir, bin, m.args...)
	m.waitHTTP("http://"+m.api+"/api/v1/info", 30*time.Second)
	waitTCP(t, m.smtp, 10*time.Second)
	return m
}

// restart starts a new Mailpit on the same ports and database.
func (m *mailpit) restart(t *testing.T) {
	t.Helper()
	m.server = start(t, m.dir, m.cmd.Path, m.args...)
	m.waitHTTP("http://"+m.api+"/api/v1/info", 30*time.Second)
	waitTCP(t, m.smtp, 10*time.Second)
}
