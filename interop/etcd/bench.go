package main

import (
	"crypto/rand"
	"fmt"
	"time"

	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal"
	"go.etcd.io/etcd/wal/walpb"
	"go.uber.org/zap"
)

type benchOut struct {
	Entries       uint64  `json:"entries"`
	Bytes         uint64  `json:"bytes"`
	Seconds       float64 `json:"seconds"`
	EntriesPerSec float64 `json:"entries_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"` // 1 MB = 1,000,000 bytes
}

func makeBenchOut(n, bytes uint64, d time.Duration) benchOut {
	s := d.Seconds()
	o := benchOut{Entries: n, Bytes: bytes, Seconds: s}
	if s > 0 {
		o.EntriesPerSec = float64(n) / s
		o.MBPerSec = float64(bytes) / 1e6 / s
	}
	return o
}

func cmdBench(args []string) (int, error) {
	if len(args) < 1 {
		return 0, usageError{"bench needs write|unsynced|read"}
	}
	kind := args[0]
	p, err := parseArgs(args[1:], "entries", "size", "batch", "segment-size", "unsafe-no-fsync")
	if err != nil {
		return 0, err
	}
	if err := p.needPos(1); err != nil {
		return 0, err
	}
	dir := p.pos[0]
	switch kind {
	case "write", "unsynced":
		n, err := p.uint("entries", 10000)
		if err != nil {
			return 0, err
		}
		size, err := p.uint("size", 100)
		if err != nil {
			return 0, err
		}
		batch, err := p.uint("batch", 1)
		if err != nil {
			return 0, err
		}
		seg, err := p.uint("segment-size", 0)
		if err != nil {
			return 0, err
		}
		noFsync, err := p.uint("unsafe-no-fsync", 0)
		if err != nil {
			return 0, err
		}
		if kind == "unsynced" {
			batch = n // one Save => one fsync at the end
		}
		if batch == 0 {
			return 0, usageError{"--batch must be > 0"}
		}
		return benchWrite(dir, n, size, batch, int64(seg), noFsync != 0)
	case "read":
		return benchRead(dir)
	}
	return 0, usageError{"unknown bench kind " + kind}
}

// benchWrite times the Save calls plus the final Close (wal.Create, with its
// segment preallocation, and payload generation are excluded).
func benchWrite(dir string, n, size, batch uint64, seg int64, noFsync bool) (int, error) {
	setSegmentSize(seg)
	lg := zap.NewNop()
	w, err := wal.Create(lg, dir, nil)
	if err != nil {
		return 0, fmt.Errorf("create: %v", err)
	}
	if noFsync {
		w.SetUnsafeNoFsync()
	}
	payload := make([]byte, n*size)
	if _, err := rand.Read(payload); err != nil {
		return 0, err
	}
	ents := make([]raftpb.Entry, n)
	for i := uint64(0); i < n; i++ {
		ents[i] = raftpb.Entry{Index: i + 1, Term: 1, Type: raftpb.EntryNormal}
		if size > 0 {
			ents[i].Data = payload[i*size : (i+1)*size : (i+1)*size]
		}
	}
	start := time.Now()
	for lo := uint64(0); lo < n; lo += batch {
		hi := lo + batch
		if hi > n {
			hi = n
		}
		if err := w.Save(raftpb.HardState{Term: 1, Commit: hi}, ents[lo:hi]); err != nil {
			return 0, fmt.Errorf("save: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("close: %v", err)
	}
	printJSON(makeBenchOut(n, n*size, time.Since(start)))
	return 0, nil
}

// benchRead times OpenForRead + ReadAll.
func benchRead(dir string) (int, error) {
	start := time.Now()
	w, err := wal.OpenForRead(zap.NewNop(), dir, walpb.Snapshot{})
	if err != nil {
		return 0, fmt.Errorf("open: %v", err)
	}
	_, _, ents, err := w.ReadAll()
	d := time.Since(start)
	w.Close()
	if err != nil {
		return 0, fmt.Errorf("readall: %v", err)
	}
	var bytes uint64
	for _, e := range ents {
		bytes += uint64(len(e.Data))
	}
	printJSON(makeBenchOut(uint64(len(ents)), bytes, d))
	return 0, nil
}
