package core

import "time"

// meterSlot is the width of one bucket of a rateMeter.
const meterSlot = time.Second

// rateMeter measures bytes per second over a sliding window, in one-second buckets. It is not
// safe for concurrent use: the core owns the meters of every connection.
type rateMeter struct {
	buckets []int64   // bytes per slot, a ring indexed by slot number
	last    int64     // slot number of the newest bucket
	start   time.Time // when the meter began: rates of young meters divide by their age
}

func newRateMeter(window time.Duration, now time.Time) *rateMeter {
	n := max(int(window/meterSlot), 1)
	return &rateMeter{buckets: make([]int64, n), last: slotOf(now), start: now}
}

func slotOf(t time.Time) int64 { return t.UnixNano() / int64(meterSlot) }

// Add counts n bytes at now.
func (m *rateMeter) Add(now time.Time, n int64) {
	m.advance(now)
	m.buckets[m.last%int64(len(m.buckets))] += n
}

// Rate returns bytes per second over the window ending at now (over the meter's age, at least
// one slot, when it is younger than the window).
func (m *rateMeter) Rate(now time.Time) float64 {
	m.advance(now)
	var sum int64
	for _, b := range m.buckets {
		sum += b
	}
	span := time.Duration(len(m.buckets)) * meterSlot
	if age := now.Sub(m.start); age < span {
		span = max(age, meterSlot)
	}
	return float64(sum) / span.Seconds()
}

// advance clears the buckets of the slots that passed since the last call.
func (m *rateMeter) advance(now time.Time) {
	cur := slotOf(now)
	if cur <= m.last {
		return
	}
	n := int64(len(m.buckets))
	for s := m.last + 1; s <= cur && s <= m.last+n; s++ {
		m.buckets[s%n] = 0
	}
	m.last = cur
}
