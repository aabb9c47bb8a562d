package core

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// extCore is a core of a torrent whose info dict spans two metadata pieces, with one
// connection that set the extension bit and sent its extension handshake (ut_metadata as 7).
func extCore(t *testing.T) (*Core, ConnKey, time.Time) {
	t.Helper()
	now := time.Unix(1000, 0)
	c, err := New(Config{Torrent: testMeta(t, 16<<20, 16<<10), RandSeed: 1}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if n := wire.MetadataPieces(int64(len(c.metadata()))); n != 2 {
		t.Fatalf("the test torrent's info dict has %d metadata pieces, want 2", n)
	}
	key := connect(t, c, now, PeerInfo{ID: [20]byte{1}, Addr: netip.MustParseAddrPort("10.0.0.1:1"), Fast: true, Extended: true})
	peerHandshake := wire.ExtHandshake{M: map[string]uint8{wire.UTMetadata: 7, "ut_pex": 1}, V: "test"}
	mustReceive(t, c, now, key, wire.ExtendedMessage(wire.ExtHandshakeID, peerHandshake.Body()))
	return c, key, now
}

// metadataReplies decodes the ut_metadata messages among effects (sent to extended id 7).
func metadataReplies(t *testing.T, effects []Effect) []wire.MetadataMsg {
	t.Helper()
	var out []wire.MetadataMsg
	for _, e := range effects {
		if e.Kind != Send || e.Msg.ID != wire.Extended {
			continue
		}
		ext, body, err := wire.ParseExtended(e.Msg.Payload)
		if err != nil || ext != 7 {
			t.Fatalf("extended message to id %d: %v", ext, err)
		}
		m, err := wire.ParseMetadataMsg(body)
		if err != nil {
			t.Fatal(err)
		}
		m.Data = bytes.Clone(m.Data)
		out = append(out, m)
	}
	return out
}

func metadataRequest(piece int) wire.Message {
	return wire.ExtendedMessage(utMetadataID, wire.MetadataMsg{Type: wire.MetadataRequest, Piece: piece}.Body())
}

func TestExtHandshakeSentAfterTheBitfield(t *testing.T) {
	now := time.Unix(1000, 0)
	c := testCore(t, 1<<20, 64<<10)
	connect(t, c, now, PeerInfo{ID: [20]byte{1}, Addr: netip.MustParseAddrPort("10.0.0.1:1"), Fast: true, Extended: true})
	connect(t, c, now, PeerInfo{ID: [20]byte{2}, Addr: netip.MustParseAddrPort("10.0.0.2:1"), Fast: true})
	var sent []wire.Message
	for _, e := range c.Effects() {
		if e.Kind == Send {
			sent = append(sent, e.Msg)
		}
	}
	if len(sent) != 3 || sent[0].ID != wire.HaveNone || sent[1].ID != wire.Extended || sent[2].ID != wire.HaveNone {
		t.Fatalf("sent %v, want have-none and our extension handshake to the first peer only", sent)
	}
	_, body, _ := wire.ParseExtended(sent[1].Payload)
	h, err := wire.ParseExtHandshake(body)
	if err != nil {
		t.Fatal(err)
	}
	if h.M[wire.UTMetadata] != utMetadataID || h.MetadataSize != int64(len(c.meta.InfoBytes())) {
		t.Fatalf("our handshake %+v", h)
	}
}

func TestServeMetadata(t *testing.T) {
	c, key, now := extCore(t)
	c.Effects()
	mustReceive(t, c, now, key, metadataRequest(1))
	mustReceive(t, c, now, key, metadataRequest(0))
	got := metadataReplies(t, c.Effects())
	info := c.meta.InfoBytes()
	if len(got) != 2 || got[0].Type != wire.MetadataData || got[1].Type != wire.MetadataData {
		t.Fatalf("replies %+v", got)
	}
	whole := append(bytes.Clone(got[1].Data), got[0].Data...)
	if !bytes.Equal(whole, info) || got[0].TotalSize != int64(len(info)) || got[0].Piece != 1 {
		t.Fatal("the served pieces are not the info dict")
	}
	if c.Counters().MetadataPiecesServed != 2 {
		t.Fatalf("counters %+v", c.Counters())
	}
}

func TestMetadataRejects(t *testing.T) {
	c, key, now := extCore(t)
	c.Effects()
	mustReceive(t, c, now, key, metadataRequest(2)) // past the end
	if got := metadataReplies(t, c.Effects()); len(got) != 1 || got[0].Type != wire.MetadataReject || got[0].Piece != 2 {
		t.Fatalf("a piece past the end: %+v", got)
	}
	// The rate: metadataPiecesPerSecond in one second, then rejects until the window moves.
	for range metadataPiecesPerSecond + 1 {
		mustReceive(t, c, now, key, metadataRequest(1))
	}
	got := metadataReplies(t, c.Effects())
	if last := got[len(got)-1]; last.Type != wire.MetadataReject {
		t.Fatalf("request %d of one second was answered with %d", len(got), last.Type)
	}
	// The budget: twice the info dict and a piece, then only rejects, whatever the time.
	for i := range 100 {
		mustReceive(t, c, now.Add(time.Duration(i+1)*time.Second), key, metadataRequest(0))
	}
	served := c.conns[key].ext.served
	if budget := c.metadataBudget(); served > budget || served < budget-2*wire.MetadataPieceSize {
		t.Fatalf("served %d bytes, budget %d", served, budget)
	}
	got = metadataReplies(t, c.Effects())
	if got[len(got)-1].Type != wire.MetadataReject {
		t.Fatal("past the budget a request is still answered")
	}
}

func TestExtensionMessagesIgnoredOrRefused(t *testing.T) {
	c, key, now := extCore(t)
	c.Effects()
	// Unknown extensions, our own data/reject types and unknown msg_types are ignored.
	for _, m := range []wire.Message{
		wire.ExtendedMessage(42, []byte("anything")),
		wire.ExtendedMessage(utMetadataID, wire.MetadataMsg{Type: wire.MetadataData, TotalSize: 3, Data: []byte("abc")}.Body()),
		wire.ExtendedMessage(utMetadataID, wire.MetadataMsg{Type: wire.MetadataReject}.Body()),
		wire.ExtendedMessage(utMetadataID, []byte("d8:msg_typei9e5:piecei0ee")),
	} {
		mustReceive(t, c, now, key, m)
	}
	if got := c.Effects(); len(got) != 0 {
		t.Fatalf("ignored messages had effects %v", got)
	}
	// A malformed handshake or ut_metadata message breaks the protocol.
	if err := c.Receive(now, key, wire.ExtendedMessage(wire.ExtHandshakeID, []byte("i1e"))); !errors.Is(err, ErrProtocol) {
		t.Fatalf("a malformed extension handshake: %v", err)
	}
}

func TestExtendedWithoutTheBit(t *testing.T) {
	now := time.Unix(1000, 0)
	c := testCore(t, 1<<20, 64<<10)
	key := connect(t, c, now, PeerInfo{ID: [20]byte{1}, Addr: netip.MustParseAddrPort("10.0.0.1:1")})
	if err := c.Receive(now, key, metadataRequest(0)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("an extended message without the bit: %v", err)
	}
}

// A peer that did not offer ut_metadata cannot be answered; a bitfield after its extension
// handshake is still its first message.
func TestMetadataRequestWithoutOffer(t *testing.T) {
	now := time.Unix(1000, 0)
	c := testCore(t, 1<<20, 64<<10)
	key := connect(t, c, now, PeerInfo{ID: [20]byte{1}, Addr: netip.MustParseAddrPort("10.0.0.1:1"), Extended: true})
	mustReceive(t, c, now, key, wire.ExtendedMessage(wire.ExtHandshakeID, wire.ExtHandshake{}.Body()))
	mustReceive(t, c, now, key, wire.Message{ID: wire.BitfieldMsg, Payload: make([]byte, 2)})
	c.Effects()
	mustReceive(t, c, now, key, metadataRequest(0))
	if got := c.Effects(); len(got) != 0 {
		t.Fatalf("a request of a peer without ut_metadata had effects %v", got)
	}
}

// Piece layer chunks are answered from the metainfo with their proof, within a budget.
func TestServePieceLayer(t *testing.T) {
	c, key, now := extCore(t)
	c.Effects()
	root := c.meta.Info.Files[0].PiecesRoot
	ranges := PieceLayerRanges(root, c.meta.NumPieces(), c.leavesPerPiece())
	if len(ranges) != 2 || ranges[0].Length != wire.MaxHashes || ranges[0].ProofLayers != 1 {
		t.Fatalf("ranges %+v", ranges)
	}
	served := 0
	for range 10 {
		for _, r := range ranges {
			mustReceive(t, c, now, key, r.Message(wire.HashRequest))
		}
	}
	for _, e := range c.Effects() {
		switch {
		case e.Kind == Send && e.Msg.ID == wire.Hashes:
			r, hashes, err := wire.ParseHashes(e.Msg.Payload)
			if err != nil || VerifyPieceLayerHashes(r, hashes) != nil {
				t.Fatalf("answer %+v: %d bytes, %v, %v", r, len(hashes), err, VerifyPieceLayerHashes(r, hashes))
			}
			bad := bytes.Clone(hashes)
			bad[len(bad)-1] ^= 1 // the last uncle
			if VerifyPieceLayerHashes(r, bad) == nil {
				t.Fatal("a wrong uncle hash proves")
			}
			for i := range int(r.Length) {
				if k := int(r.Index) + i; k < c.meta.NumPieces() && [32]byte(hashes[i*32:i*32+32]) != c.meta.PieceHash(k) {
					t.Fatalf("hash %d is not piece %d's", i, k)
				}
			}
			served++
		case e.Kind == Send && e.Msg.ID == wire.HashReject:
		default:
			t.Fatalf("effect %v", e.Kind)
		}
	}
	if budget := c.layerBudget(); served == 0 || int64(served)*int64(wire.MaxHashes+1)*32 > budget || served == 20 {
		t.Fatalf("served %d chunks of a budget of %d bytes", served, budget)
	}
	// Another shape falls through to the leaf hash requests' rules: not served.
	odd := ranges[0]
	odd.Length, odd.ProofLayers = 256, 2
	mustReceive(t, c, now, key, odd.Message(wire.HashRequest))
	if e := c.Effects(); len(e) != 1 || e[0].Msg.ID != wire.HashReject {
		t.Fatalf("a range of another shape: %v", e)
	}
}
