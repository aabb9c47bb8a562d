package main

import (
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
)

// summary is the demo's result, also written as JSON with --json.
type summary struct {
	Peers       int          `json:"peers"`
	SizeBytes   int64        `json:"size_bytes"`
	Payload     string       `json:"payload"`
	PieceSize   string       `json:"piece_size"`
	Seconds     float64      `json:"seconds"`
	PeerSeconds []float64    `json:"peer_seconds"`
	SHA256      string       `json:"sha256"`
	AllVerified bool         `json:"all_verified"`
	Throughput  float64      `json:"aggregate_bytes_per_s"`
	Results     []peerResult `json:"results"`
	// PeakRSS is each process's peak resident memory in bytes (the kernel's high-water mark):
	// the tracker, the seeder and the largest of the leechers.
	PeakRSS map[string]int64 `json:"peak_rss_bytes,omitempty"`
}

type peerResult struct {
	Name     string  `json:"name"`
	Seconds  float64 `json:"seconds"`
	SHA256   string  `json:"sha256"`
	Verified bool    `json:"verified"`
	Error    string  `json:"error,omitempty"`
}

// summarize checks every leecher's copy against the source's SHA-256 (independently of the
// peers' own verification) and gathers the times.
func (s *swarm) summarize(source, want string, leechers []*leecher, total time.Duration) (*summary, error) {
	size, err := payloadSize(source)
	if err != nil {
		return nil, err
	}
	sum := &summary{Peers: len(leechers), SizeBytes: size, PieceSize: s.cfg.pieceSize, Payload: s.cfg.payload,
		Seconds: total.Seconds(), SHA256: want, AllVerified: true, PeakRSS: s.peakRSS(leechers)}
	for _, l := range leechers {
		r := peerResult{Name: l.name}
		ended, err := l.outcome()
		if !ended.IsZero() {
			r.Seconds = ended.Sub(l.started).Seconds()
		}
		if err == nil {
			r.SHA256, err = generate.PayloadDigest(filepath.Join(l.dir, s.cfg.payloadName()))
		}
		r.Verified = err == nil && r.SHA256 == want
		if err != nil {
			r.Error = err.Error()
		} else if !r.Verified {
			r.Error = "sha256 differs from the source"
		}
		sum.AllVerified = sum.AllVerified && r.Verified
		sum.PeerSeconds = append(sum.PeerSeconds, r.Seconds)
		sum.Results = append(sum.Results, r)
	}
	sum.Throughput = float64(sum.Peers) * float64(sum.SizeBytes) / total.Seconds()
	if !sum.AllVerified {
		return sum, fmt.Errorf("not every leecher holds a verified copy (logs in %s)", s.work)
	}
	return sum, nil
}

func printSummary(w io.Writer, s *summary) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tSECONDS\tSHA-256\tVERIFIED")
	for _, r := range s.Results {
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%v\n", r.Name, r.Seconds, short(r.SHA256), r.Verified)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n%d peers x %s in %.2f s: aggregate verified throughput %.2f GB/s (%s/s); all verified: %v\n",
		s.Peers, humanBytes(float64(s.SizeBytes)), s.Seconds, s.Throughput/1e9, humanBytes(s.Throughput), s.AllVerified)
	if len(s.PeakRSS) > 0 {
		fmt.Fprintf(w, "peak memory: tracker %s, seeder %s, largest leecher %s\n",
			humanBytes(float64(s.PeakRSS["tracker"])), humanBytes(float64(s.PeakRSS["seeder"])),
			humanBytes(float64(s.PeakRSS["leecher"])))
	}
	for _, r := range s.Results {
		if r.Error != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, r.Error)
		}
	}
}

// payloadSize is the bytes of the file at path, or of every file under the directory.
func payloadSize(path string) (int64, error) {
	var total int64
	err := filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		total += info.Size()
		return err
	})
	return total, err
}

// peakRSS gathers the processes' peak resident memory (see summary.PeakRSS); a process whose
// figure cannot be read is left out.
func (s *swarm) peakRSS(leechers []*leecher) map[string]int64 {
	out := map[string]int64{}
	s.mu.Lock()
	procs := append([]*proc(nil), s.procs...)
	s.mu.Unlock()
	for _, p := range procs {
		if p.name == "tracker" || p.name == "seeder" {
			if v, ok := p.peakRSS(); ok {
				out[p.name] = v
			}
		}
	}
	for _, l := range leechers {
		if l.proc == nil {
			continue
		}
		if v, ok := l.proc.peakRSS(); ok {
			out["leecher"] = max(out["leecher"], v)
		}
	}
	return out
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}
