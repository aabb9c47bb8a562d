package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// seriesFile is what `-series` writes for one variant: the swarm's and every peer's 100 ms
// samples of its median repetition, for analysis beyond the plots.
type seriesFile struct {
	Scenario string        `json:"scenario"`
	Variant  string        `json:"variant"`
	Swarm    []swarmSample `json:"swarm"`
	Peers    []peerSeries  `json:"peers"`
}

// peerSeries is one peer's samples.
type peerSeries struct {
	Index   int      `json:"index"`
	Role    string   `json:"role"`
	DoneS   float64  `json:"done_s"`
	Samples []sample `json:"samples"`
}

// seriesSuffix ends the name of a series file.
const seriesSuffix = "-series.json"

// writeSeries writes <out>/<scenario>-<variant>-series.json.
func writeSeries(out, scenarioName string, vr *variantResult) error {
	sf := seriesFile{Scenario: scenarioName, Variant: vr.Name, Swarm: vr.best.Swarm}
	for _, p := range vr.best.Peers {
		sf.Peers = append(sf.Peers, peerSeries{Index: p.Index, Role: p.Role, DoneS: p.DoneS, Samples: p.Samples})
	}
	b, err := json.Marshal(sf)
	if err != nil {
		return err
	}
	path := filepath.Join(out, scenarioName+"-"+vr.Name+seriesSuffix)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("series: %w", err)
	}
	return nil
}
