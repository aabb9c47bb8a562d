package sim

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	if os.Getenv("PROBE") == "" {
		t.Skip()
	}
	for seed := uint64(1); seed <= 4; seed++ {
		sc := labShaped(seed, 20, 8*mib, 64*kib, 1*mib)
		sc.ChokeInterval = 2 * time.Second
		for i := 1; i <= 5; i++ {
			sc.Peers[i].FreeRider = os.Getenv("NOFR") == ""
		}
		r, err := Run(sc)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("seed %d makespan %v\n", seed, r.Makespan)
		for _, s := range r.Progress {
			fmt.Printf("%v:%.3f:%d ", s.At, s.Fraction, s.Finished)
		}
		fmt.Println()
		for i, p := range r.Peers {
			fmt.Printf("%d:%.1f/%.2fF/%d ", i, p.Completed.Seconds(), float64(p.Uploaded)/float64(sc.FileSize), p.PeakConns)
		}
		fmt.Println()
	}
}
