package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// watch shows every leecher's progress, as the tracker's JSON API reports it, until done closes.
// On a terminal it redraws one line per peer; otherwise it prints a one-line digest every 2 s.
func watch(ctx context.Context, tracker string, leechers []*leecher, done <-chan struct{}) {
	tty := isTerminal(os.Stdout)
	period := 2 * time.Second
	if tty {
		period = 250 * time.Millisecond
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	tc := &client.Client{BaseURL: tracker, HTTP: &http.Client{Timeout: 2 * time.Second}}
	start := time.Now()
	drawn := 0
	seen := map[string]api.Peer{} // each leecher's latest report; kept after it leaves the tracker
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		for name, p := range fetchProgress(ctx, tc) {
			seen[name] = p
		}
		if tty {
			drawn = redraw(drawn, leechers, seen, time.Since(start))
		} else {
			fmt.Println(digest(leechers, seen, time.Since(start)))
		}
	}
}

// fetchProgress is each peer's progress by name, nil while the tracker does not answer.
func fetchProgress(ctx context.Context, tc *client.Client) map[string]api.Peer {
	swarm, err := tc.Swarm(ctx, swarmName)
	if err != nil {
		return nil
	}
	byName := make(map[string]api.Peer, len(swarm.Peers))
	for _, p := range swarm.Peers {
		byName[p.Name] = p
	}
	return byName
}

func redraw(drawn int, leechers []*leecher, progress map[string]api.Peer, elapsed time.Duration) int {
	if drawn > 0 {
		fmt.Printf("\x1b[%dA", drawn)
	}
	fmt.Printf("\x1b[2K%s\n", digest(leechers, progress, elapsed))
	for _, l := range leechers {
		fmt.Printf("\x1b[2K%s\n", peerLine(l, progress[l.name]))
	}
	return len(leechers) + 1
}

func peerLine(l *leecher, p api.Peer) string {
	frac := p.Progress
	state := "leeching"
	ended, err := l.outcome()
	switch {
	case err != nil:
		state = "failed"
	case !ended.IsZero():
		frac, state = 1, "done "+ended.Sub(l.started).Round(10*time.Millisecond).String()
	}
	const width = 30
	filled := int(frac * width)
	bar := strings.Repeat("#", filled) + strings.Repeat(".", width-filled)
	return fmt.Sprintf("%-11s [%s] %5.1f%%  down %8s/s  up %8s/s  %s",
		l.name, bar, frac*100, humanBytes(p.DownloadRate), humanBytes(p.UploadRate), state)
}

func digest(leechers []*leecher, progress map[string]api.Peer, elapsed time.Duration) string {
	done, sum := 0, 0.0
	for _, l := range leechers {
		if ended, err := l.outcome(); !ended.IsZero() && err == nil {
			done++
			sum++
			continue
		}
		sum += progress[l.name].Progress
	}
	return fmt.Sprintf("t=%-7s done %d/%d  mean progress %5.1f%%",
		elapsed.Round(100*time.Millisecond), done, len(leechers), 100*sum/float64(len(leechers)))
}

func humanBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
