package peer

import (
	"bytes"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// gatedDisk holds every write until the test lets it through, and calls onWrite first.
type gatedDisk struct {
	file
	gate    chan struct{}
	onWrite func()
}

func (d gatedDisk) WriteAt(p []byte, off int64) (int, error) {
	if d.onWrite != nil {
		d.onWrite()
	}
	<-d.gate
	return d.file.WriteAt(p, off)
}

// writeBehindFixture is a download's storage of 8 pieces of 64 KiB behind a write-behind, and
// the pieces' true bytes.
func writeBehindFixture(t *testing.T, limit int64, fail func(error)) (*writeBehind, [][]byte) {
	t.Helper()
	src, meta := testTorrent(t, 512<<10, 64<<10)
	st, _, err := openStorage(meta, filepath.Join(t.TempDir(), meta.Info.Name), false, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	seed, _, err := openStorage(meta, src, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	var pieces [][]byte
	for i := range meta.NumPieces() {
		pieces = append(pieces, pieceOf(t, src, seed, i))
	}
	return newWriteBehind(st, limit, fail), pieces
}

// runWriter starts w's writer and stops it at the test's end.
func runWriter(t *testing.T, w *writeBehind) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(w.run)
	t.Cleanup(func() { w.close(); wg.Wait() })
}

// A verified piece is served while its write still waits for the disk, and is on disk once
// flushed: its next hop does not wait for the disk.
func TestWriteBehindServesAPieceBeforeItIsOnDisk(t *testing.T) {
	w, pieces := writeBehindFixture(t, 1<<20, func(err error) { t.Errorf("write failed: %v", err) })
	gate := make(chan struct{})
	w.st.file = gatedDisk{file: w.st.file, gate: gate}
	runWriter(t, w)
	want := bytes.Clone(pieces[3])
	spare, err := w.hold(3, pieces[3])
	if err != nil {
		t.Fatal(err)
	}
	if len(spare) != int(w.st.meta.Info.PieceLength) || &spare[0] == &pieces[3][0] {
		t.Fatalf("spare of %d bytes (the piece's own buffer: %v), want another buffer of a piece's size", len(spare), &spare[0] == &pieces[3][0])
	}
	clear(spare) // the core reuses the spare at once; the held piece must not change
	block := make([]byte, 16<<10)
	if err := w.readAt(block, w.st.meta.PieceOffset(3)+16<<10); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(block, want[16<<10:32<<10]) {
		t.Fatal("a held piece's block read back wrong while its write waits")
	}
	close(gate)
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	onDisk := make([]byte, len(want))
	if err := w.st.ReadAt(onDisk, w.st.meta.PieceOffset(3)); err != nil || !bytes.Equal(onDisk, want) {
		t.Fatalf("piece 3 on disk after the flush: %v, equal %v", err, bytes.Equal(onDisk, want))
	}
}

// The pieces held never pass the limit: a verifier waits for the disk instead. Every piece is
// written, in the order held.
func TestWriteBehindHoldsAtMostItsLimit(t *testing.T) {
	const pieceLen = 64 << 10
	w, pieces := writeBehindFixture(t, 2*pieceLen, func(err error) { t.Errorf("write failed: %v", err) })
	gate := make(chan struct{})
	var most atomic.Int64
	w.st.file = gatedDisk{file: w.st.file, gate: gate, onWrite: func() {
		w.mu.Lock()
		most.Store(max(most.Load(), w.bytes))
		w.mu.Unlock()
	}}
	runWriter(t, w)
	held := make(chan error, 1)
	go func() {
		for i, p := range pieces {
			if _, err := w.hold(i, bytes.Clone(p)); err != nil {
				held <- err
				return
			}
		}
		held <- nil
	}()
	for range pieces {
		gate <- struct{}{}
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	if most.Load() > 2*pieceLen {
		t.Errorf("held %d bytes at most, limit %d", most.Load(), 2*pieceLen)
	}
	for i, p := range pieces {
		got := make([]byte, len(p))
		if err := w.readAt(got, w.st.meta.PieceOffset(i)); err != nil || !bytes.Equal(got, p) {
			t.Errorf("piece %d after the flush: %v, equal %v", i, err, bytes.Equal(got, p))
		}
	}
}

// A full disk is reported once, by fail and by every later hold and flush; a piece whose write
// failed is not on disk as a good piece, and nothing blocks.
func TestWriteBehindReportsTheFirstWriteErrorOnce(t *testing.T) {
	var fails atomic.Int32
	w, pieces := writeBehindFixture(t, 1<<20, func(error) { fails.Add(1) })
	w.st.file = fullDisk{w.st.file}
	runWriter(t, w)
	if _, err := w.hold(0, pieces[0]); err != nil {
		t.Fatalf("hold before any write: %v", err)
	}
	if err := w.flush(); !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("flush: %v, want ErrDiskFull wrapping ENOSPC", err)
	}
	if back, err := w.hold(1, pieces[1]); !errors.Is(err, ErrDiskFull) || &back[0] != &pieces[1][0] {
		t.Fatalf("hold after a failed write: %v (own buffer back: %v), want ErrDiskFull and the buffer back", err, &back[0] == &pieces[1][0])
	}
	if n := fails.Load(); n != 1 {
		t.Fatalf("fail called %d times, want once", n)
	}
}

// A session that ends writes what it holds before its writer stops: a graceful stop loses no
// verified piece.
func TestWriteBehindWritesWhatItHoldsWhenClosed(t *testing.T) {
	w, pieces := writeBehindFixture(t, 1<<20, func(err error) { t.Errorf("write failed: %v", err) })
	gate := make(chan struct{})
	w.st.file = gatedDisk{file: w.st.file, gate: gate}
	for i := range 4 {
		if _, err := w.hold(i, bytes.Clone(pieces[i])); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(w.run)
	w.close()
	if _, err := w.hold(4, pieces[4]); !errors.Is(err, errWriteBehindClosed) {
		t.Fatalf("hold after close: %v, want errWriteBehindClosed", err)
	}
	close(gate)
	wg.Wait()
	for i := range 4 {
		got := make([]byte, len(pieces[i]))
		if err := w.st.ReadAt(got, w.st.meta.PieceOffset(i)); err != nil || !bytes.Equal(got, pieces[i]) {
			t.Errorf("piece %d after close: %v, equal %v", i, err, bytes.Equal(got, pieces[i]))
		}
	}
}
