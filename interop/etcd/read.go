package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"

	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal"
	"go.etcd.io/etcd/wal/walpb"
	"go.uber.org/zap"
)

type outEntry struct {
	Index uint64 `json:"index"`
	Term  uint64 `json:"term"`
	Type  int32  `json:"type"`
	Data  string `json:"data"` // base64, or a digest (see entryData)
}

// digestOver: with --data digest, an entry's data longer than this prints as
// "crc32:XXXXXXXX:len:N" (IEEE CRC-32, as zlib's) instead of base64, so that
// comparing two readers does not cost a JSON of every payload. A digest is
// never valid base64 (':'), so the two forms cannot be confused.
const digestOver = 256

func entryData(d []byte, digest bool) string {
	if digest && len(d) > digestOver {
		return fmt.Sprintf("crc32:%08x:len:%d", crc32.ChecksumIEEE(d), len(d))
	}
	return base64.StdEncoding.EncodeToString(d)
}

// readOut is the `read` output object; field order is the key order.
type readOut struct {
	Metadata  []byte     `json:"metadata"` // nil prints as null
	HardState wlState    `json:"hard_state"`
	Entries   []outEntry `json:"entries"` // never nil, so empty prints as []
	Error     *jsonError `json:"error"`
}

func snapArgs(p *parsedArgs) (walpb.Snapshot, error) {
	i, err := p.uint("snap-index", 0)
	if err != nil {
		return walpb.Snapshot{}, err
	}
	t, err := p.uint("snap-term", 0)
	if err != nil {
		return walpb.Snapshot{}, err
	}
	return walpb.Snapshot{Index: i, Term: t}, nil
}

func makeReadOut(md []byte, st raftpb.HardState, ents []raftpb.Entry, err error, digest bool) readOut {
	out := readOut{Entries: []outEntry{}, Error: toJSONError(err)}
	// ReadAll returns data together with an error only for
	// ErrSnapshotNotFound (read mode). For every other error the data is
	// reported as zero; etcd v3.4 itself returns nil metadata/entries then,
	// but leaves a partially read HardState in place on ErrSliceOutOfRange,
	// which is deliberately normalised away here.
	if err != nil && !errors.Is(err, wal.ErrSnapshotNotFound) {
		return out
	}
	// Metadata: Go nil and empty are both printed as null. (On disk they
	// differ: Create(nil) omits the protobuf Data field, Create([]byte{})
	// writes it with length 0; both read back as empty.)
	if len(md) > 0 {
		out.Metadata = md
	}
	out.HardState = wlState{Term: st.Term, Vote: st.Vote, Commit: st.Commit}
	for _, e := range ents {
		out.Entries = append(out.Entries, outEntry{Index: e.Index, Term: e.Term, Type: int32(e.Type),
			Data: entryData(e.Data, digest)})
	}
	return out
}

func cmdRead(args []string) (int, error) {
	p, err := parseArgs(args, "mode", "snap-index", "snap-term", "data")
	if err != nil {
		return 0, err
	}
	if err := p.needPos(1); err != nil {
		return 0, err
	}
	snap, err := snapArgs(p)
	if err != nil {
		return 0, err
	}
	mode := "write"
	if m, ok := p.opts["mode"]; ok {
		mode = m
	}
	if mode != "write" && mode != "read" {
		return 0, usageError{"--mode must be write or read"}
	}
	data := p.opts["data"]
	if data != "" && data != "full" && data != "digest" {
		return 0, usageError{"--data must be full or digest"}
	}
	dir := p.pos[0]
	lg := zap.NewNop()

	var (
		md   []byte
		st   raftpb.HardState
		ents []raftpb.Entry
	)
	err = protect(func() error {
		var w *wal.WAL
		var err error
		if mode == "write" {
			w, err = wal.Open(lg, dir, snap)
		} else {
			w, err = wal.OpenForRead(lg, dir, snap)
		}
		if err != nil {
			return err
		}
		var rerr error
		md, st, ents, rerr = w.ReadAll()
		// Close errors are ignored: after OpenForRead, Close always fails
		// with "invalid argument" (it closes a nil directory handle).
		w.Close()
		return rerr
	})
	printJSON(makeReadOut(md, st, ents, err, data == "digest"))
	return 0, nil
}

func cmdVerify(args []string) (int, error) {
	p, err := parseArgs(args, "snap-index", "snap-term")
	if err != nil {
		return 0, err
	}
	if err := p.needPos(1); err != nil {
		return 0, err
	}
	snap, err := snapArgs(p)
	if err != nil {
		return 0, err
	}
	err = protect(func() error { return wal.Verify(zap.NewNop(), p.pos[0], snap) })
	printJSON(struct {
		Error *jsonError `json:"error"`
	}{toJSONError(err)})
	return 0, nil
}

func cmdRepair(args []string) (int, error) {
	p, err := parseArgs(args)
	if err != nil {
		return 0, err
	}
	if err := p.needPos(1); err != nil {
		return 0, err
	}
	var ok bool
	perr := protect(func() error { ok = wal.Repair(zap.NewNop(), p.pos[0]); return nil })
	if perr != nil {
		ok = false
	}
	printJSON(struct {
		Repaired bool `json:"repaired"`
	}{ok})
	return 0, nil
}

type outSnap struct {
	Index uint64 `json:"index"`
	Term  uint64 `json:"term"`
}

func cmdValidSnapshots(args []string) (int, error) {
	p, err := parseArgs(args)
	if err != nil {
		return 0, err
	}
	if err := p.needPos(1); err != nil {
		return 0, err
	}
	var snaps []walpb.Snapshot
	err = protect(func() error {
		var err error
		snaps, err = wal.ValidSnapshotEntries(zap.NewNop(), p.pos[0])
		return err
	})
	out := struct {
		Snapshots []outSnap  `json:"snapshots"`
		Error     *jsonError `json:"error"`
	}{Snapshots: []outSnap{}, Error: toJSONError(err)}
	if err == nil {
		for _, s := range snaps {
			out.Snapshots = append(out.Snapshots, outSnap{s.Index, s.Term})
		}
	}
	printJSON(out)
	return 0, nil
}
