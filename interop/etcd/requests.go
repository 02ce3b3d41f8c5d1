package main

// `etcdwal requests DIR`: one entry per request kind etcd v3.4 proposes
// through raft, built with etcd's OWN Go types (etcdserverpb, raftpb,
// authpb, membership) and written with etcd's own wal.Create + Save, so
// that walctl's decoder (whose .proto declarations are copies) can be
// checked against etcd's field numbers (interop/walctl_requests_test.py).

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"go.etcd.io/etcd/auth/authpb"
	"go.etcd.io/etcd/etcdserver/api/membership"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"go.etcd.io/etcd/pkg/types"
	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal"
	"go.uber.org/zap"
)

// canon describes a gogo-protobuf message by its protobuf tags: proto
// field names (as in etcd's .proto files); fields at their zero value left
// out, but enums (as their names) and oneof members always shown; []byte
// as {"hex": ...}, strings as strings, integers as JSON numbers.
func canon(v reflect.Value) interface{} {
	for v.Kind() == reflect.Ptr || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return scalar(v, true)
	}
	out := map[string]interface{}{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if strings.HasPrefix(sf.Name, "XXX_") {
			continue
		}
		fv := v.Field(i)
		if _, ok := sf.Tag.Lookup("protobuf_oneof"); ok {
			if fv.IsNil() {
				continue
			}
			w := fv.Elem().Elem() // *Wrapper -> Wrapper{X}
			name := tagName(w.Type().Field(0).Tag.Get("protobuf"))
			out[name] = value(w.Field(0), true)
			continue
		}
		tag := sf.Tag.Get("protobuf")
		if tag == "" {
			continue
		}
		if x := value(fv, false); x != nil {
			out[tagName(tag)] = x
		}
	}
	return out
}

func tagName(tag string) string {
	for _, p := range strings.Split(tag, ",") {
		if strings.HasPrefix(p, "name=") {
			return p[len("name="):]
		}
	}
	panic("no name in protobuf tag " + tag)
}

// value of one field; nil when it is at its zero value (unless always).
func value(v reflect.Value, always bool) interface{} {
	switch v.Kind() {
	case reflect.Ptr:
		if v.IsNil() {
			return nil
		}
		if v.Elem().Kind() == reflect.Struct {
			return canon(v)
		}
		return scalar(v.Elem(), true) // *bool of proto2: set
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if v.Len() == 0 && !always {
				return nil
			}
			return map[string]string{"hex": hex.EncodeToString(v.Bytes())}
		}
		if v.Len() == 0 {
			return nil
		}
		l := make([]interface{}, v.Len())
		for i := range l {
			l[i] = canon(v.Index(i))
		}
		return l
	case reflect.Struct:
		return canon(v)
	}
	return scalar(v, always)
}

func scalar(v reflect.Value, always bool) interface{} {
	if s, ok := v.Interface().(fmt.Stringer); ok && v.Kind() == reflect.Int32 {
		return s.String() // an enum: its name, even at zero
	}
	if !always && v.IsZero() {
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.String:
		return v.String()
	}
	panic("unexpected kind " + v.Kind().String())
}

type reqEntry struct {
	Index   uint64          `json:"index"`
	Term    uint64          `json:"term"`
	Type    string          `json:"type"`
	Message string          `json:"message"`
	Kind    string          `json:"kind,omitempty"`
	Fields  interface{}     `json:"fields"`
	Member  json.RawMessage `json:"member,omitempty"`
}

type reqsOut struct {
	Metadata  interface{} `json:"metadata"`
	HardState interface{} `json:"hard_state"`
	Entries   []reqEntry  `json:"entries"`
}

func hdr(n uint64) *pb.RequestHeader {
	return &pb.RequestHeader{ID: 0x7a3c0e5d1b2f4000 + n, Username: fmt.Sprintf("user-%d", n), AuthRevision: 9000 + n}
}

func u(s string) []byte { return []byte(s) }

// The requests, in order. Every field set, to a distinctive value.
func irrs() []*pb.InternalRaftRequest {
	bin := []byte{0x00, 0xff, 0xfe, 0x01, 'k'} // not UTF-8, control bytes
	txnInner := &pb.TxnRequest{
		Compare: []*pb.Compare{{Result: pb.Compare_NOT_EQUAL, Target: pb.Compare_VALUE, Key: u("inner/c"),
			TargetUnion: &pb.Compare_Value{Value: bin}, RangeEnd: u("inner/d")}},
		Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{
			Key: u("inner/put"), Value: u("inner-value"), Lease: 0x1111, PrevKv: true}}}},
		Failure: []*pb.RequestOp{{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{
			Key: u("inner/del"), RangeEnd: u("inner/dem"), PrevKv: true}}}},
	}
	reqs := []*pb.InternalRaftRequest{
		{Range: &pb.RangeRequest{Key: u("range/a"), RangeEnd: u("range/z"), Limit: 17, Revision: 1<<60 + 7,
			SortOrder: pb.RangeRequest_DESCEND, SortTarget: pb.RangeRequest_MOD, Serializable: true, KeysOnly: true,
			CountOnly: true, MinModRevision: 101, MaxModRevision: 102, MinCreateRevision: 103, MaxCreateRevision: 104}},
		{Put: &pb.PutRequest{Key: u("put/key"), Value: u("put-value"), Lease: 0x694d71ddd4a6b21c, PrevKv: true,
			IgnoreValue: true, IgnoreLease: true}},
		{Put: &pb.PutRequest{Key: bin, Value: []byte{0x0a, 0x0b, 0x00, 0x80}}},
		{DeleteRange: &pb.DeleteRangeRequest{Key: u("del/a"), RangeEnd: u("del/b"), PrevKv: true}},
		{Txn: &pb.TxnRequest{
			Compare: []*pb.Compare{
				{Result: pb.Compare_EQUAL, Target: pb.Compare_VERSION, Key: u("c/version"),
					TargetUnion: &pb.Compare_Version{Version: 31}, RangeEnd: u("c/versioo")},
				{Result: pb.Compare_GREATER, Target: pb.Compare_VERSION, Key: u("c/negative"),
					TargetUnion: &pb.Compare_Version{Version: -2}}, // int64, not uint64: a 10-byte varint
				{Result: pb.Compare_GREATER, Target: pb.Compare_CREATE, Key: u("c/create"),
					TargetUnion: &pb.Compare_CreateRevision{CreateRevision: 32}},
				{Result: pb.Compare_LESS, Target: pb.Compare_MOD, Key: u("c/mod"),
					TargetUnion: &pb.Compare_ModRevision{ModRevision: 1<<55 + 33}},
				{Result: pb.Compare_NOT_EQUAL, Target: pb.Compare_VALUE, Key: u("c/value"),
					TargetUnion: &pb.Compare_Value{Value: u("compare-value")}},
				{Result: pb.Compare_EQUAL, Target: pb.Compare_LEASE, Key: u("c/lease"),
					TargetUnion: &pb.Compare_Lease{Lease: 0x3b2a19}},
			},
			Success: []*pb.RequestOp{
				{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: u("then/range"),
					RangeEnd: u("then/rangf"), Limit: 5, Revision: 6, SortOrder: pb.RangeRequest_ASCEND,
					SortTarget: pb.RangeRequest_VALUE, KeysOnly: true}}},
				{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: u("then/put"),
					Value: u("then-value"), Lease: 0x2222, IgnoreLease: true}}},
				{Request: &pb.RequestOp_RequestTxn{RequestTxn: txnInner}},
			},
			Failure: []*pb.RequestOp{
				{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{
					Key: u("else/del"), RangeEnd: u("else/dem"), PrevKv: true}}},
				{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: u("else/put"),
					Value: bin, IgnoreValue: true}}},
			},
		}},
		{Compaction: &pb.CompactionRequest{Revision: 4242, Physical: true}},
		{LeaseGrant: &pb.LeaseGrantRequest{TTL: 600, ID: 0x5e5e5e5e01}},
		{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 0x5e5e5e5e02}},
		{LeaseCheckpoint: &pb.LeaseCheckpointRequest{Checkpoints: []*pb.LeaseCheckpoint{
			{ID: 0x5e5e5e5e03, Remaining_TTL: 77}, {ID: 0x5e5e5e5e04, Remaining_TTL: 78}}}},
		{Alarm: &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: 0x2e1259d415f2a040, Alarm: pb.AlarmType_NOSPACE}},
		{Alarm: &pb.AlarmRequest{Action: pb.AlarmRequest_DEACTIVATE, MemberID: 0x2e1259d415f2a041, Alarm: pb.AlarmType_CORRUPT}},
		// etcd 3.4 proposes alarm GET (list) too: every field at its zero value.
		{Alarm: &pb.AlarmRequest{Action: pb.AlarmRequest_GET, Alarm: pb.AlarmType_NONE}},
		{AuthEnable: &pb.AuthEnableRequest{}},
		{AuthDisable: &pb.AuthDisableRequest{}},
		{Authenticate: &pb.InternalAuthenticateRequest{Name: "auth-name", Password: "auth-password",
			SimpleToken: "simple-token.42"}},
		{AuthUserAdd: &pb.AuthUserAddRequest{Name: "new-user", Password: "new-password",
			Options: &authpb.UserAddOptions{NoPassword: true}}},
		{AuthUserDelete: &pb.AuthUserDeleteRequest{Name: "deleted-user"}},
		{AuthUserGet: &pb.AuthUserGetRequest{Name: "got-user"}},
		{AuthUserChangePassword: &pb.AuthUserChangePasswordRequest{Name: "changed-user", Password: "changed-password"}},
		{AuthUserGrantRole: &pb.AuthUserGrantRoleRequest{User: "granted-user", Role: "granted-role"}},
		{AuthUserRevokeRole: &pb.AuthUserRevokeRoleRequest{Name: "revoked-user", Role: "revoked-role"}},
		{AuthUserList: &pb.AuthUserListRequest{}},
		{AuthRoleList: &pb.AuthRoleListRequest{}},
		{AuthRoleAdd: &pb.AuthRoleAddRequest{Name: "added-role"}},
		{AuthRoleDelete: &pb.AuthRoleDeleteRequest{Role: "deleted-role"}},
		{AuthRoleGet: &pb.AuthRoleGetRequest{Role: "got-role"}},
		{AuthRoleGrantPermission: &pb.AuthRoleGrantPermissionRequest{Name: "perm-role",
			Perm: &authpb.Permission{PermType: authpb.READWRITE, Key: u("perm/a"), RangeEnd: u("perm/b")}}},
		{AuthRoleGrantPermission: &pb.AuthRoleGrantPermissionRequest{Name: "perm-role-2",
			Perm: &authpb.Permission{PermType: authpb.WRITE, Key: bin}}},
		{AuthRoleGrantPermission: &pb.AuthRoleGrantPermissionRequest{Name: "perm-role-3",
			Perm: &authpb.Permission{PermType: authpb.READ, Key: u("perm/read")}}},
		{AuthRoleRevokePermission: &pb.AuthRoleRevokePermissionRequest{Role: "revoke-role", Key: u("rperm/a"),
			RangeEnd: u("rperm/b")}},
		// An InternalRaftRequest carrying a v2 request (the field etcd 3.4 still has).
		{V2: v2req(2)},
	}
	for i, r := range reqs {
		n := uint64(i + 1)
		r.Header = hdr(n)
		r.ID = 0x1d0000 + n
	}
	return reqs
}

func v2req(n uint64) *pb.Request {
	t := true
	return &pb.Request{ID: 0xabc000 + n, Method: "PUT", Path: fmt.Sprintf("/v2/keys/path-%d", n), Val: "v2-value",
		Dir: true, PrevValue: "v2-prev", PrevIndex: 55, PrevExist: &t, Expiration: 1<<62 + 3, Wait: true,
		Since: 66, Recursive: true, Sorted: true, Quorum: true, Time: 1700000000123456789, Stream: true, Refresh: &t}
}

// irrKind: the proto name of the request field that is set.
func irrKind(r *pb.InternalRaftRequest) string {
	v := reflect.ValueOf(r).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("protobuf")
		if tag == "" || sf.Type.Kind() != reflect.Ptr || sf.Name == "Header" {
			continue
		}
		if !v.Field(i).IsNil() {
			return tagName(tag)
		}
	}
	return ""
}

func cmdRequests(args []string) (int, error) {
	p, err := parseArgs(args)
	if err != nil {
		return 0, err
	}
	if err := p.needPos(1); err != nil {
		return 0, err
	}
	dir := p.pos[0]
	md := pb.Metadata{NodeID: 0x2e1259d415f2a040, ClusterID: 0xcdf818194e3a8c32}
	mdb, err := md.Marshal()
	if err != nil {
		return 0, err
	}
	out := reqsOut{Metadata: canon(reflect.ValueOf(&md))}
	var ents []raftpb.Entry
	add := func(typ raftpb.EntryType, msg, kind string, data []byte, fields interface{}, member []byte) {
		idx := uint64(len(ents) + 1)
		term := 1 + idx/8
		ents = append(ents, raftpb.Entry{Index: idx, Term: term, Type: typ, Data: data})
		out.Entries = append(out.Entries, reqEntry{Index: idx, Term: term, Type: typ.String(), Message: msg,
			Kind: kind, Fields: fields, Member: member})
	}
	mustJSON := func(v interface{}) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
	// A member, as etcd's AddMember marshals it into a ConfChange context.
	m1 := membership.Member{ID: types.ID(0x8e9e05c52164694d),
		RaftAttributes: membership.RaftAttributes{PeerURLs: []string{"http://10.0.0.1:2380", "http://10.0.0.1:12380"}, IsLearner: true},
		Attributes:     membership.Attributes{Name: "member-one", ClientURLs: []string{"http://10.0.0.1:2379"}}}
	cc1 := raftpb.ConfChange{ID: 0xcc01, Type: raftpb.ConfChangeAddLearnerNode, NodeID: uint64(m1.ID), Context: mustJSON(m1)}
	// A promotion, as etcd's PromoteMember writes it (ConfigChangeContext).
	m2 := membership.ConfigChangeContext{Member: membership.Member{ID: types.ID(0x91bc3c398fb3c146),
		RaftAttributes: membership.RaftAttributes{PeerURLs: []string{"http://10.0.0.2:2380"}},
		Attributes:     membership.Attributes{Name: "member-two", ClientURLs: []string{"http://10.0.0.2:2379", "http://10.0.0.2:22379"}}},
		IsPromote: true}
	cc2 := raftpb.ConfChange{ID: 0xcc02, Type: raftpb.ConfChangeAddNode, NodeID: uint64(m2.ID), Context: mustJSON(m2)}
	cc3 := raftpb.ConfChange{ID: 0xcc03, Type: raftpb.ConfChangeRemoveNode, NodeID: 0xfd422379fda50e48}
	cc4 := raftpb.ConfChange{ID: 0xcc04, Type: raftpb.ConfChangeUpdateNode, NodeID: uint64(m1.ID), Context: mustJSON(m1)}
	ccv2 := raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionJointExplicit,
		Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddNode, NodeID: 0x1001},
			{Type: raftpb.ConfChangeRemoveNode, NodeID: 0x1002}, {Type: raftpb.ConfChangeAddLearnerNode, NodeID: 0x1003},
			{Type: raftpb.ConfChangeUpdateNode, NodeID: 0x1004}},
		Context: mustJSON(m1)}
	ccv2b := raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionJointImplicit,
		Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeRemoveNode, NodeID: 0x2002}}}
	for _, cc := range []raftpb.ConfChange{cc1, cc2, cc3, cc4} {
		b, err := cc.Marshal()
		if err != nil {
			return 0, err
		}
		f := canon(reflect.ValueOf(&cc)).(map[string]interface{})
		var member []byte
		if len(cc.Context) > 0 {
			delete(f, "context")
			member = cc.Context
		}
		add(raftpb.EntryConfChange, "ConfChange", "", b, f, member)
	}
	for _, r := range irrs() {
		b, err := r.Marshal()
		if err != nil {
			return 0, err
		}
		add(raftpb.EntryNormal, "InternalRaftRequest", irrKind(r), b, canon(reflect.ValueOf(r)), nil)
	}
	// A bare v2 request, as etcd 3.4 proposes v2 API writes.
	v2 := v2req(1)
	b, err := v2.Marshal()
	if err != nil {
		return 0, err
	}
	add(raftpb.EntryNormal, "Request", "v2", b, map[string]interface{}{"v2": canon(reflect.ValueOf(v2))}, nil)
	for _, cc := range []raftpb.ConfChangeV2{ccv2, ccv2b} {
		b, err := cc.Marshal()
		if err != nil {
			return 0, err
		}
		f := canon(reflect.ValueOf(&cc)).(map[string]interface{})
		var member []byte
		if len(cc.Context) > 0 {
			delete(f, "context")
			member = cc.Context
		}
		add(raftpb.EntryConfChangeV2, "ConfChangeV2", "", b, f, member)
	}
	hs := raftpb.HardState{Term: ents[len(ents)-1].Term, Vote: 0x2e1259d415f2a040, Commit: uint64(len(ents))}
	out.HardState = canon(reflect.ValueOf(&hs))
	err = protect(func() error {
		w, err := wal.Create(zap.NewNop(), dir, mdb)
		if err != nil {
			return err
		}
		if err := w.Save(hs, ents); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	})
	if err != nil {
		return 1, err
	}
	printJSON(out)
	return 0, nil
}
