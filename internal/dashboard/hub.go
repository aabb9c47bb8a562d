package dashboard

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"
)

// This file is the publish-subscribe side of the dashboard: one snapshot loop per watched topic
// (the swarm list, or one swarm) renders a frame every period and fans it out to the topic's
// subscribers. The tracker is only read, never waited on: a subscriber whose buffer is full is a
// slow client and is dropped.

// errTooManySubscribers refuses a subscriber beyond the hub's bound.
var errTooManySubscribers = errors.New("dashboard: too many live viewers")

// renderFunc renders a topic's current frame (a whole server-sent event).
type renderFunc func() []byte

// hub owns the topics. Owner: mu guards topics, count and every topic's subs and last.
type hub struct {
	period  time.Duration // how often a topic's loop renders: updates are coalesced to this pace
	maxSubs int           // bound on subscribers of all topics together
	buffer  int           // frames a subscriber may have queued before it is dropped as slow

	mu     sync.Mutex
	topics map[string]*topic
	count  int
}

// topic is one watched stream and its snapshot loop.
type topic struct {
	subs   map[*subscriber]struct{}
	last   []byte             // the last frame sent, to skip identical ones
	cancel context.CancelFunc // stops the loop when the last subscriber leaves
}

// subscriber receives a topic's frames; frames is closed when the hub drops it as slow.
type subscriber struct {
	frames chan []byte
}

func newHub(period time.Duration, maxSubs, buffer int) *hub {
	return &hub{period: period, maxSubs: maxSubs, buffer: buffer, topics: make(map[string]*topic)}
}

// subscribe adds a subscriber to topic key, starting the topic's loop (with render) if it is
// the first. The new subscriber gets the topic's last frame at once when there is one.
func (h *hub) subscribe(key string, render renderFunc) (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count >= h.maxSubs {
		return nil, errTooManySubscribers
	}
	t := h.topics[key]
	if t == nil {
		ctx, cancel := context.WithCancel(context.Background())
		t = &topic{subs: make(map[*subscriber]struct{}), cancel: cancel}
		h.topics[key] = t
		go h.run(ctx, t, render)
	}
	s := &subscriber{frames: make(chan []byte, h.buffer)}
	if t.last != nil {
		s.frames <- t.last
	}
	t.subs[s] = struct{}{}
	h.count++
	return s, nil
}

// unsubscribe removes s from topic key (if the hub did not drop it already) and stops the
// topic's loop when s was its last subscriber.
func (h *hub) unsubscribe(key string, s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[key]
	if t == nil {
		return
	}
	if _, ok := t.subs[s]; ok {
		delete(t.subs, s)
		h.count--
	}
	if len(t.subs) == 0 {
		t.cancel()
		delete(h.topics, key)
	}
}

// subscribers counts the live subscribers of all topics.
func (h *hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}

// run renders t's frame now and every period until ctx ends, publishing each.
func (h *hub) run(ctx context.Context, t *topic, render renderFunc) {
	ticker := time.NewTicker(h.period)
	defer ticker.Stop()
	for {
		frame := render()
		h.publish(t, frame)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// publish sends frame to every subscriber of t unless it equals the last one; a subscriber with
// a full buffer is dropped (its channel closed) rather than waited for.
func (h *hub) publish(t *topic, frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if bytes.Equal(frame, t.last) {
		return
	}
	t.last = frame
	for s := range t.subs {
		select {
		case s.frames <- frame:
		default:
			delete(t.subs, s)
			h.count--
			close(s.frames)
		}
	}
}
