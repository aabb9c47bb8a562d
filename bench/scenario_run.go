package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// variantResult is one variant's medians, spread and repetitions.
type variantResult struct {
	Name string `json:"name"`
	figures
	Peers              int        `json:"peers"`
	SizeBytes          int64      `json:"size_bytes"`
	PieceSize          int64      `json:"piece_size"`
	UploadCapBytesPerS int64      `json:"upload_cap_bytes_per_s"`
	MakespanSpreadS    [2]float64 `json:"makespan_spread_s"`
	// Storage is where the runs' files were (storageMemory or storageDisk); StorageNote says why,
	// when that is not what the variant asked for.
	Storage     string       `json:"storage"`
	StorageNote string       `json:"storage_note,omitempty"`
	Repetitions []repetition `json:"repetitions"`
	best        *runRecord   // the repetition plotted (the median makespan's)
}

// repetition is one run's figures, seed, events and per-peer totals.
type repetition struct {
	Seed uint64 `json:"seed"`
	figures
	Events []string     `json:"events,omitempty"`
	Peers  []peerRecord `json:"peers"`
}

// scenarioResult is what bench/results/<scenario>.json holds: the primary variant's medians at
// the top, every variant below.
type scenarioResult struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description"`
	Primary     string `json:"primary_variant"`
	variantFields
	Variants []variantResult `json:"variants"`
	Machine  machine         `json:"machine"`
	Date     string          `json:"date"`

	// Skipped lists the variants this machine cannot run, each with why.
	Skipped []string `json:"skipped,omitempty"`
}

// variantFields are the primary variant's figures, flattened into the scenario's JSON.
type variantFields struct {
	Peers              int    `json:"peers"`
	SizeBytes          int64  `json:"size_bytes"`
	PieceSize          int64  `json:"piece_size"`
	UploadCapBytesPerS int64  `json:"upload_cap_bytes_per_s"`
	Repetitions        int    `json:"repetitions"`
	Storage            string `json:"storage"`
	figures
}

// runScenario runs every variant of sc Reps times, its files where work places them.
// With series, it also writes each variant's time series (writeSeries).
func runScenario(ctx context.Context, sc scenario, work workDirs, out string, series bool, log *slog.Logger) (*scenarioResult, error) {
	res := &scenarioResult{Scenario: sc.Name, Description: sc.Description, Primary: sc.Name, Machine: describeMachine(),
		Date: time.Now().UTC().Format(time.RFC3339)}
	res.Primary = sc.Primary
	var baseline float64 // the first variant's median makespan: faults are timed against it
	for _, v := range sc.Variants {
		if why := v.Spec.unavailable(); why != "" {
			log.Warn("Variant skipped", "variant", v.Name, "why", why)
			res.Skipped = append(res.Skipped, v.Name+": "+why)
			continue
		}
		vr, err := runVariant(ctx, v, sc.Reps, work, baseline, log.With("scenario", sc.Name, "variant", v.Name))
		if err != nil {
			return nil, err
		}
		if baseline == 0 {
			baseline = vr.MakespanS
		}
		res.Variants = append(res.Variants, *vr)
		if v.Name == sc.Primary {
			res.variantFields = variantFields{Peers: vr.Peers, SizeBytes: vr.SizeBytes, PieceSize: vr.PieceSize,
				UploadCapBytesPerS: vr.UploadCapBytesPerS, Repetitions: len(vr.Repetitions), Storage: vr.Storage, figures: vr.figures}
		}
		if err := plotVariant(out, sc.Name, vr); err != nil {
			log.Warn("Plot failed", "variant", v.Name, "err", err)
		}
		if series {
			if err := writeSeries(out, sc.Name, vr); err != nil {
				return nil, err
			}
		}
	}
	if err := plotScenario(out, sc.Name, res.Variants); err != nil {
		log.Warn("Plot failed", "err", err)
	}
	return res, nil
}

// plotScenario draws the figures that compare a scenario's variants.
func plotScenario(out, name string, vs []variantResult) error {
	if len(vs) < 2 {
		return nil
	}
	if name == "client-server" {
		if err := scalingPlot(out, vs); err != nil {
			return err
		}
	}
	if name == scaleScenario {
		if err := scalePlot(out, vs); err != nil {
			return err
		}
	}
	return compareVariants(out, name, vs)
}

// runVariant runs one variant reps times, each on a file generated from a different seed, its
// files in the storage the variant asks for (workDirs.place); the directory it made for them, if
// any, is removed at the end.
func runVariant(ctx context.Context, v variant, reps int, work workDirs, baseline float64, log *slog.Logger) (*variantResult, error) {
	place, err := work.place(v.Spec)
	if err != nil {
		return nil, err
	}
	defer place.release()
	if place.note != "" {
		log.Warn("Storage not the one asked for", "storage", place.storage, "why", place.note)
	}
	vr := &variantResult{Name: v.Name, Peers: v.Spec.Leechers, SizeBytes: v.Spec.Size, PieceSize: v.Spec.PieceSize,
		UploadCapBytesPerS: v.Spec.UploadCap, Storage: place.storage, StorageNote: place.note}
	var runs []figures
	var recs []*runRecord
	for rep := range reps {
		if err := warmPageCache(place.dir, v.Spec.warmBytes()); err != nil {
			return nil, err
		}
		seed := uint64(rep + 1)
		src, err := makeSource(place.dir, v.Spec.Size, v.Spec.PieceSize, seed, v.Spec.Files)
		if err != nil {
			return nil, err
		}
		expected := time.Duration(tStar(v.Spec, src.meta.NumPieces()) * float64(time.Second))
		if baseline > 0 {
			expected = time.Duration(baseline * float64(time.Second))
		}
		rec, err := runSwarm(ctx, v.Spec, src, place.dir, expected)
		_ = os.RemoveAll(src.path)
		if err != nil {
			return nil, err
		}
		fg := computeFigures(v.Spec, src.meta.NumPieces(), rec)
		log.Info("Run done", "rep", rep, "storage", place.storage, "makespan", fg.MakespanS, "tStar", fg.TStarS, "median", fg.MedianS,
			"utilization", fg.UploadUtilization, "seederF", fg.SeederUploadOverF, "dup", fg.EndgameDupRatio,
			"verified", fg.AllVerified, "machineBusy", fg.MachineBusy, "events", rec.Events)
		runs = append(runs, fg)
		recs = append(recs, rec)
		vr.Repetitions = append(vr.Repetitions, repetition{Seed: seed, figures: fg, Events: rec.Events, Peers: rec.Peers})
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted")
		}
	}
	vr.figures = medianFigures(runs)
	vr.MakespanSpreadS = spread(runs)
	vr.best = recs[medianIndex(runs)]
	return vr, nil
}

// medianIndex is the repetition whose makespan is the median one.
func medianIndex(runs []figures) int {
	m := median(func() []float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = r.MakespanS
		}
		return xs
	}())
	best := 0
	for i, r := range runs {
		if abs(r.MakespanS-m) < abs(runs[best].MakespanS-m) {
			best = i
		}
	}
	return best
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
