// walctl etcd-fixture (hidden): writes a small WAL as etcd v3.4/v3.5 would,
// without an etcd: etcd's Metadata, a bootstrap conf change with its member
// JSON, a leader's empty entry, v2 requests (publish, SYNC), one
// InternalRaftRequest of every kind, a ConfChangeV2, and entries that are
// not etcd's. For the tests of walctl dump's decoding and filters.
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "etcdserver.pb.h"
#include "raft.pb.h"
#include "raft_internal.pb.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/etcd_snap.h"
#include "wal/wal.h"

namespace walctl {

namespace {

constexpr uint64_t kMember1 = 0x2e1259d415f2a040;
constexpr uint64_t kMember2 = 0x91bc3c398fb3c146;
constexpr uint64_t kCluster = 0xcdf818194e3a8c32;
constexpr int64_t kLease = 0x694d71ddd4a6b21c;

struct Builder {
  std::vector<wal::Entry> entries;
  uint64_t term = 1;
  uint64_t next_id = 0x7a3c0e5d1b2f4000;

  void Add(wal::EntryType type, std::string data) {
    entries.push_back(wal::Entry{term, entries.size() + 1, type, std::move(data)});
  }
  // An InternalRaftRequest as etcd v3.4 proposes it: a header with a fresh
  // request ID; `fill` sets the request.
  template <class Fill>
  void Irr(Fill fill) {
    etcdserverpb::InternalRaftRequest r;
    r.mutable_header()->set_id(next_id++);
    fill(r);
    Add(wal::EntryType::kNormal, r.SerializeAsString());
  }
  // A v2 Request as gogo-protobuf writes it: every non-nullable field.
  etcdserverpb::Request V2(const std::string& method) {
    etcdserverpb::Request r;
    r.set_id(next_id++);
    r.set_method(method);
    r.set_path("");
    r.set_val("");
    r.set_dir(false);
    r.set_prevvalue("");
    r.set_previndex(0);
    r.set_expiration(0);
    r.set_wait(false);
    r.set_since(0);
    r.set_recursive(false);
    r.set_sorted(false);
    r.set_quorum(false);
    r.set_time(0);
    r.set_stream(false);
    return r;
  }
};

std::string MemberJson(uint64_t id, const std::string& name, int port) {
  return "{\"id\":" + std::to_string(id) + ",\"peerURLs\":[\"http://127.0.0.1:" + std::to_string(port) +
         "\"],\"name\":\"" + name + "\",\"clientURLs\":[\"http://127.0.0.1:" + std::to_string(port - 1) +
         "\"]}";
}

std::vector<wal::Entry> Entries() {
  Builder b;
  {
    raftpb::ConfChange cc;  // raft's bootstrap: one AddNode per initial member
    cc.set_type(raftpb::ConfChangeAddNode);
    cc.set_node_id(kMember1);
    cc.set_id(0);
    cc.set_context(MemberJson(kMember1, "infra1", 2380));
    b.Add(wal::EntryType::kConfChange, cc.SerializeAsString());
  }
  b.term = 2;
  b.Add(wal::EntryType::kNormal, "");  // the new leader's empty entry
  {
    etcdserverpb::Request r = b.V2("PUT");  // v3.4's publish
    r.set_path("/0/members/2e1259d415f2a040/attributes");
    r.set_val("{\"name\":\"infra1\",\"clientURLs\":[\"http://127.0.0.1:2379\"]}");
    b.Add(wal::EntryType::kNormal, r.SerializeAsString());
  }
  {
    etcdserverpb::Request r = b.V2("SYNC");
    r.set_time(1700000000123456789);
    b.Add(wal::EntryType::kNormal, r.SerializeAsString());
  }
  b.Irr([](auto& r) { r.mutable_cluster_version_set()->set_ver("3.5.0"); });
  b.Irr([](auto& r) {
    auto* a = r.mutable_cluster_member_attr_set();
    a->set_member_id(kMember1);
    a->mutable_member_attributes()->set_name("infra1");
    a->mutable_member_attributes()->add_client_urls("http://127.0.0.1:2379");
  });
  b.Irr([](auto& r) {
    auto* g = r.mutable_lease_grant();
    g->set_ttl(60);
    g->set_id(kLease);
  });
  b.Irr([](auto& r) {
    auto* p = r.mutable_put();
    p->set_key("foo");
    p->set_value("bar");
    p->set_lease(kLease);
  });
  b.Irr([](auto& r) {
    auto* p = r.mutable_put();
    p->set_key(std::string("/registry/\x00\xff", 12));
    p->set_value(std::string("k8s\x00\x0a\x0b", 6));
    p->set_prev_kv(true);
  });
  b.Irr([](auto& r) { r.mutable_range()->set_key("foo"); });
  b.Irr([](auto& r) {
    auto* d = r.mutable_delete_range();
    d->set_key("foo");
    d->set_range_end("fop");
  });
  b.Irr([](auto& r) {
    auto* t = r.mutable_txn();
    auto* c = t->add_compare();
    c->set_result(etcdserverpb::Compare::EQUAL);
    c->set_target(etcdserverpb::Compare::VALUE);
    c->set_key("foo");
    c->set_value("bar");
    c = t->add_compare();
    c->set_result(etcdserverpb::Compare::GREATER);
    c->set_target(etcdserverpb::Compare::MOD);
    c->set_key("foo");
    c->set_mod_revision(0);
    auto* put = t->add_success()->mutable_request_put();
    put->set_key("foo");
    put->set_value("baz\n");
    auto* inner = t->add_success()->mutable_request_txn();
    inner->add_success()->mutable_request_delete_range()->set_key("old");
    t->add_failure()->mutable_request_range()->set_key("foo");
  });
  b.Irr([](auto& r) {
    auto* c = r.mutable_compaction();
    c->set_revision(9007199254740993);  // past 2^53: a string in JSON
    c->set_physical(true);
  });
  b.Irr([](auto& r) {
    auto* cp = r.mutable_lease_checkpoint()->add_checkpoints();
    cp->set_id(kLease);
    cp->set_remaining_ttl(42);
  });
  b.Irr([](auto& r) { r.mutable_lease_revoke()->set_id(kLease); });
  b.Irr([](auto& r) {
    auto* a = r.mutable_alarm();
    a->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
    a->set_memberid(kMember1);
    a->set_alarm(etcdserverpb::NOSPACE);
  });
  b.Irr([](auto& r) {
    auto* u = r.mutable_auth_user_add();
    u->set_name("root");
    u->set_password("s3cret");
    u->set_hashedpassword("$2a$10$hash");
  });
  b.Irr([](auto& r) { r.mutable_auth_role_add()->set_name("root"); });
  b.Irr([](auto& r) {
    auto* g = r.mutable_auth_user_grant_role();
    g->set_user("root");
    g->set_role("root");
  });
  b.Irr([](auto& r) {
    auto* g = r.mutable_auth_role_grant_permission();
    g->set_name("reader");
    g->mutable_perm()->set_permtype(authpb::Permission::READ);
    g->mutable_perm()->set_key("/app/");
    g->mutable_perm()->set_range_end("/app0");
  });
  b.Irr([](auto& r) {
    auto* rv = r.mutable_auth_role_revoke_permission();
    rv->set_role("reader");
    rv->set_key("/app/");
    rv->set_range_end("/app0");
  });
  b.Irr([](auto& r) { r.mutable_auth_enable(); });
  b.Irr([](auto& r) {
    auto* a = r.mutable_authenticate();
    a->set_name("root");
    a->set_password("s3cret");
    a->set_simple_token("tok.123");
  });
  b.Irr([](auto& r) {
    r.mutable_header()->set_username("root");
    r.mutable_header()->set_auth_revision(3);
    auto* c = r.mutable_auth_user_change_password();
    c->set_name("root");
    c->set_hashedpassword("$2a$10$other");
  });
  b.Irr([](auto& r) { r.mutable_auth_user_get()->set_name("root"); });
  b.Irr([](auto& r) { r.mutable_auth_user_list(); });
  b.Irr([](auto& r) { r.mutable_auth_role_get()->set_role("reader"); });
  b.Irr([](auto& r) { r.mutable_auth_role_list(); });
  b.Irr([](auto& r) {
    auto* rv = r.mutable_auth_user_revoke_role();
    rv->set_name("root");
    rv->set_role("reader");
  });
  b.Irr([](auto& r) { r.mutable_auth_role_delete()->set_role("reader"); });
  b.Irr([](auto& r) { r.mutable_auth_user_delete()->set_name("alice"); });
  b.Irr([](auto& r) { r.mutable_auth_disable(); });
  b.Irr([](auto& r) { r.mutable_auth_status(); });
  b.Irr([](auto& r) {
    auto* d = r.mutable_downgrade_info_set();
    d->set_enabled(true);
    d->set_ver("3.4.0");
  });
  b.Irr([&b](auto& r) {  // a v2 request inside an InternalRaftRequest
    etcdserverpb::Request v2 = b.V2("DELETE");
    v2.set_path("/foo");
    *r.mutable_v2() = v2;
  });
  b.term = 3;
  {
    raftpb::ConfChange cc;  // etcdctl member add
    cc.set_type(raftpb::ConfChangeAddLearnerNode);
    cc.set_node_id(kMember2);
    cc.set_id(b.next_id++);
    cc.set_context(
        "{\"id\":10501334649042878790,\"peerURLs\":[\"http://127.0.0.1:2480\"],\"isLearner\":true}");
    b.Add(wal::EntryType::kConfChange, cc.SerializeAsString());
  }
  {
    raftpb::ConfChange cc;  // etcdctl member remove: no context
    cc.set_type(raftpb::ConfChangeRemoveNode);
    cc.set_node_id(kMember2);
    cc.set_id(b.next_id++);
    b.Add(wal::EntryType::kConfChange, cc.SerializeAsString());
  }
  {
    raftpb::ConfChangeV2 cc;
    cc.set_transition(raftpb::ConfChangeTransitionJointExplicit);
    auto* c = cc.add_changes();
    c->set_type(raftpb::ConfChangeAddNode);
    c->set_node_id(kMember2);
    b.Add(wal::EntryType::kConfChangeV2, cc.SerializeAsString());
  }
  // Not etcd's: another application's bytes.
  b.Add(wal::EntryType::kNormal, "hello, world");
  b.Add(wal::EntryType::kNormal, std::string("\xff\x00\x01garbage", 10));
  b.Add(wal::EntryType::kNormal, "e1:ddkedxzyxruwmnjtrzovo");  // as walctl demo writes
  return b.entries;
}

wal::Status Write(const std::string& dir) {
  etcdserverpb::Metadata md;
  md.set_nodeid(kMember1);
  md.set_clusterid(kCluster);
  const std::string metadata = md.SerializeAsString();
  wal::Options o;
  o.unsafe_no_fsync = true;
  WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::Create(dir, metadata, o));
  const std::vector<wal::Entry> entries = Entries();
  WAL_RETURN_IF_ERROR(w->Save(wal::HardState{3, kMember1, entries.back().index}, entries));
  return w->Close();
}

// A member/snap/<term>-<index>.snap file as etcd's snapshotter writes it.
wal::Status WriteSnap(const std::string& dir, uint64_t index, uint64_t term) {
  char name[64];
  std::snprintf(name, sizeof name, "%016" PRIx64 "-%016" PRIx64 ".snap", term, index);
  const std::string path = wal::JoinPath(dir, name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << EncodeSnapFile(index, term, {kMember1}, "{\"Root\":{}}");
  out.close();
  if (!out) return wal::Status(wal::StatusCode::kIoError, "cannot write " + path);
  std::printf("wrote %s\n", path.c_str());
  return wal::Status::Ok();
}

}  // namespace

Command AddEtcdFixtureCommand(CLI::App& parent) {
  struct Flags {
    std::string dir;
    uint64_t snap_index = 0;
    uint64_t snap_term = 0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand(
      "etcd-fixture",
      "Write a small WAL with etcd's payloads (for tests); with --snap-index, a .snap file into DIR.");
  app->group("");  // hidden
  app->add_option("DIR", f->dir, "WAL directory to create (or the snap directory, with --snap-index)")
      ->required();
  auto* si = app->add_option("--snap-index", f->snap_index, "write DIR/<term>-<index>.snap instead");
  app->add_option("--snap-term", f->snap_term, "its term")->needs(si);
  return {app, [f, si] {
            if (si->count() > 0) {
              wal::Status s = WriteSnap(f->dir, f->snap_index, f->snap_term);
              return s.ok() ? static_cast<int>(kExitOk) : ReportError(s);
            }
            wal::Status s = Write(f->dir);
            if (!s.ok()) return ReportError(Rephrase(s, f->dir));
            std::printf("wrote %s\n", f->dir.c_str());
            return static_cast<int>(kExitOk);
          }};
}

}  // namespace walctl
