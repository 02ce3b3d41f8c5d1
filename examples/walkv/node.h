// walkv's replicated node: one canonical raft 0.15 instance on its own libuv loop, with the
// KvMap as its state machine and either our WAL (walraft, `--storage wal`) or raft's own
// raft_uv (`--storage uv`) as its storage; the network is raft_uv_tcp in both cases.
//
// Threading: Run() is the loop thread; every raft call and every KvMap access happens there.
// Put/Get/Status are thread-safe: they queue a request under a mutex, wake the loop with
// uv_async_send and wait for its reply with a timeout (504 when it expires; the request may still
// complete later, unobserved). After shutdown began, they answer 503 at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

#include "examples/walkv/kv_fsm.h"

namespace walkv {

enum class Storage { kWal, kUv };

struct NodeOptions {
  uint64_t id = 0;
  std::string data_dir;
  std::string raft_address;                    // host:port this node's raft listens on
  std::map<uint64_t, std::string> peers;       // id -> raft address, all voters (includes this node)
  std::map<uint64_t, std::string> peers_http;  // id -> http address, optional (Location headers)
  unsigned snapshot_every = 1024;              // raft snapshot threshold and trailing entries
  uint64_t segment_bytes = 64'000'000;         // WAL segment size (raft_uv's too, for a like setup)
  Storage storage = Storage::kWal;
};

// An HTTP answer, built on the loop thread, sent by the HTTP thread.
struct Reply {
  int status = 500;
  std::string body;
  std::string content_type = "application/json";
  std::string location;  // empty = no Location header
};

class Node {
 public:
  // Initialises storage, raft and the loop; bootstraps the configuration of opts.peers when the
  // data dir holds no file yet; starts raft (listening on opts.raft_address). On failure returns
  // nullptr with a readable message in *error.
  static std::unique_ptr<Node> Create(const NodeOptions& opts, std::string* error);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Runs the loop until SIGTERM/SIGINT (or Stop()) has closed raft. Returns the exit code.
  int Run();
  // Thread-safe: begins a clean shutdown, as SIGTERM does.
  void Stop();

  // Thread-safe; see the file comment.
  Reply Put(std::string key, std::string value, std::chrono::milliseconds timeout);
  Reply Get(std::string key, std::chrono::milliseconds timeout);
  Reply Status(std::chrono::milliseconds timeout);

 private:
  struct Op;
  struct PutRequest;
  struct ReadBarrier;

  explicit Node(const NodeOptions& opts);
  bool Init(std::string* error);
  Reply Submit(std::shared_ptr<Op> op, std::chrono::milliseconds timeout);

  // Loop thread only.
  void Drain();
  void StartPut(const std::shared_ptr<Op>& op);
  void StartReads(std::vector<std::shared_ptr<Op>> gets);
  void BeginShutdown();
  void FinishShutdown();
  Reply NotLeader(const std::string& key) const;
  Reply StatusReply() const;
  uint64_t CountSegments() const;

  static void OnAsync(uv_async_t* handle);
  static void OnSignal(uv_signal_t* handle, int signum);
  static void OnApplied(struct raft_apply* req, int status, void* result);
  static void OnBarrier(struct raft_barrier* req, int status);
  static void OnRaftClosed(struct raft* raft);
  static int FsmApply(struct raft_fsm* fsm, const struct raft_buffer* buf, void** result);
  static int FsmSnapshot(struct raft_fsm* fsm, struct raft_buffer* bufs[], unsigned* n_bufs);
  static int FsmRestore(struct raft_fsm* fsm, struct raft_buffer* buf);

  const NodeOptions opts_;
  uv_loop_t loop_{};
  uv_async_t async_{};
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  struct raft_uv_transport transport_ {};
  struct raft_io io_ {};
  struct raft_fsm fsm_ {};
  struct raft raft_ {};
  KvMap kv_;               // loop thread only
  bool stopping_ = false;  // loop thread only
  bool loop_ready_ = false;

  std::mutex mu_;  // guards queue_, closed_ and the uv_async_send that wakes the loop
  std::deque<std::shared_ptr<Op>> queue_;
  bool closed_ = false;
};

}  // namespace walkv
