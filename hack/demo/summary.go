package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// summary is the demo's result, also written as JSON with --json.
type summary struct {
	Peers       int          `json:"peers"`
	SizeBytes   int64        `json:"size_bytes"`
	PieceSize   string       `json:"piece_size"`
	Seconds     float64      `json:"seconds"`
	PeerSeconds []float64    `json:"peer_seconds"`
	SHA256      string       `json:"sha256"`
	AllVerified bool         `json:"all_verified"`
	Throughput  float64      `json:"aggregate_bytes_per_s"`
	Results     []peerResult `json:"results"`
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
	info, err := os.Stat(source)
	if err != nil {
		return nil, err
	}
	sum := &summary{Peers: len(leechers), SizeBytes: info.Size(), PieceSize: s.cfg.pieceSize,
		Seconds: total.Seconds(), SHA256: want, AllVerified: true}
	for _, l := range leechers {
		r := peerResult{Name: l.name}
		ended, err := l.outcome()
		if !ended.IsZero() {
			r.Seconds = ended.Sub(l.started).Seconds()
		}
		if err == nil {
			r.SHA256, err = metainfo.FileSHA256(filepath.Join(l.dir, fileName))
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
	for _, r := range s.Results {
		if r.Error != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, r.Error)
		}
	}
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}
