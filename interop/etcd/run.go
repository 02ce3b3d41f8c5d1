package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal"
	"go.etcd.io/etcd/wal/walpb"
	"go.uber.org/zap"
)

// defaultSegmentSize is etcd's default wal.SegmentSizeBytes (64,000,000).
var defaultSegmentSize = wal.SegmentSizeBytes

type wlState struct {
	Term   uint64 `json:"term"`
	Vote   uint64 `json:"vote"`
	Commit uint64 `json:"commit"`
}

type wlEntry struct {
	Index uint64 `json:"index"`
	Term  uint64 `json:"term"`
	Type  int32  `json:"type"`
	// encoding/json decodes base64 into []byte: null -> nil, "" -> []byte{}.
	Data []byte `json:"data"`
}

// wlOp is the union of all workload op objects; unknown keys are rejected.
type wlOp struct {
	Op          string    `json:"op"`
	Metadata    []byte    `json:"metadata"`
	SegmentSize int64     `json:"segment_size"`
	State       *wlState  `json:"state"`
	Entries     []wlEntry `json:"entries"`
	Index       uint64    `json:"index"`
	Term        uint64    `json:"term"`
	SnapIndex   uint64    `json:"snap_index"`
	SnapTerm    uint64    `json:"snap_term"`
}

type runResult struct {
	Ok      bool       `json:"ok"`
	OpIndex *int       `json:"op_index,omitempty"`
	Error   *jsonError `json:"error,omitempty"`
}

func loadWorkload(path string) ([]wlOp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ops []wlOp
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		var op wlOp
		if err := dec.Decode(&op); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("%s:%d: trailing data after op object", path, line)
		}
		switch op.Op {
		case "create", "save", "snapshot", "sync", "release_lock_to", "close", "open":
		default:
			return nil, fmt.Errorf("%s:%d: unknown op %q", path, line, op.Op)
		}
		ops = append(ops, op)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return ops, nil
}

func setSegmentSize(n int64) {
	if n > 0 {
		wal.SegmentSizeBytes = n
	} else {
		wal.SegmentSizeBytes = defaultSegmentSize
	}
}

func cmdRun(args []string) (int, error) {
	p, err := parseArgs(args)
	if err != nil {
		return 0, err
	}
	if err := p.needPos(2); err != nil {
		return 0, err
	}
	ops, err := loadWorkload(p.pos[0])
	if err != nil {
		return 0, usageError{err.Error()}
	}
	dir := p.pos[1]
	lg := zap.NewNop()

	// The WAL most recently returned by create/open. Ops are applied to it
	// as-is: a closed WAL stays current, so "save" after "close" reports
	// whatever etcd does. The WAL is never closed implicitly; records still
	// buffered at exit are lost, as after a crash.
	var w *wal.WAL

	apply := func(op *wlOp) error {
		switch op.Op {
		case "create":
			setSegmentSize(op.SegmentSize)
			nw, err := wal.Create(lg, dir, op.Metadata)
			if err != nil {
				return err
			}
			w = nw
			return nil
		case "open":
			if op.SegmentSize > 0 {
				wal.SegmentSizeBytes = op.SegmentSize
			}
			nw, err := wal.Open(lg, dir, walpb.Snapshot{Index: op.SnapIndex, Term: op.SnapTerm})
			if err != nil {
				return err
			}
			w = nw
			_, _, _, err = nw.ReadAll()
			return err
		case "save":
			if w == nil {
				return errors.New("etcdwal: no WAL (save before create/open)")
			}
			var st raftpb.HardState
			if op.State != nil {
				st = raftpb.HardState{Term: op.State.Term, Vote: op.State.Vote, Commit: op.State.Commit}
			}
			var ents []raftpb.Entry
			if len(op.Entries) > 0 {
				ents = make([]raftpb.Entry, len(op.Entries))
				for i, e := range op.Entries {
					ents[i] = raftpb.Entry{Index: e.Index, Term: e.Term, Type: raftpb.EntryType(e.Type)}
					// Empty data (null or "") is stored as nil, i.e. the
					// protobuf Data field is omitted, as raft does.
					if len(e.Data) > 0 {
						ents[i].Data = e.Data
					}
				}
			}
			return w.Save(st, ents)
		case "snapshot":
			if w == nil {
				return errors.New("etcdwal: no WAL (snapshot before create/open)")
			}
			return w.SaveSnapshot(walpb.Snapshot{Index: op.Index, Term: op.Term})
		case "sync":
			if w == nil {
				return errors.New("etcdwal: no WAL (sync before create/open)")
			}
			return w.Sync()
		case "release_lock_to":
			if w == nil {
				return errors.New("etcdwal: no WAL (release_lock_to before create/open)")
			}
			return w.ReleaseLockTo(op.Index)
		case "close":
			if w == nil {
				return errors.New("etcdwal: no WAL (close before create/open)")
			}
			return w.Close()
		}
		return fmt.Errorf("etcdwal: unknown op %q", op.Op)
	}

	for k := range ops {
		op := &ops[k]
		if err := protect(func() error { return apply(op) }); err != nil {
			idx := k
			printJSON(runResult{Ok: false, OpIndex: &idx, Error: toJSONError(err)})
			return 1, nil
		}
	}
	printJSON(runResult{Ok: true})
	return 0, nil
}
