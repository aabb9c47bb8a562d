package peer

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progressBarWidth is the width of the bar, in characters.
const progressBarWidth = 30

// reportProgress shows progress until the session ends: a one-line bar redrawn every second
// when w is a terminal, otherwise a structured log line every ProgressInterval, with the same
// fields (percent, rates, ETA, peers).
func (s *Session) reportProgress(w io.Writer) {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	interval := s.cfg.ProgressInterval
	if tty {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			if tty {
				fmt.Fprintln(w)
			}
			return
		case <-tick.C:
		}
		st := s.Stats()
		if tty {
			fmt.Fprint(w, "\r"+progressLine(st)+"\x1b[K")
			continue
		}
		s.log.Info("Progress", "percent", fmt.Sprintf("%.1f", percent(st)),
			"pieces", st.PiecesHave, "total", st.PiecesTotal,
			"downloadRate", humanRate(st.DownloadRate), "uploadRate", humanRate(st.UploadRate),
			"eta", eta(st).String(), "peers", st.PeersConnected)
	}
}

func percent(st Stats) float64 {
	if st.PiecesTotal == 0 {
		return 100
	}
	return 100 * float64(st.PiecesHave) / float64(st.PiecesTotal)
}

// eta is the time left at the current download rate (0 when complete or not downloading).
func eta(st Stats) time.Duration {
	if st.BytesLeft == 0 || st.DownloadRate <= 0 {
		return 0
	}
	return time.Duration(float64(st.BytesLeft) / st.DownloadRate * float64(time.Second)).Round(time.Second)
}

// progressLine renders one line: bar, percent, rates, ETA and peers.
func progressLine(st Stats) string {
	p := percent(st)
	filled := int(p / 100 * progressBarWidth)
	bar := strings.Repeat("#", filled) + strings.Repeat(".", progressBarWidth-filled)
	return fmt.Sprintf("[%s] %5.1f%%  down %s  up %s  eta %s  peers %d",
		bar, p, humanRate(st.DownloadRate), humanRate(st.UploadRate), eta(st), st.PeersConnected)
}

// humanRate formats bytes/s with a binary unit.
func humanRate(r float64) string {
	units := []string{"B/s", "KiB/s", "MiB/s", "GiB/s"}
	i := 0
	for r >= 1024 && i < len(units)-1 {
		r /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", r, units[i])
}
