package core

import "fmt"

// PieceStrategy names how the picker chooses the next piece to fetch.
type PieceStrategy string

const (
	// RarestFirst fetches the pieces the fewest connected peers hold first (the design note's
	// concept 4); the default.
	RarestFirst PieceStrategy = "rarest"
	// RandomPiece fetches missing pieces in random order, ignoring availability: the baseline the
	// swarm lab measures rarest first against.
	RandomPiece PieceStrategy = "random"
)

// ParsePieceStrategy parses a --picker flag value; "" is RarestFirst.
func ParsePieceStrategy(s string) (PieceStrategy, error) {
	switch st := PieceStrategy(s); st {
	case "":
		return RarestFirst, nil
	case RarestFirst, RandomPiece:
		return st, nil
	}
	return "", fmt.Errorf("unknown piece strategy %q (want %q or %q)", s, RarestFirst, RandomPiece)
}

// SetStrategy makes Pick follow st: availability order (RarestFirst) or random order.
func (p *Picker) SetStrategy(st PieceStrategy) { p.randomOnly = st == RandomPiece }
