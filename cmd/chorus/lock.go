package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFileName is the file in the data directory that one process holds
// locked while it uses the directory.
const lockFileName = "chorus.lock"

// dataDirLock keeps one process at a time on a data directory: the embedded
// NATS store and the search index cannot be shared, and a second process on
// the same files hangs or deletes the first one's index.
//
// The lock is flock(2) on <data>/chorus.lock, which holds the owner's pid
// for the message a second process prints. The kernel drops the lock when
// its process dies, so a file left behind by a crash (or kill -9) never
// blocks the next start.
type dataDirLock struct {
	f *os.File
}

// lockDataDir creates dir if needed and locks it, or fails at once with
// "data directory <dir> in use by pid N".
func lockDataDir(dir string) (*dataDirLock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("data_dir: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := lockHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &dirInUseError{dir: dir, pid: holder}
		}
		return nil, fmt.Errorf("data_dir: lock %s: %w", path, err)
	}
	// The pid is only for the message; a lock without it still locks.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataDirLock{f: f}, nil
}

// dirInUseError says another process holds the data directory.
type dirInUseError struct{ dir, pid string }

func (e *dirInUseError) Error() string {
	return fmt.Sprintf("data directory %s in use by pid %s (stop that chorus first, or give this one another data_dir)", e.dir, e.pid)
}

// lockHolder reads the pid the holder wrote, or "unknown" while it has not
// written it yet.
func lockHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid := strings.TrimSpace(string(buf[:n]))
	if _, err := strconv.Atoi(pid); err != nil {
		return "unknown"
	}
	return pid
}

// Unlock releases the directory. The file stays: removing it would let a
// process that opened it just before see a lock nobody else can.
func (l *dataDirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
