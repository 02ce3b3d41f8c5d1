package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.etcd.io/etcd/pkg/fileutil"
	"go.etcd.io/etcd/wal"
	"go.etcd.io/etcd/wal/walpb"
)

// jsonError is the {"class":C,"message":M} object of the output contract.
type jsonError struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

// panicError marks an error produced by recovering a panic inside etcd.
type panicError struct{ v interface{} }

func (p panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// classify maps an error returned by etcd's wal package to the stable class
// names shared with the C++ side (see README.md).
func classify(err error) string {
	var pe panicError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pe):
		return "Panic"
	case errors.Is(err, wal.ErrMetadataConflict):
		return "MetadataConflict"
	case errors.Is(err, wal.ErrFileNotFound):
		return "FileNotFound"
	case errors.Is(err, wal.ErrCRCMismatch), errors.Is(err, walpb.ErrCRCMismatch):
		return "CrcMismatch"
	case errors.Is(err, wal.ErrSnapshotMismatch):
		return "SnapshotMismatch"
	case errors.Is(err, wal.ErrSnapshotNotFound):
		return "SnapshotNotFound"
	case errors.Is(err, wal.ErrSliceOutOfRange):
		return "SliceOutOfRange"
	case errors.Is(err, wal.ErrDecoderNotFound):
		return "DecoderNotFound"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "UnexpectedEof"
	case errors.Is(err, wal.ErrMaxWALEntrySizeLimitExceeded):
		return "MaxEntrySizeExceeded"
	case strings.HasPrefix(err.Error(), "unexpected block type"):
		return "UnexpectedBlockType"
	case errors.Is(err, fileutil.ErrLocked):
		return "Locked"
	case errors.Is(err, os.ErrExist):
		return "AlreadyExists"
	default:
		return "Other"
	}
}

// toJSONError converts err to the output object; nil stays nil (JSON null).
func toJSONError(err error) *jsonError {
	if err == nil {
		return nil
	}
	return &jsonError{Class: classify(err), Message: err.Error()}
}

// protect runs f, turning a panic inside it into a panicError.
func protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError{r}
		}
	}()
	return f()
}
