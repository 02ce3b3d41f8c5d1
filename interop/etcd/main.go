// Command etcdwal drives etcd v3.4's own wal package (go.etcd.io/etcd/wal) so
// that the C++ `wal` library can be differentially tested against it.
//
// It only *calls* etcd's exported API; see README.md for the contract
// (workload format, JSON output format, error classes).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

const usage = `usage:
  etcdwal run WORKLOAD.jsonl DIR
  etcdwal read DIR [--mode write|read] [--snap-index I --snap-term T] [--data full|digest]
  etcdwal verify DIR [--snap-index I --snap-term T]
  etcdwal repair DIR
  etcdwal valid-snapshots DIR
  etcdwal requests DIR   (one entry per request kind etcd 3.4 writes, etcd's own Go types)
  etcdwal serve   (one JSON array of arguments per stdin line; each answer ends with "#rc N")
  etcdwal bench write DIR --entries N --size B --batch K [--segment-size S] [--unsafe-no-fsync 1]
  etcdwal bench unsynced DIR --entries N --size B [--segment-size S]
  etcdwal bench read DIR
`

// usageError is returned by argument parsing; main turns it into exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(realMain(os.Args[1:]))
}

func realMain(args []string) int {
	if len(args) < 1 {
		return failUsage("missing subcommand")
	}
	var err error
	var code int
	switch args[0] {
	case "run":
		code, err = cmdRun(args[1:])
	case "read":
		code, err = cmdRead(args[1:])
	case "verify":
		code, err = cmdVerify(args[1:])
	case "repair":
		code, err = cmdRepair(args[1:])
	case "valid-snapshots":
		code, err = cmdValidSnapshots(args[1:])
	case "requests":
		code, err = cmdRequests(args[1:])
	case "bench":
		code, err = cmdBench(args[1:])
	case "serve":
		return cmdServe()
	case "-h", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return 0
	default:
		return failUsage("unknown subcommand " + strconv.Quote(args[0]))
	}
	if err != nil {
		if ue, ok := err.(usageError); ok {
			return failUsage(ue.msg)
		}
		fmt.Fprintf(os.Stderr, "etcdwal: %v\n", err)
		return 1
	}
	return code
}

func failUsage(msg string) int {
	fmt.Fprintf(os.Stderr, "etcdwal: %s\n%s", msg, usage)
	return 2
}

// parsedArgs holds positional arguments and "--name value" / "--name=value"
// options, which may appear in any order after the subcommand.
type parsedArgs struct {
	pos  []string
	opts map[string]string
}

func parseArgs(args []string, allowed ...string) (*parsedArgs, error) {
	p := &parsedArgs{opts: map[string]string{}}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") || a == "--" {
			p.pos = append(p.pos, a)
			continue
		}
		name := strings.TrimPrefix(a, "--")
		var val string
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			name, val = name[:eq], name[eq+1:]
		} else {
			if i+1 >= len(args) {
				return nil, usageError{"option --" + name + " needs a value"}
			}
			i++
			val = args[i]
		}
		if !ok[name] {
			return nil, usageError{"unknown option --" + name}
		}
		p.opts[name] = val
	}
	return p, nil
}

func (p *parsedArgs) uint(name string, def uint64) (uint64, error) {
	s, ok := p.opts[name]
	if !ok {
		return def, nil
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, usageError{fmt.Sprintf("bad value for --%s: %q", name, s)}
	}
	return v, nil
}

func (p *parsedArgs) needPos(n int) error {
	if len(p.pos) != n {
		return usageError{fmt.Sprintf("expected %d positional argument(s), got %d", n, len(p.pos))}
	}
	return nil
}

// printJSON writes v as one compact JSON line on stdout, without Go's HTML
// escaping of <, > and &.
func printJSON(v interface{}) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	os.Stdout.Write(buf.Bytes())
}

// cmdServe answers one command per stdin line, a JSON array of its arguments
// (e.g. ["read","DIR","--mode","read"]): the command's output, then "#rc N"
// with its exit status. `run` is not served (it may end the process). The
// test harness uses it to spare a process start per check.
func cmdServe() int {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<30)
	for in.Scan() {
		var args []string
		rc := 2
		if err := json.Unmarshal(in.Bytes(), &args); err != nil || len(args) == 0 ||
			args[0] == "run" || args[0] == "serve" {
			failUsage("serve: a request is a JSON array of a subcommand (not run or serve) and its arguments")
		} else {
			rc = realMain(args)
		}
		fmt.Fprintf(os.Stdout, "#rc %d\n", rc)
	}
	return 0
}
