package metainfo

import (
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// CreateOptions are the choices of Create and CreateDir; the zero value is valid.
type CreateOptions struct {
	// PieceLength is the piece size; 0 means DefaultPieceLength.
	PieceLength int64
	// Name is the file's (or the top directory's) name in the torrent; empty means the base
	// name of the path.
	Name string
	// Announce is the tracker's announce URL; it may be empty and set later.
	Announce string
	// Progress, if set, is called from the creating goroutine after each piece is read, with
	// the payload bytes read so far and the payload's size, and once more at the end.
	Progress func(done, total int64)
	// Include and Exclude are globs on a directory's files' slash paths relative to it, whose
	// elements match as in path.Match, and "**" matches any number of elements. A file is
	// taken when it matches some Include (or Include is empty) and no Exclude. Only CreateDir
	// uses them.
	Include, Exclude []string
}

// maxHashWorkers bounds the goroutines that hash pieces in Create.
const maxHashWorkers = 2

// Create hashes the file at path into a hybrid v1+v2 single-file torrent, or the directory at
// path into a multi-file one (see CreateDir). It streams the file a piece at a time: its memory
// does not grow with the file's size (a few piece buffers, plus 52 bytes of hashes per piece).
func Create(path string, opts CreateOptions) (*MetaInfo, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return CreateDir(path, opts)
	} else if err == nil && !st.Mode().IsRegular() { // refused before opening: a FIFO's open blocks
		return nil, fmt.Errorf("metainfo: %s: %w", path, notRegular(st.Mode()))
	}
	if err := checkOptions(&opts, path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	defer f.Close()
	length, err := regularFileSize(f)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %s: %w", path, err)
	}
	if length == 0 {
		return nil, fmt.Errorf("metainfo: %s: %w", path, ErrEmptyFile)
	}
	open := func(int) (io.ReadCloser, error) { return io.NopCloser(f), nil }
	hashes, err := hashPieces(open, []int64{length}, opts.PieceLength, opts.Progress)
	if err != nil {
		return nil, fmt.Errorf("metainfo: hashing %s: %w", path, err)
	}
	return build(opts, nil, hashes)
}

// checkOptions fills opts' defaults and checks the piece length and the name.
func checkOptions(opts *CreateOptions, path string) error {
	if opts.PieceLength == 0 {
		opts.PieceLength = DefaultPieceLength
	}
	if err := ValidPieceLength(opts.PieceLength); err != nil {
		return fmt.Errorf("metainfo: %w", err)
	}
	if opts.Name == "" {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		opts.Name = filepath.Base(path)
	}
	if err := validName(opts.Name); err != nil {
		return fmt.Errorf("metainfo: %w", err)
	}
	return nil
}

// regularFileSize returns the size of f, which must be a regular file.
func regularFileSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, notRegular(st.Mode())
	}
	return st.Size(), nil
}

// notRegular is the error for a file of this mode that is neither regular nor a directory.
func notRegular(mode os.FileMode) error {
	return fmt.Errorf("not a regular file (%s): only regular files and directories can be shared", mode.Type())
}

// build assembles the MetaInfo from the piece hashes: a single-file torrent when paths is nil,
// else a multi-file one of the files at paths (their lengths are in hashes.lengths).
func build(opts CreateOptions, paths [][]string, hashes pieceHashes) (*MetaInfo, error) {
	info := Info{
		Name:        opts.Name,
		PieceLength: opts.PieceLength,
		V1Pieces:    hashes.v1,
		Files:       make([]File, len(hashes.lengths)),
	}
	layers := make([][][32]byte, len(hashes.lengths))
	piece := 0
	for k, length := range hashes.lengths {
		f := File{Length: length, Offset: int64(piece) * opts.PieceLength}
		if paths != nil {
			f.Path = paths[k]
		}
		n := numPieces(length, opts.PieceLength)
		switch {
		case n == 1:
			f.PiecesRoot = hashes.v2[piece]
		case n > 1:
			layers[k] = hashes.v2[piece : piece+n : piece+n]
			f.PiecesRoot = layerRoot(layers[k], int(opts.PieceLength/BlockSize))
		}
		info.Files[k] = f
		piece += n
	}
	info.Length = spaceLength(hashes.lengths, opts.PieceLength)
	if paths == nil {
		info.PiecesRoot = info.Files[0].PiecesRoot
	}
	infoBytes, err := encodeInfo(info)
	if err != nil {
		return nil, err
	}
	return newMetaInfo(opts.Announce, info, layers, infoBytes), nil
}

// spaceLength is the size of the v1 piece space of files of these lengths: every file but the
// last is padded to a multiple of the piece length.
func spaceLength(lengths []int64, pieceLength int64) int64 {
	var total int64
	for k, length := range lengths {
		total += length
		if k < len(lengths)-1 {
			total += padLength(length, pieceLength)
		}
	}
	return total
}

// padLength is the length of the pad file after a file of length bytes (0 when none).
func padLength(length, pieceLength int64) int64 {
	if r := length % pieceLength; r != 0 {
		return pieceLength - r
	}
	return 0
}

// pieceHashes are the v1 (SHA-1) and v2 (merkle subtree root) hashes of every piece of the v1
// piece space, and the lengths of the files they cover.
type pieceHashes struct {
	v1      [][20]byte
	v2      [][32]byte
	lengths []int64
}

// pieceJob is one piece read from a file, waiting to be hashed: data is the whole piece of the
// v1 piece space, its first dataLen bytes the file's, then zero padding.
type pieceJob struct {
	index   int
	data    []byte
	dataLen int
	leaves  int
}

// opener opens the k-th file for hashing.
type opener func(k int) (io.ReadCloser, error)

// hashPieces reads the files of these lengths (opened by open, one at a time) a piece at a time
// and hashes the pieces on up to maxHashWorkers goroutines. The reading goroutine owns the free
// buffers; each worker writes only the hashes of the pieces it was given, so the result slices
// need no lock.
func hashPieces(open opener, lengths []int64, pieceLength int64, progress func(done, total int64)) (pieceHashes, error) {
	space := spaceLength(lengths, pieceLength)
	n := numPieces(space, pieceLength)
	out := pieceHashes{v1: make([][20]byte, n), v2: make([][32]byte, n), lengths: lengths}
	workers := min(maxHashWorkers, runtime.GOMAXPROCS(0), n)

	jobs := make(chan pieceJob)
	free := make(chan []byte, workers+1)
	for range workers + 1 {
		free <- make([]byte, min(pieceLength, space))
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var h pieceHasher
			for job := range jobs {
				out.v1[job.index] = sha1.Sum(job.data)
				out.v2[job.index] = h.root(job.data[:job.dataLen], job.leaves)
				free <- job.data[:cap(job.data)]
			}
		})
	}
	r := pieceReader{open: open, lengths: lengths, pieceLength: pieceLength, free: free, jobs: jobs, progress: progress}
	err := r.readAll()
	close(jobs)
	wg.Wait()
	if err != nil {
		return pieceHashes{}, err
	}
	if progress != nil {
		progress(r.total(), r.total())
	}
	return out, nil
}

// pieceReader reads the files' pieces into free buffers and sends them to the hashing workers.
type pieceReader struct {
	open        opener
	lengths     []int64
	pieceLength int64
	free        <-chan []byte
	jobs        chan<- pieceJob
	progress    func(done, total int64)
	done        int64
	piece       int
}

// total is the payload's size.
func (r *pieceReader) total() int64 {
	var t int64
	for _, l := range r.lengths {
		t += l
	}
	return t
}

// readAll reads every non-empty file in turn.
func (r *pieceReader) readAll() error {
	for k, length := range r.lengths {
		if length == 0 {
			continue
		}
		f, err := r.open(k)
		if err != nil {
			return err
		}
		err = r.readFile(f, length, k < len(r.lengths)-1)
		f.Close()
		if err != nil {
			return fmt.Errorf("file %d: %w", k, err)
		}
	}
	return nil
}

// readFile reads one file's pieces; padded says its last piece is filled with zeros to a whole
// piece.
func (r *pieceReader) readFile(f io.Reader, length int64, padded bool) error {
	leaves := treeLeaves(length, r.pieceLength)
	total := r.total()
	for off := int64(0); off < length; off += r.pieceLength {
		dataLen := int(min(r.pieceLength, length-off))
		buf := (<-r.free)[:dataLen]
		if _, err := io.ReadFull(f, buf); err != nil {
			return fmt.Errorf("reading piece %d at offset %d (did the file shrink?): %w", r.piece, off, err)
		}
		if padded && int64(dataLen) < r.pieceLength {
			buf = buf[:r.pieceLength]
			clear(buf[dataLen:])
		}
		r.jobs <- pieceJob{index: r.piece, data: buf, dataLen: dataLen, leaves: leaves}
		r.piece++
		r.done += int64(dataLen)
		if r.progress != nil && r.done < total {
			r.progress(r.done, total)
		}
	}
	return nil
}
