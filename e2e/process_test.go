package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary returns the path of a server binary: the environment variable env
// when set, else def. It fails the test with the fix when there is none.
func binary(t *testing.T, env, def, pkg string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		path = def
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("%s not found (%v): install it with \"apt-get install %s\" or set %s to the binary",
			path, err, pkg, env)
	}
	return path
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs a server as a plain process in its own process group, with its
// output in dir/name.log, and stops the whole group when the test ends,
// failed or not. When the test fails, the log's tail is printed.
func start(t *testing.T, dir, name, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own group, so that stop reaches anything it spawns; killed with
	// the test process should that die without running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stop(t, name, cmd.Process.Pid, exited)
		logFile.Close()
		if t.Failed() {
			t.Logf("last lines of %s:\n%s", logPath, tail(logPath, 20))
		}
	})
}

// stop sends SIGTERM to the process group of pid, then SIGKILL if it has not
// exited within 5 s.
func stop(t *testing.T, name string, pid int, exited <-chan struct{}) {
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Errorf("stop %s: %v", name, err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Errorf("%s did not stop within 5s of SIGTERM; killing it", name)
		syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// waitReady polls url until it answers 200 or ctx ends.
func waitReady(ctx context.Context, t *testing.T, name, url string) {
	t.Helper()
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s not ready at %s: %v", name, url, errors.Join(ctx.Err(), err))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(fmt.Errorf("write %s: %w", name, err))
	}
	return path
}
