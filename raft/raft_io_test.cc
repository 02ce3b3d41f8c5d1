// walraft's io-level tests: the raft_io driven directly on a uv loop (no
// raft instance, no network: raft_uv_tcp's init listens on nothing), plus
// one end-to-end single-node raft cluster on 127.0.0.1.
#include "wal/raft_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace wal {
namespace {

using testutil::TempDir;

// Runs `loop` until `done()` or `timeout`; never blocks in the loop (the
// io's async handle keeps it alive, so UV_RUN_DEFAULT would not return).
bool RunUntil(uv_loop_t* loop, const std::function<bool()>& done,
              std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    uv_run(loop, UV_RUN_NOWAIT);
    if (!done()) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

struct LoadedEntry {
  uint64_t term;
  unsigned type;
  std::string data;
  friend bool operator==(const LoadedEntry&, const LoadedEntry&) = default;
  friend void PrintTo(const LoadedEntry& e, std::ostream* os) {
    *os << "{term " << e.term << ", type " << e.type << ", data " << testutil::Hex(e.data) << "}";
  }
};

struct Loaded {
  int rv = -1;
  uint64_t term = 0;
  uint64_t vote = 0;
  bool has_snapshot = false;
  uint64_t snapshot_index = 0;
  uint64_t snapshot_term = 0;
  uint64_t configuration_index = 0;
  std::vector<std::pair<uint64_t, std::string>> servers;  // id, address
  std::string payload;
  uint64_t start_index = 0;
  std::vector<LoadedEntry> entries;
};

void FreeRaftSnapshot(raft_snapshot* s) {
  raft_configuration_close(&s->configuration);
  for (unsigned i = 0; i < s->n_bufs; ++i) raft_free(s->bufs[i].base);
  raft_free(s->bufs);
  raft_free(s);
}

void CopySnapshot(const raft_snapshot* s, Loaded* out) {
  out->has_snapshot = true;
  out->snapshot_index = s->index;
  out->snapshot_term = s->term;
  out->configuration_index = s->configuration_index;
  for (unsigned i = 0; i < s->configuration.n; ++i) {
    out->servers.emplace_back(s->configuration.servers[i].id, s->configuration.servers[i].address);
  }
  for (unsigned i = 0; i < s->n_bufs; ++i)
    out->payload.append(static_cast<const char*>(s->bufs[i].base), s->bufs[i].len);
}

std::string EncodeConfiguration(const raft_configuration& conf) {
  raft_buffer buf{};
  EXPECT_EQ(raft_configuration_encode(&conf, &buf), 0);
  std::string s(static_cast<const char*>(buf.base), buf.len);
  raft_free(buf.base);
  return s;
}

// One raft_io of ours on a loop, with the calls raft would make.
class Io {
 public:
  Io(uv_loop_t* loop, std::string dir, RaftIoOptions options, raft_id id = 1)
      : loop_(loop), dir_(std::move(dir)), options_(options), id_(id) {}
  ~Io() {
    if (open_) Close();
  }

  int Open() {
    std::memset(&transport_, 0, sizeof transport_);
    std::memset(&io_, 0, sizeof io_);
    EXPECT_EQ(raft_uv_tcp_init(&transport_, loop_), 0);
    int rv = RaftIoInit(&io_, loop_, dir_, &transport_, options_);
    if (rv != 0) {
      raft_uv_tcp_close(&transport_);
      return rv;
    }
    rv = io_.init(&io_, id_, "127.0.0.1:1");  // init does not listen
    if (rv != 0) {
      error_ = io_.errmsg;
      RaftIoRelease(&io_);
      raft_uv_tcp_close(&transport_);
      return rv;
    }
    open_ = true;
    return 0;
  }

  // io->close, run to its callback, release. Every request's callback has
  // run by then (the io promises it).
  void Close() {
    ASSERT_TRUE(open_);
    bool closed = false;
    io_.data = &closed;
    io_.close(&io_, [](raft_io* io) { *static_cast<bool*>(io->data) = true; });
    EXPECT_FALSE(closed) << "close callback fired inside close";
    ASSERT_TRUE(RunUntil(loop_, [&] { return closed; }));
    RaftIoRelease(&io_);
    raft_uv_tcp_close(&transport_);
    uv_run(loop_, UV_RUN_NOWAIT);  // let the transport's handles finish closing
    open_ = false;
  }

  Loaded Load() {
    Loaded out;
    raft_snapshot* snap = nullptr;
    raft_entry* entries = nullptr;
    size_t n = 0;
    raft_term term = 0;
    raft_id vote = 0;
    raft_index start = 0;
    out.rv = io_.load(&io_, &term, &vote, &snap, &start, &entries, &n);
    if (out.rv != 0) {
      error_ = io_.errmsg;
      return out;
    }
    out.term = term;
    out.vote = vote;
    out.start_index = start;
    if (snap != nullptr) {
      CopySnapshot(snap, &out);
      FreeRaftSnapshot(snap);
    }
    std::set<void*> batches;
    for (size_t i = 0; i < n; ++i) {
      EXPECT_NE(entries[i].batch, nullptr) << "raft asserts on a NULL batch";
      batches.insert(entries[i].batch);
      out.entries.push_back({entries[i].term, entries[i].type,
                             std::string(static_cast<const char*>(entries[i].buf.base), entries[i].buf.len)});
    }
    for (void* b : batches) raft_free(b);
    raft_free(entries);
    return out;
  }

  // Reopen = close + init + load, what a restart does.
  Loaded Reopen() {
    Close();
    EXPECT_EQ(Open(), 0) << error_;
    return Load();
  }

  raft_io* io() { return &io_; }
  uv_loop_t* loop() { return loop_; }
  const std::string& error() const { return error_; }
  std::string errmsg() const { return io_.errmsg; }

 private:
  uv_loop_t* loop_;
  std::string dir_;
  RaftIoOptions options_;
  raft_id id_;
  raft_uv_transport transport_{};
  raft_io io_{};
  bool open_ = false;
  std::string error_;
};

// Completion bookkeeping shared by the requests of one test.
struct Tracker {
  std::vector<int> order;  // request ids in completion order
  std::vector<int> statuses;
  bool in_call = false;
  int fired_inside = 0;
};

struct AppendReq {
  raft_io_append req{};
  Tracker* t = nullptr;
  int id = 0;
  bool fired = false;
  int status = -1;
  std::vector<std::string> data;  // owned by the test; the io copies nothing
  std::vector<raft_entry> entries;
};

struct PutReq {
  raft_io_snapshot_put req{};
  Tracker* t = nullptr;
  int id = 0;
  bool fired = false;
  int status = -1;
};

void Record(Tracker* t, int id, int status) {
  if (t->in_call) t->fired_inside++;
  t->order.push_back(id);
  t->statuses.push_back(status);
}

// Submits an append of entries with the given terms and data; returns the
// io's return code.
int Append(raft_io* io, AppendReq* r, Tracker* t, int id, const std::vector<uint64_t>& terms,
           const std::vector<std::string>& data, unsigned short type = RAFT_COMMAND) {
  r->t = t;
  r->id = id;
  r->data = data;
  r->entries.resize(terms.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    r->entries[i].term = terms[i];
    r->entries[i].type = type;
    r->entries[i].buf.base = r->data[i].data();
    r->entries[i].buf.len = r->data[i].size();
    r->entries[i].batch = nullptr;
  }
  r->req.data = r;
  t->in_call = true;
  int rv = io->append(io, &r->req, r->entries.data(), static_cast<unsigned>(r->entries.size()),
                      [](raft_io_append* req, int status) {
                        auto* a = static_cast<AppendReq*>(req->data);
                        a->fired = true;
                        a->status = status;
                        Record(a->t, a->id, status);
                      });
  t->in_call = false;
  return rv;
}

// The snapshot raft would hand over: payload in two buffers (raft's FSM may
// return several), a one-server configuration.
struct SnapshotArg {
  raft_snapshot snap{};
  raft_buffer bufs[2]{};
  std::string a, b;
  SnapshotArg(uint64_t index, uint64_t term, std::string payload) {
    a = payload.substr(0, payload.size() / 2);
    b = payload.substr(payload.size() / 2);
    snap.index = index;
    snap.term = term;
    raft_configuration_init(&snap.configuration);
    EXPECT_EQ(raft_configuration_add(&snap.configuration, 1, "127.0.0.1:9001", RAFT_VOTER), 0);
    EXPECT_EQ(raft_configuration_add(&snap.configuration, 2, "127.0.0.1:9002", RAFT_VOTER), 0);
    snap.configuration_index = 1;
    bufs[0] = {a.data(), a.size()};
    bufs[1] = {b.data(), b.size()};
    snap.bufs = bufs;
    snap.n_bufs = 2;
  }
  ~SnapshotArg() { raft_configuration_close(&snap.configuration); }
};

int Put(raft_io* io, PutReq* r, Tracker* t, int id, unsigned trailing, const SnapshotArg& s) {
  r->t = t;
  r->id = id;
  r->req.data = r;
  t->in_call = true;
  int rv = io->snapshot_put(io, trailing, &r->req, &s.snap, [](raft_io_snapshot_put* req, int status) {
    auto* p = static_cast<PutReq*>(req->data);
    p->fired = true;
    p->status = status;
    Record(p->t, p->id, status);
  });
  t->in_call = false;
  return rv;
}

std::vector<std::string> Payloads(int first, int n, const std::string& tag = "cmd") {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(tag + "-" + std::to_string(first + i));
  return v;
}

// Appends entries [first, first+n) (data "cmd-i") of `term` in one request
// and runs the loop until it completed. Returns its status.
int AppendSync(Io& io, int first, int n, uint64_t term, const std::string& tag = "cmd") {
  Tracker t;
  AppendReq r;
  int rv = Append(io.io(), &r, &t, 0, std::vector<uint64_t>(static_cast<size_t>(n), term),
                  Payloads(first, n, tag));
  if (rv != 0) return rv;
  EXPECT_TRUE(RunUntil(io.loop(), [&] { return r.fired; }));
  EXPECT_EQ(t.fired_inside, 0);
  return r.status;
}

int PutSync(Io& io, unsigned trailing, uint64_t index, uint64_t term, const std::string& payload) {
  Tracker t;
  PutReq r;
  SnapshotArg s(index, term, payload);
  int rv = Put(io.io(), &r, &t, 0, trailing, s);
  if (rv != 0) return rv;
  EXPECT_TRUE(RunUntil(io.loop(), [&] { return r.fired; }));
  EXPECT_EQ(t.fired_inside, 0);
  return r.status;
}

// raft 0.15's raft_configuration_encode leaves the padding after the last
// server's role byte (up to 7 bytes) uninitialised, so two encodings of one
// configuration differ there: compare configuration entries without it.
LoadedEntry Comparable(LoadedEntry e) {
  if (e.type == RAFT_CHANGE && e.data.size() >= 8) e.data.resize(e.data.size() - 7);
  return e;
}

void ExpectEntries(const Loaded& l, uint64_t start, const std::vector<LoadedEntry>& want) {
  EXPECT_EQ(l.start_index, start);
  ASSERT_EQ(l.entries.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(Comparable(l.entries[i]), Comparable(want[i])) << "entry at index " << start + i;
  }
}

void ExpectSnapshot(const Loaded& l, uint64_t index, uint64_t term, const std::string& payload) {
  EXPECT_EQ(l.rv, 0);
  EXPECT_TRUE(l.has_snapshot);
  EXPECT_EQ(l.snapshot_index, index);
  EXPECT_EQ(l.snapshot_term, term);
  EXPECT_EQ(l.payload, payload);
}

std::vector<LoadedEntry> Commands(int first, int n, uint64_t term, const std::string& tag = "cmd") {
  std::vector<LoadedEntry> v;
  for (const auto& d : Payloads(first, n, tag)) v.push_back({term, RAFT_COMMAND, d});
  return v;
}

size_t CountFiles(const std::string& dir) {
  auto names = FileSystem::Default()->ListDir(dir);
  return names.has_value() ? names->size() : 0;
}

class RaftIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    options_.wal.segment_size_bytes = 64 * 1024;
  }
  void TearDown() override {
    io_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);  // nothing left but closing handles
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle is still open";
  }
  Io& NewIo(const std::string& dir) {
    io_ = std::make_unique<Io>(&loop_, dir, options_);
    EXPECT_EQ(io_->Open(), 0) << io_->error();
    return *io_;
  }

  uv_loop_t loop_{};
  RaftIoOptions options_;
  TempDir tmp_;
  MemFileSystem mem_fs_;  // for the tests that use one; outlives io_
  std::unique_ptr<Io> io_;
};

TEST_F(RaftIoTest, CallbacksInSubmissionOrderNeverInsideTheCall) {
  Io& io = NewIo(tmp_.path());
  Loaded l = io.Load();
  ASSERT_EQ(l.rv, 0) << io.error();
  EXPECT_EQ(l.start_index, 1u);
  EXPECT_TRUE(l.entries.empty());
  EXPECT_FALSE(l.has_snapshot);

  // 60 appends of 1..3 entries with a snapshot put and a get in between:
  // every completion in submission order, none from inside its call.
  Tracker t;
  std::vector<std::unique_ptr<AppendReq>> appends;
  PutReq put;
  SnapshotArg snap(5, 1, "state@5");
  raft_io_snapshot_get get{};
  struct GetCtx {
    Tracker* t;
    int status = -1;
    uint64_t index = 0;
    std::string payload;
  } get_ctx{&t};
  uint64_t index = 0;
  int id = 0;
  for (int i = 0; i < 60; ++i) {
    const int n = 1 + i % 3;
    appends.push_back(std::make_unique<AppendReq>());
    ASSERT_EQ(Append(io.io(), appends.back().get(), &t, id++, std::vector<uint64_t>(n, 1),
                     Payloads(static_cast<int>(index) + 1, n)),
              0);
    index += n;
    if (i == 20) {
      ASSERT_EQ(Put(io.io(), &put, &t, id++, 2, snap), 0);
    }
    if (i == 30) {
      get.data = &get_ctx;
      t.in_call = true;
      ASSERT_EQ(io.io()->snapshot_get(io.io(), &get,
                                      [](raft_io_snapshot_get* req, raft_snapshot* s, int status) {
                                        auto* g = static_cast<GetCtx*>(req->data);
                                        g->status = status;
                                        if (s != nullptr) {
                                          Loaded tmp;
                                          CopySnapshot(s, &tmp);
                                          g->index = tmp.snapshot_index;
                                          g->payload = tmp.payload;
                                          FreeRaftSnapshot(s);
                                        }
                                        Record(g->t, -1, status);
                                      }),
                0);
      t.in_call = false;
      id++;
    }
  }
  EXPECT_EQ(t.fired_inside, 0);
  ASSERT_TRUE(RunUntil(&loop_, [&] { return t.order.size() == static_cast<size_t>(id); }));
  EXPECT_EQ(t.fired_inside, 0);
  std::vector<int> want;
  for (int i = 0; i < id; ++i) want.push_back(i);
  // The get was submitted after id 31 (append 30 is id 31): it is the 33rd.
  std::vector<int> got = t.order;
  for (int& g : got) {
    if (g == -1) g = 32;
  }
  EXPECT_EQ(got, want);
  for (int s : t.statuses) EXPECT_EQ(s, 0);
  EXPECT_EQ(get_ctx.index, 5u);
  EXPECT_EQ(get_ctx.payload, "state@5");
  RaftIoStats st = RaftIoGetStats(io.io());
  EXPECT_EQ(st.last_index, index);
  EXPECT_EQ(st.durable_index, index);
  EXPECT_EQ(st.snapshot_index, 5u);

  // Reopen: the snapshot and everything after it.
  l = io.Reopen();
  ASSERT_EQ(l.rv, 0) << io.error();
  EXPECT_TRUE(l.has_snapshot);
  EXPECT_EQ(l.snapshot_index, 5u);
  ExpectEntries(l, 6, Commands(6, static_cast<int>(index) - 5, 1));
  // The inner raft_uv never wrote to its directory.
  EXPECT_EQ(CountFiles(tmp_.path() + "/uv"), 0u);
}

TEST_F(RaftIoTest, ReopenAfterEachKindOfCall) {
  Io& io = NewIo(tmp_.path());
  raft_configuration conf;
  raft_configuration_init(&conf);
  ASSERT_EQ(raft_configuration_add(&conf, 1, "127.0.0.1:9001", RAFT_VOTER), 0);
  const std::string conf_bytes = EncodeConfiguration(conf);

  // bootstrap, then load in the same session (raft_bootstrap before raft_start).
  ASSERT_EQ(io.io()->bootstrap(io.io(), &conf), 0) << io.errmsg();
  Loaded l = io.Load();
  ASSERT_EQ(l.rv, 0) << io.error();
  EXPECT_EQ(l.term, 1u);
  ExpectEntries(l, 1, {{1, RAFT_CHANGE, conf_bytes}});

  l = io.Reopen();
  EXPECT_EQ(l.term, 1u);
  ExpectEntries(l, 1, {{1, RAFT_CHANGE, conf_bytes}});
  // bootstrap refuses a non-empty log.
  EXPECT_EQ(io.io()->bootstrap(io.io(), &conf), RAFT_CANTBOOTSTRAP);

  ASSERT_EQ(io.io()->set_term(io.io(), 3), 0);
  l = io.Reopen();
  EXPECT_EQ(l.term, 3u);
  EXPECT_EQ(l.vote, 0u);

  ASSERT_EQ(io.io()->set_vote(io.io(), 2), 0);
  l = io.Reopen();
  EXPECT_EQ(l.term, 3u);
  EXPECT_EQ(l.vote, 2u);

  ASSERT_EQ(AppendSync(io, 2, 4, 3), 0);  // indexes 2..5
  l = io.Reopen();
  std::vector<LoadedEntry> want = {{1, RAFT_CHANGE, conf_bytes}};
  for (const auto& e : Commands(2, 4, 3)) want.push_back(e);
  ExpectEntries(l, 1, want);

  // Every raft entry type round-trips (stored as 100 + type).
  {
    Tracker t;
    AppendReq r;
    ASSERT_EQ(Append(io.io(), &r, &t, 0, {3}, {"barrier"}, RAFT_BARRIER), 0);
    ASSERT_TRUE(RunUntil(&loop_, [&] { return r.fired; }));
    ASSERT_EQ(r.status, 0);
  }
  want.push_back({3, RAFT_BARRIER, "barrier"});
  l = io.Reopen();
  ExpectEntries(l, 1, want);

  ASSERT_EQ(io.io()->truncate(io.io(), 4), 0);
  ASSERT_EQ(AppendSync(io, 4, 2, 4, "new"), 0);
  l = io.Reopen();
  want.resize(3);
  for (const auto& e : Commands(4, 2, 4, "new")) want.push_back(e);
  ExpectEntries(l, 1, want);

  // recover: a configuration entry at the next index, at a term that keeps
  // the log's terms non-decreasing.
  raft_configuration conf2;
  raft_configuration_init(&conf2);
  ASSERT_EQ(raft_configuration_add(&conf2, 1, "127.0.0.1:9101", RAFT_VOTER), 0);
  ASSERT_EQ(io.io()->recover(io.io(), &conf2), 0) << io.errmsg();
  l = io.Reopen();
  want.push_back({4, RAFT_CHANGE, EncodeConfiguration(conf2)});
  ExpectEntries(l, 1, want);

  ASSERT_EQ(PutSync(io, 1, 5, 4, "fsm@5"), 0);
  l = io.Reopen();
  ExpectSnapshot(l, 5, 4, "fsm@5");
  EXPECT_EQ(l.configuration_index, 1u);
  ASSERT_EQ(l.servers.size(), 2u);
  EXPECT_EQ(l.servers[1], std::make_pair(uint64_t{2}, std::string("127.0.0.1:9002")));
  ExpectEntries(l, 6, {want.back()});
  EXPECT_EQ(l.term, 3u) << "the hard state survives the snapshot";
  EXPECT_EQ(l.vote, 2u);

  raft_configuration_close(&conf);
  raft_configuration_close(&conf2);
  EXPECT_EQ(CountFiles(tmp_.path() + "/uv"), 0u);
}

TEST_F(RaftIoTest, TruncateThenAppend) {
  Io& io = NewIo(tmp_.path());
  ASSERT_EQ(io.Load().rv, 0);
  ASSERT_EQ(AppendSync(io, 1, 10, 1), 0);
  ASSERT_EQ(io.io()->truncate(io.io(), 6), 0);
  EXPECT_EQ(RaftIoGetStats(io.io()).last_index, 5u);
  ASSERT_EQ(AppendSync(io, 6, 3, 2, "t2"), 0);
  EXPECT_EQ(RaftIoGetStats(io.io()).last_index, 8u);
  std::vector<LoadedEntry> want = Commands(1, 5, 1);
  for (const auto& e : Commands(6, 3, 2, "t2")) want.push_back(e);
  Loaded l = io.Reopen();
  ExpectEntries(l, 1, want);
  // Truncate past the end is refused.
  EXPECT_EQ(io.io()->truncate(io.io(), 20), RAFT_INVALID);
}

// A crash (MemFileSystem power loss) between truncate and the append that
// follows it: every acknowledged entry is loaded.
TEST_F(RaftIoTest, CrashBetweenTruncateAndAppend) {
  MemFileSystem& fs = mem_fs_;
  options_.wal.file_system = &fs;
  options_.wal.background_segment_preparation = false;
  {
    Io& io = NewIo(tmp_.path());
    ASSERT_EQ(io.Load().rv, 0);
    ASSERT_EQ(AppendSync(io, 1, 10, 1), 0);  // acknowledged: 1..10
    ASSERT_EQ(io.io()->truncate(io.io(), 6), 0);
    fs.SimulateCrash({CrashMode::kDropUnsynced, 1});
    io_.reset();  // closing the crashed io fails quietly
  }
  {
    Io& io = NewIo(tmp_.path());
    Loaded l = io.Load();
    ASSERT_EQ(l.rv, 0) << io.error();
    ExpectEntries(l, 1, Commands(1, 10, 1));
    // The truncation is redone after the restart, and acknowledged.
    ASSERT_EQ(io.io()->truncate(io.io(), 6), 0);
    ASSERT_EQ(AppendSync(io, 6, 2, 2, "t2"), 0);
    fs.SimulateCrash({CrashMode::kDropUnsynced, 2});
    io_.reset();
  }
  Io& io = NewIo(tmp_.path());
  Loaded l = io.Load();
  ASSERT_EQ(l.rv, 0) << io.error();
  std::vector<LoadedEntry> want = Commands(1, 5, 1);
  for (const auto& e : Commands(6, 2, 2, "t2")) want.push_back(e);
  ExpectEntries(l, 1, want);
}

// Randomised: appends and truncations with crashes (torn tails included) at
// random points; whatever was acknowledged is loaded, whatever is loaded
// was submitted. Prints its seed; WAL_TEST_SEED replays it.
TEST_F(RaftIoTest, RandomCrashesLoseNothingAcknowledged) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  MemFileSystem& fs = mem_fs_;
  options_.wal.file_system = &fs;
  options_.wal.background_segment_preparation = false;
  // What the previous round left: the log it loaded (`old`, all of it
  // acknowledged), the log its requests build (`submitted`, after the
  // truncation if any), and how much of `submitted` must survive.
  std::vector<LoadedEntry> old, submitted;
  size_t required = 0;
  bool any_acked = false;
  uint64_t term = 1;
  for (int round = 0; round < 10; ++round) {
    Io& io = NewIo(tmp_.path());
    Loaded l = io.Load();
    ASSERT_EQ(l.rv, 0) << io.error() << " seed " << seed;
    // Either none of the round's writes reached the disk (only when none was
    // acknowledged), or the log is a prefix of the submitted one that holds
    // every acknowledged entry. An unacknowledged append after a truncation
    // may replace acknowledged entries: raft truncated them, so they were
    // never committed.
    const bool unchanged = !any_acked && l.entries == old;
    const bool prefix = l.entries.size() >= required && l.entries.size() <= submitted.size() &&
                        std::equal(l.entries.begin(), l.entries.end(), submitted.begin());
    ASSERT_TRUE(unchanged || prefix) << "round " << round << ": loaded " << l.entries.size()
                                     << " entries, required " << required << " of " << submitted.size()
                                     << "; seed " << seed;
    std::vector<LoadedEntry> log = l.entries;
    old = log;
    term++;
    // A burst: maybe a truncation, then a few appends, some of them waited for.
    Tracker t;
    std::vector<std::unique_ptr<AppendReq>> reqs;
    std::vector<size_t> length_after;  // the log's length once request i is durable
    size_t keep = log.size();
    if (!log.empty() && rng() % 2 == 0) {
      const uint64_t at = 1 + rng() % log.size();
      ASSERT_EQ(io.io()->truncate(io.io(), at), 0);
      log.resize(at - 1);
      keep = at - 1;
    }
    const int bursts = 1 + static_cast<int>(rng() % 4);
    for (int b = 0; b < bursts; ++b) {
      const int n = 1 + static_cast<int>(rng() % 5);
      std::vector<std::string> data;
      for (int i = 0; i < n; ++i) data.push_back(testutil::RandomBytes(rng, rng() % 300));
      reqs.push_back(std::make_unique<AppendReq>());
      ASSERT_EQ(Append(io.io(), reqs.back().get(), &t, b, std::vector<uint64_t>(n, term), data), 0);
      for (const auto& d : data) log.push_back({term, RAFT_COMMAND, d});
      length_after.push_back(log.size());
    }
    // Wait for a random number of them, then crash (power loss, torn tails).
    const size_t wait = rng() % (reqs.size() + 1);
    ASSERT_TRUE(RunUntil(&loop_, [&] { return t.order.size() >= wait; }));
    const size_t done = t.order.size();
    for (int st : t.statuses) ASSERT_EQ(st, 0);
    submitted = log;
    any_acked = done > 0;
    required = any_acked ? length_after[done - 1] : keep;
    const CrashMode modes[] = {CrashMode::kDropUnsynced, CrashMode::kKeepRandomPrefix,
                               CrashMode::kTearLastSector};
    fs.SimulateCrash({modes[rng() % 3], rng()});
    io_.reset();
  }
}

TEST_F(RaftIoTest, SnapshotPutWithTrailingKeepsTheLogAfterIt) {
  Io& io = NewIo(tmp_.path());
  ASSERT_EQ(io.Load().rv, 0);
  ASSERT_EQ(AppendSync(io, 1, 10, 1), 0);
  ASSERT_EQ(PutSync(io, 3, 8, 1, "state@8"), 0);
  EXPECT_EQ(RaftIoGetStats(io.io()).snapshot_index, 8u);
  EXPECT_EQ(RaftIoGetStats(io.io()).last_index, 10u) << "a local snapshot does not move the log's end";
  Loaded l = io.Reopen();
  ExpectSnapshot(l, 8, 1, "state@8");
  ExpectEntries(l, 9, Commands(9, 2, 1));
  // The next append continues at 11.
  ASSERT_EQ(AppendSync(io, 11, 1, 1), 0);
  l = io.Reopen();
  ExpectEntries(l, 9, Commands(9, 3, 1));
}

TEST_F(RaftIoTest, InstalledSnapshotReplacesTheLog) {
  Io& io = NewIo(tmp_.path());
  ASSERT_EQ(io.Load().rv, 0);
  ASSERT_EQ(AppendSync(io, 1, 10, 1), 0);
  ASSERT_EQ(PutSync(io, 0, 20, 3, "leader@20"), 0);
  EXPECT_EQ(RaftIoGetStats(io.io()).last_index, 20u);
  Loaded l = io.Reopen();
  ExpectSnapshot(l, 20, 3, "leader@20");
  ExpectEntries(l, 21, {});
  ASSERT_EQ(AppendSync(io, 21, 2, 3), 0);
  l = io.Reopen();
  ExpectEntries(l, 21, Commands(21, 2, 3));
}

// Issue 10's overwrite below the snapshot, through load: entries 9 and 10
// of the old term were truncated by the append at 6 and must not come back
// when the log is opened at the later snapshot 8.
TEST_F(RaftIoTest, OverwriteBelowTheSnapshotSeenThroughLoad) {
  Io& io = NewIo(tmp_.path());
  ASSERT_EQ(io.Load().rv, 0);
  ASSERT_EQ(AppendSync(io, 1, 10, 1), 0);
  ASSERT_EQ(io.io()->truncate(io.io(), 6), 0);
  ASSERT_EQ(AppendSync(io, 6, 3, 2, "t2"), 0);
  ASSERT_EQ(PutSync(io, 2, 8, 2, "state@8"), 0);
  Loaded l = io.Reopen();
  ASSERT_EQ(l.rv, 0) << io.error();
  EXPECT_EQ(l.snapshot_index, 8u);
  ExpectEntries(l, 9, {});
  ASSERT_EQ(AppendSync(io, 9, 1, 2, "t2"), 0);
  l = io.Reopen();
  ExpectEntries(l, 9, Commands(9, 1, 2, "t2"));
}

// Issue 10's installed snapshot over a divergent log, with a power loss
// right after the install (no append since): the stale tail 26..30 of term
// 1 does not come back after snapshot {25, 5}.
TEST_F(RaftIoTest, InstalledSnapshotOverADivergentLogThenCrash) {
  MemFileSystem& fs = mem_fs_;
  options_.wal.file_system = &fs;
  {
    Io& io = NewIo(tmp_.path());
    ASSERT_EQ(io.Load().rv, 0);
    ASSERT_EQ(AppendSync(io, 1, 30, 1), 0);
    ASSERT_EQ(PutSync(io, 0, 25, 5, "leader@25"), 0);
    fs.SimulateCrash({CrashMode::kDropUnsynced, 3});
    io_.reset();
  }
  Io& io = NewIo(tmp_.path());
  Loaded l = io.Load();
  ExpectSnapshot(l, 25, 5, "leader@25");
  ExpectEntries(l, 26, {});
}

// A crash after the side file is in place but before the WAL recorded the
// snapshot: load uses the previous snapshot and the log after it.
TEST_F(RaftIoTest, SideFileWithoutItsRecordIsSkipped) {
  MemFileSystem& fs = mem_fs_;
  options_.wal.file_system = &fs;
  options_.wal.background_segment_preparation = false;
  {
    Io& io = NewIo(tmp_.path());
    ASSERT_EQ(io.Load().rv, 0);
    ASSERT_EQ(AppendSync(io, 1, 10, 1), 0);
    ASSERT_EQ(PutSync(io, 2, 4, 1, "state@4"), 0);
    // Fail the WAL's next write (the state record of the next put, after
    // its side file was written and renamed).
    bool armed = true;
    fs.SetOpHook([&](const OpInfo& op) {
      if (armed && op.kind == OpKind::kWriteAt && op.path.ends_with(".wal")) {
        return Status(StatusCode::kIoError, "injected");
      }
      return Status::Ok();
    });
    // The write buffer only reaches the file at a flush: SaveSnapshot's sync.
    EXPECT_NE(PutSync(io, 2, 9, 1, "state@9"), 0);
    armed = false;
    fs.SetOpHook(nullptr);
    fs.SimulateCrash({CrashMode::kDropUnsynced, 4});
    io_.reset();
  }
  auto names = fs.ListDir(tmp_.path() + "/snap");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(names->size(), 2u) << "both side files are on disk";
  Io& io = NewIo(tmp_.path());
  Loaded l = io.Load();
  ExpectSnapshot(l, 4, 1, "state@4");
  ExpectEntries(l, 5, Commands(5, 6, 1));
}

TEST_F(RaftIoTest, SnapshotsKeepTheDiskBounded) {
  options_.wal.segment_size_bytes = 16 * 1024;
  options_.keep_segments = 2;
  options_.keep_snapshots = 2;
  Io& io = NewIo(tmp_.path());
  ASSERT_EQ(io.Load().rv, 0);
  uint64_t max_segments = 0;
  int index = 0;
  for (int round = 0; round < 40; ++round) {
    ASSERT_EQ(AppendSync(io, index + 1, 50, 1, std::string(200, 'x')), 0);
    index += 50;
    ASSERT_EQ(PutSync(io, 10, static_cast<uint64_t>(index), 1, "state@" + std::to_string(index)), 0);
    max_segments = std::max(max_segments, RaftIoGetStats(io.io()).wal_segments);
  }
  // 40 x 50 x ~230 bytes = ~460 KB of records = ~28 segments without purge.
  EXPECT_LE(max_segments, 4u);
  EXPECT_LE(CountFiles(tmp_.path() + "/snap"), 2u);
  Loaded l = io.Reopen();
  ASSERT_EQ(l.rv, 0) << io.error();
  EXPECT_EQ(l.snapshot_index, static_cast<uint64_t>(index));
  ExpectEntries(l, static_cast<uint64_t>(index) + 1, {});
}

// Fail-stop: an injected fsync failure fails the outstanding appends; every
// later call is refused with RAFT_IOERR and a message; nothing is retried.
TEST_F(RaftIoTest, FailStopAfterAnInjectedWalError) {
  MemFileSystem& fs = mem_fs_;
  options_.wal.file_system = &fs;
  options_.wal.background_segment_preparation = false;
  Io& io = NewIo(tmp_.path());
  ASSERT_EQ(io.Load().rv, 0);
  ASSERT_EQ(AppendSync(io, 1, 3, 1), 0);
  int syncs_after = 0;
  fs.SetOpHook([&](const OpInfo& op) {
    if (op.kind == OpKind::kSync) {
      syncs_after++;
      return Status(StatusCode::kIoError, "injected fsync failure", 5);
    }
    return Status::Ok();
  });
  Tracker t;
  std::vector<std::unique_ptr<AppendReq>> reqs;
  for (int i = 0; i < 5; ++i) {
    reqs.push_back(std::make_unique<AppendReq>());
    int rv = Append(io.io(), reqs.back().get(), &t, i, {1}, {"x"});
    if (rv != 0) {
      EXPECT_EQ(rv, RAFT_IOERR);
      reqs.pop_back();
      break;
    }
  }
  ASSERT_TRUE(RunUntil(&loop_, [&] { return t.order.size() == reqs.size(); }));
  EXPECT_EQ(t.fired_inside, 0);
  for (int s : t.statuses) EXPECT_NE(s, 0) << "no append reports success after the failed fsync";
  const int syncs_seen = syncs_after;
  EXPECT_GE(syncs_seen, 1);
  AppendReq late;
  EXPECT_EQ(Append(io.io(), &late, &t, 99, {1}, {"y"}), RAFT_IOERR);
  EXPECT_NE(io.errmsg().find("injected"), std::string::npos) << io.errmsg();
  EXPECT_EQ(io.io()->set_term(io.io(), 2), RAFT_IOERR);
  EXPECT_EQ(io.io()->set_vote(io.io(), 1), RAFT_IOERR);
  EXPECT_EQ(io.io()->truncate(io.io(), 2), RAFT_IOERR);
  PutReq put;
  SnapshotArg s(2, 1, "x");
  EXPECT_EQ(Put(io.io(), &put, &t, 100, 1, s), RAFT_IOERR);
  EXPECT_EQ(syncs_after, syncs_seen) << "a failed fsync is never retried";
  fs.SetOpHook(nullptr);
  // A restart recovers: the entries acknowledged before the failure are there.
  io_.reset();
  Io& io2 = NewIo(tmp_.path());
  Loaded l = io2.Load();
  ASSERT_EQ(l.rv, 0) << io2.error();
  ASSERT_GE(l.entries.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(l.entries[i], Commands(1, 3, 1)[i]);
}

TEST_F(RaftIoTest, RefusesAnotherNodesWal) {
  { NewIo(tmp_.path()); }
  io_.reset();
  Io other(&loop_, tmp_.path(), options_, 7);
  EXPECT_EQ(other.Open(), RAFT_CORRUPT);
  EXPECT_NE(other.error().find("walraft v1 id=1"), std::string::npos) << other.error();
}

// ---- end to end: one raft node over our io on 127.0.0.1 -------------------

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// The FSM: a count and a sum of the uint64 commands applied.
struct Counter {
  uint64_t count = 0;
  uint64_t sum = 0;
};

int FsmApply(raft_fsm* fsm, const raft_buffer* buf, void** result) {
  auto* c = static_cast<Counter*>(fsm->data);
  uint64_t v = 0;
  if (buf->len != sizeof v) return RAFT_MALFORMED;
  std::memcpy(&v, buf->base, sizeof v);
  c->count++;
  c->sum += v;
  *result = nullptr;
  return 0;
}

int FsmSnapshot(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n) {
  auto* c = static_cast<Counter*>(fsm->data);
  *bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  (*bufs)[0].base = raft_malloc(sizeof *c);
  (*bufs)[0].len = sizeof *c;
  std::memcpy((*bufs)[0].base, c, sizeof *c);
  *n = 1;
  return 0;
}

int FsmRestore(raft_fsm* fsm, raft_buffer* buf) {
  auto* c = static_cast<Counter*>(fsm->data);
  if (buf->len != sizeof *c) return RAFT_MALFORMED;
  std::memcpy(c, buf->base, sizeof *c);
  raft_free(buf->base);  // the FSM owns the buffer after a successful restore
  return 0;
}

struct Node {
  uv_loop_t* loop;
  std::string dir;
  std::string address;
  RaftIoOptions options;
  raft_uv_transport transport{};
  raft_io io{};
  raft_fsm fsm{};
  raft r{};
  Counter counter;

  int Start(bool bootstrap) {
    counter = {};
    std::memset(&transport, 0, sizeof transport);
    std::memset(&io, 0, sizeof io);
    std::memset(&r, 0, sizeof r);
    if (int rv = raft_uv_tcp_init(&transport, loop); rv != 0) return rv;
    if (int rv = RaftIoInit(&io, loop, dir, &transport, options); rv != 0) return rv;
    fsm.version = 1;
    fsm.data = &counter;
    fsm.apply = FsmApply;
    fsm.snapshot = FsmSnapshot;
    fsm.restore = FsmRestore;
    if (int rv = raft_init(&r, &io, &fsm, 1, address.c_str()); rv != 0) return rv;
    raft_set_election_timeout(&r, 150);
    raft_set_heartbeat_timeout(&r, 30);
    raft_set_snapshot_threshold(&r, 64);
    raft_set_snapshot_trailing(&r, 16);
    if (bootstrap) {
      raft_configuration conf;
      raft_configuration_init(&conf);
      raft_configuration_add(&conf, 1, address.c_str(), RAFT_VOTER);
      int rv = raft_bootstrap(&r, &conf);
      raft_configuration_close(&conf);
      if (rv != 0) return rv;
    }
    return raft_start(&r);
  }

  void Stop() {
    bool closed = false;
    r.data = &closed;
    raft_close(&r, [](raft* rr) { *static_cast<bool*>(rr->data) = true; });
    ASSERT_TRUE(RunUntil(loop, [&] { return closed; }));
    RaftIoRelease(&io);
    raft_uv_tcp_close(&transport);
    uv_run(loop, UV_RUN_NOWAIT);
  }
};

struct ApplyReq {
  struct raft_apply req {};
  int status = -1;
  bool done = false;
};

TEST_F(RaftIoTest, SingleNodeClusterAppliesAndRestartsFromLogAndSnapshot) {
  const uint16_t port = FreePort();
  ASSERT_NE(port, 0);
  Node node{&loop_, tmp_.path(), "127.0.0.1:" + std::to_string(port), options_};
  ASSERT_EQ(node.Start(/*bootstrap=*/true), 0) << node.r.errmsg;
  ASSERT_TRUE(RunUntil(&loop_, [&] { return raft_state(&node.r) == RAFT_LEADER; })) << "no leader";

  // N commands in batches of 10 in flight; each applied exactly once.
  constexpr int kN = 300;
  uint64_t want_sum = 0;
  std::vector<std::unique_ptr<ApplyReq>> reqs;
  for (int i = 1; i <= kN; ++i) {
    reqs.push_back(std::make_unique<ApplyReq>());
    ApplyReq* a = reqs.back().get();
    a->req.data = a;
    raft_buffer buf;
    buf.len = sizeof(uint64_t);
    buf.base = raft_malloc(buf.len);
    const uint64_t v = static_cast<uint64_t>(i) * 7;
    std::memcpy(buf.base, &v, sizeof v);
    want_sum += v;
    ASSERT_EQ(raft_apply(&node.r, &a->req, &buf, 1,
                         [](struct raft_apply* req, int status, void*) {
                           auto* x = static_cast<ApplyReq*>(req->data);
                           x->status = status;
                           x->done = true;
                         }),
              0);
    if (i % 10 == 0) {
      ASSERT_TRUE(RunUntil(&loop_, [&] { return a->done; }));
    }
  }
  for (auto& a : reqs) EXPECT_EQ(a->status, 0);
  EXPECT_EQ(node.counter.count, static_cast<uint64_t>(kN));
  EXPECT_EQ(node.counter.sum, want_sum);
  RaftIoStats st = RaftIoGetStats(&node.io);
  EXPECT_GT(st.snapshot_index, 0u) << "the threshold of 64 took snapshots";
  EXPECT_EQ(st.durable_index, st.last_index);
  node.Stop();

  // Restart: the snapshot is restored, the entries after it are re-applied
  // once a barrier commits them (0.15 appends no entry on election).
  ASSERT_EQ(node.Start(/*bootstrap=*/false), 0) << node.r.errmsg;
  ASSERT_TRUE(RunUntil(&loop_, [&] { return raft_state(&node.r) == RAFT_LEADER; }));
  struct BarrierCtx {
    struct raft_barrier req {};
    bool done = false;
    int status = -1;
  } b;
  b.req.data = &b;
  ASSERT_EQ(raft_barrier(&node.r, &b.req,
                         [](struct raft_barrier* req, int status) {
                           auto* x = static_cast<BarrierCtx*>(req->data);
                           x->status = status;
                           x->done = true;
                         }),
            0);
  ASSERT_TRUE(RunUntil(&loop_, [&] { return b.done; }));
  EXPECT_EQ(b.status, 0);
  EXPECT_EQ(node.counter.count, static_cast<uint64_t>(kN));
  EXPECT_EQ(node.counter.sum, want_sum);
  node.Stop();
  EXPECT_EQ(CountFiles(tmp_.path() + "/uv"), 0u) << "raft_uv's own directory stays empty";
}

}  // namespace
}  // namespace wal
