#include "examples/walkv/node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <system_error>

#ifdef WALKV_HAVE_WALRAFT
#include "wal/raft_io.h"
#endif

namespace walkv {
namespace {

namespace fs = std::filesystem;

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

// Percent-encodes everything but RFC 3986's unreserved characters, for the Location header.
std::string PercentEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Reply JsonReply(int status, const nlohmann::json& j) {
  Reply r;
  r.status = status;
  r.body = j.dump() + "\n";
  return r;
}

Reply ErrorReply(int status, const std::string& message) { return JsonReply(status, {{"error", message}}); }

const char* RoleName(int state) {
  switch (state) {
    case RAFT_LEADER:
      return "leader";
    case RAFT_FOLLOWER:
      return "follower";
    case RAFT_CANDIDATE:
      return "candidate";
    default:
      return "unavailable";
  }
}

// True when `dir` is missing or holds no regular file at any depth: such a dir has never been
// bootstrapped (a crash before bootstrap finished may leave empty subdirectories only).
bool HoldsNoFile(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (it->is_regular_file(ec)) return false;
  }
  return true;
}

// After raft_start failed: says whether the cause is the port being taken (raft 0.15 gives an
// empty message then), by trying to bind the address ourselves.
std::string ExplainListenFailure(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return "the raft address has no port";
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(address.c_str() + colon + 1)));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
    return "the raft host is not an IPv4 address";
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  int err = errno;
  close(fd);
  if (rc != 0) return "cannot bind " + address + ": " + std::strerror(err);
  return "";
}

}  // namespace

struct Node::Op {
  enum class Kind { kPut, kGet, kStatus, kStop };
  Kind kind = Kind::kStatus;
  std::string key;
  std::string value;

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Reply reply;

  void Complete(Reply r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (done) return;
      reply = std::move(r);
      done = true;
    }
    cv.notify_all();
  }
};

// One raft_apply per PUT: raft 0.15 calls an apply request's callback when its FIRST entry has
// been applied, so batching several PUTs into one request could answer 200 too early.
struct Node::PutRequest {
  struct raft_apply req {};
  Node* node = nullptr;
  std::shared_ptr<Op> op;
};

// One barrier serves every GET queued before it was issued: when it has been applied, every entry
// committed before those GETs arrived has been applied too (linearizable reads).
struct Node::ReadBarrier {
  struct raft_barrier req {};
  Node* node = nullptr;
  std::vector<std::shared_ptr<Op>> gets;
};

Node::Node(const NodeOptions& opts) : opts_(opts) {}

Node::~Node() {
  if (loop_ready_) {
    // Run() ran to its end: the loop has no handle left.
    uv_loop_close(&loop_);
  }
}

std::unique_ptr<Node> Node::Create(const NodeOptions& opts, std::string* error) {
  std::unique_ptr<Node> node(new Node(opts));
  if (!node->Init(error)) {
    // raft, the io and the loop may hold pointers into the node in a half-initialised state that
    // only an asynchronous close could undo; the process is about to exit, so leave them.
    (void)node.release();
    return nullptr;
  }
  return node;
}

bool Node::Init(std::string* error) {
  auto fail = [&](const std::string& what, int rv) {
    *error = what + ": " + raft_strerror(rv);
    const char* msg = raft_errmsg(&raft_);
    if (msg != nullptr && *msg != '\0') *error += " (" + std::string(msg) + ")";
    return false;
  };
  auto it = opts_.peers.find(opts_.id);
  if (it == opts_.peers.end()) {
    *error = "--peers has no entry for --id " + std::to_string(opts_.id);
    return false;
  }
  if (it->second != opts_.raft_address) {
    *error = "--raft " + opts_.raft_address + " differs from this node's --peers address " + it->second;
    return false;
  }
  const bool fresh = HoldsNoFile(opts_.data_dir);
  std::error_code ec;
  fs::create_directories(opts_.data_dir, ec);
  if (ec) {
    *error = "cannot create " + opts_.data_dir + ": " + ec.message();
    return false;
  }
  if (int rv = uv_loop_init(&loop_); rv != 0) {
    *error = std::string("uv_loop_init: ") + uv_strerror(rv);
    return false;
  }
  loop_ready_ = true;
  if (int rv = raft_uv_tcp_init(&transport_, &loop_); rv != 0) return fail("raft_uv_tcp_init", rv);

  if (opts_.storage == Storage::kUv) {
    const std::string uv_dir = opts_.data_dir + "/uv";
    fs::create_directories(uv_dir, ec);
    if (ec) {
      *error = "cannot create " + uv_dir + ": " + ec.message();
      return false;
    }
    if (int rv = raft_uv_init(&io_, &loop_, uv_dir.c_str(), &transport_); rv != 0) {
      return fail("raft_uv_init", rv);
    }
    raft_uv_set_segment_size(&io_, opts_.segment_bytes);
  } else {
#ifdef WALKV_HAVE_WALRAFT
    wal::RaftIoOptions io_options;
    io_options.wal.segment_size_bytes = opts_.segment_bytes;
    if (int rv = wal::RaftIoInit(&io_, &loop_, opts_.data_dir, &transport_, io_options); rv != 0) {
      return fail("wal::RaftIoInit", rv);
    }
#else
    *error = "this walkv was built without walraft (wal::raft): only --storage uv is available";
    return false;
#endif
  }

  fsm_.version = 1;
  fsm_.data = this;
  fsm_.apply = FsmApply;
  fsm_.snapshot = FsmSnapshot;
  fsm_.restore = FsmRestore;
  if (int rv = raft_init(&raft_, &io_, &fsm_, opts_.id, opts_.raft_address.c_str()); rv != 0) {
    return fail("raft_init", rv);
  }
  raft_.data = this;
  // Trailing = threshold: after a snapshot the log keeps about as many entries as it takes to
  // reach the next one, so a follower that misses more than that needs a snapshot install.
  raft_set_snapshot_threshold(&raft_, opts_.snapshot_every);
  raft_set_snapshot_trailing(&raft_, opts_.snapshot_every);

  if (fresh) {
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    for (const auto& [id, address] : opts_.peers) {
      if (int rv = raft_configuration_add(&conf, id, address.c_str(), RAFT_VOTER); rv != 0) {
        raft_configuration_close(&conf);
        return fail("raft_configuration_add", rv);
      }
    }
    int rv = raft_bootstrap(&raft_, &conf);
    raft_configuration_close(&conf);
    if (rv != 0) return fail("raft_bootstrap", rv);
  }
  if (int rv = raft_start(&raft_); rv != 0) {
    const char* msg = raft_errmsg(&raft_);
    const bool no_message = msg == nullptr || *msg == '\0';
    fail("raft_start", rv);
    if (no_message) {
      // raft 0.15 says nothing when its listen fails: find out whether the port is taken.
      std::string why = ExplainListenFailure(opts_.raft_address);
      *error += "; " + (why.empty() ? std::string("raft gave no reason") : why);
    }
    return false;
  }

  uv_async_init(&loop_, &async_, OnAsync);
  async_.data = this;
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sigint_);
  sigterm_.data = this;
  sigint_.data = this;
  uv_signal_start(&sigterm_, OnSignal, SIGTERM);
  uv_signal_start(&sigint_, OnSignal, SIGINT);
  return true;
}

int Node::Run() {
  int rv = uv_run(&loop_, UV_RUN_DEFAULT);
  (void)rv;
  return 0;
}

void Node::Stop() {
  auto op = std::make_shared<Op>();
  op->kind = Op::Kind::kStop;
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  queue_.push_back(std::move(op));
  uv_async_send(&async_);
}

Reply Node::Put(std::string key, std::string value, std::chrono::milliseconds timeout) {
  auto op = std::make_shared<Op>();
  op->kind = Op::Kind::kPut;
  op->key = std::move(key);
  op->value = std::move(value);
  return Submit(std::move(op), timeout);
}

Reply Node::Get(std::string key, std::chrono::milliseconds timeout) {
  auto op = std::make_shared<Op>();
  op->kind = Op::Kind::kGet;
  op->key = std::move(key);
  return Submit(std::move(op), timeout);
}

Reply Node::Status(std::chrono::milliseconds timeout) {
  auto op = std::make_shared<Op>();
  op->kind = Op::Kind::kStatus;
  return Submit(std::move(op), timeout);
}

Reply Node::Submit(std::shared_ptr<Op> op, std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return ErrorReply(503, "shutting down");
    queue_.push_back(op);
    // Under mu_: FinishShutdown sets closed_ under mu_ before it closes async_.
    uv_async_send(&async_);
  }
  std::unique_lock<std::mutex> lock(op->mu);
  if (!op->cv.wait_for(lock, timeout, [&] { return op->done; })) {
    return ErrorReply(504, "timed out; the outcome is unknown");
  }
  return op->reply;
}

void Node::OnAsync(uv_async_t* handle) { static_cast<Node*>(handle->data)->Drain(); }

void Node::Drain() {
  std::deque<std::shared_ptr<Op>> ops;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ops.swap(queue_);
  }
  std::vector<std::shared_ptr<Op>> gets;
  for (auto& op : ops) {
    switch (op->kind) {
      case Op::Kind::kStatus:
        op->Complete(StatusReply());
        break;
      case Op::Kind::kPut:
        StartPut(op);
        break;
      case Op::Kind::kGet:
        gets.push_back(op);
        break;
      case Op::Kind::kStop:
        BeginShutdown();
        break;
    }
  }
  if (!gets.empty()) StartReads(std::move(gets));
}

Reply Node::NotLeader(const std::string& key) const {
  raft_id leader_id = 0;
  const char* leader_address = nullptr;
  raft_leader(const_cast<struct raft*>(&raft_), &leader_id, &leader_address);
  nlohmann::json j = {{"error", "not the leader"}, {"id", opts_.id}, {"leader_id", leader_id}};
  Reply r;
  if (auto it = opts_.peers_http.find(leader_id); leader_id != 0 && it != opts_.peers_http.end()) {
    j["leader_http"] = it->second;
    r.location = "http://" + it->second + "/v1/kv/" + PercentEncode(key);
  }
  r.status = 503;
  r.body = j.dump() + "\n";
  return r;
}

void Node::StartPut(const std::shared_ptr<Op>& op) {
  if (stopping_) return op->Complete(ErrorReply(503, "shutting down"));
  if (raft_state(&raft_) != RAFT_LEADER) return op->Complete(NotLeader(op->key));
  std::string payload = EncodePut(op->key, op->value);
  struct raft_buffer buf;
  buf.len = payload.size();
  buf.base = raft_malloc(buf.len);
  if (buf.base == nullptr) return op->Complete(ErrorReply(500, "out of memory"));
  std::memcpy(buf.base, payload.data(), buf.len);
  auto* put = new PutRequest;
  put->node = this;
  put->op = op;
  put->req.data = put;
  int rv = raft_apply(&raft_, &put->req, &buf, 1, OnApplied);
  if (rv != 0) {
    // Ownership of buf.base passes to raft only when raft_apply returns 0.
    raft_free(buf.base);
    delete put;
    if (rv == RAFT_NOTLEADER) return op->Complete(NotLeader(op->key));
    return op->Complete(ErrorReply(503, std::string("raft_apply: ") + raft_strerror(rv)));
  }
}

void Node::OnApplied(struct raft_apply* req, int status, void* /*result*/) {
  std::unique_ptr<PutRequest> put(static_cast<PutRequest*>(req->data));
  Node* node = put->node;
  switch (status) {
    case 0:
      // raft calls this after the FSM applied the entry, which it does only once committed.
      put->op->Complete(JsonReply(200, {{"index", req->index}}));
      break;
    case RAFT_NOTLEADER:
      put->op->Complete(node->NotLeader(put->op->key));
      break;
    case RAFT_LEADERSHIPLOST:
      put->op->Complete(ErrorReply(503, "leadership lost before commit; the outcome is unknown"));
      break;
    case RAFT_SHUTDOWN:
      put->op->Complete(ErrorReply(503, "shutting down; the outcome is unknown"));
      break;
    default:
      put->op->Complete(
          ErrorReply(500, std::string("raft: ") + raft_strerror(status) + "; the outcome is unknown"));
  }
}

void Node::StartReads(std::vector<std::shared_ptr<Op>> gets) {
  if (stopping_) {
    for (auto& op : gets) op->Complete(ErrorReply(503, "shutting down"));
    return;
  }
  if (raft_state(&raft_) != RAFT_LEADER) {
    for (auto& op : gets) op->Complete(NotLeader(op->key));
    return;
  }
  auto* barrier = new ReadBarrier;
  barrier->node = this;
  barrier->gets = std::move(gets);
  barrier->req.data = barrier;
  int rv = raft_barrier(&raft_, &barrier->req, OnBarrier);
  if (rv != 0) {
    OnBarrier(&barrier->req, rv);
  }
}

void Node::OnBarrier(struct raft_barrier* req, int status) {
  std::unique_ptr<ReadBarrier> barrier(static_cast<ReadBarrier*>(req->data));
  Node* node = barrier->node;
  for (auto& op : barrier->gets) {
    if (status == RAFT_NOTLEADER || status == RAFT_LEADERSHIPLOST) {
      op->Complete(node->NotLeader(op->key));
    } else if (status != 0) {
      op->Complete(ErrorReply(503, std::string("raft_barrier: ") + raft_strerror(status)));
    } else if (const std::string* value = node->kv_.Find(op->key); value != nullptr) {
      Reply r;
      r.status = 200;
      r.body = *value;
      r.content_type = "application/octet-stream";
      op->Complete(std::move(r));
    } else {
      op->Complete(ErrorReply(404, "no such key"));
    }
  }
}

uint64_t Node::CountSegments() const {
#ifdef WALKV_HAVE_WALRAFT
  if (opts_.storage == Storage::kWal) return wal::RaftIoGetStats(&io_).wal_segments;
#endif
  // raft_uv's segments are "open-N" (being written) and "FIRST-LAST" (closed, 16 digits each).
  static const std::regex kClosed("[0-9]{16}-[0-9]{16}");
  uint64_t count = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(opts_.data_dir + "/uv", ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("open-", 0) == 0 || std::regex_match(name, kClosed)) ++count;
  }
  return count;
}

Reply Node::StatusReply() const {
  auto* r = const_cast<struct raft*>(&raft_);
  raft_id leader_id = 0;
  const char* leader_address = nullptr;
  raft_leader(r, &leader_id, &leader_address);
  nlohmann::json j = {
      {"id", opts_.id},
      {"role", RoleName(raft_state(r))},
      {"term", raft_.current_term},
      {"leader_id", leader_id},
      {"commit_index", raft_.commit_index},
      {"applied_index", raft_last_applied(r)},
      {"first_index", raft_.log.offset + 1},  // the oldest entry raft still holds in its log
      {"last_index", raft_last_index(r)},
      {"durable_index", raft_.last_stored},
      {"snapshot_index", raft_.log.snapshot.last_index},
      {"wal_segments", CountSegments()},
      {"keys", kv_.size()},
      {"state_hash", Hex64(kv_.state_hash())},
      {"storage", opts_.storage == Storage::kWal ? "wal" : "uv"},
  };
  if (auto it = opts_.peers_http.find(leader_id); it != opts_.peers_http.end()) {
    j["leader_http"] = it->second;
  }
#ifdef WALKV_HAVE_WALRAFT
  if (opts_.storage == Storage::kWal) {
    wal::RaftIoStats s = wal::RaftIoGetStats(&io_);
    j["io"] = {{"wal_segments", s.wal_segments},
               {"snapshot_index", s.snapshot_index},
               {"last_index", s.last_index},
               {"durable_index", s.durable_index}};
  }
#endif
  return JsonReply(200, j);
}

void Node::OnSignal(uv_signal_t* handle, int /*signum*/) {
  static_cast<Node*>(handle->data)->BeginShutdown();
}

void Node::BeginShutdown() {
  if (stopping_) return;
  stopping_ = true;
  uv_signal_stop(&sigterm_);
  uv_signal_stop(&sigint_);
  raft_close(&raft_, OnRaftClosed);
}

void Node::OnRaftClosed(struct raft* raft) { static_cast<Node*>(raft->data)->FinishShutdown(); }

void Node::FinishShutdown() {
  // raft_close has closed the io (and through it the transport); release their memory.
#ifdef WALKV_HAVE_WALRAFT
  if (opts_.storage == Storage::kWal) {
    wal::RaftIoRelease(&io_);
  } else {
    raft_uv_close(&io_);
  }
#else
  raft_uv_close(&io_);
#endif
  raft_uv_tcp_close(&transport_);
  std::deque<std::shared_ptr<Op>> ops;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    ops.swap(queue_);
  }
  for (auto& op : ops) op->Complete(ErrorReply(503, "shutting down"));
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
}

int Node::FsmApply(struct raft_fsm* fsm, const struct raft_buffer* buf, void** result) {
  auto* node = static_cast<Node*>(fsm->data);
  auto cmd = DecodePut(std::string_view(static_cast<const char*>(buf->base), buf->len));
  if (!cmd) return RAFT_MALFORMED;
  node->kv_.Put(cmd->key, cmd->value);
  *result = nullptr;
  return 0;
}

int Node::FsmSnapshot(struct raft_fsm* fsm, struct raft_buffer* bufs[], unsigned* n_bufs) {
  auto* node = static_cast<Node*>(fsm->data);
  std::string image = node->kv_.Serialize();
  // Version-1 FSM: raft takes ownership of both allocations and frees them.
  auto* out = static_cast<struct raft_buffer*>(raft_malloc(sizeof(struct raft_buffer)));
  if (out == nullptr) return RAFT_NOMEM;
  out->len = image.size();
  out->base = raft_malloc(image.size());
  if (out->base == nullptr) {
    raft_free(out);
    return RAFT_NOMEM;
  }
  std::memcpy(out->base, image.data(), image.size());
  *bufs = out;
  *n_bufs = 1;
  return 0;
}

int Node::FsmRestore(struct raft_fsm* fsm, struct raft_buffer* buf) {
  auto* node = static_cast<Node*>(fsm->data);
  if (!node->kv_.Restore(std::string_view(static_cast<const char*>(buf->base), buf->len))) {
    return RAFT_MALFORMED;
  }
  // On success the FSM owns the payload (raft's own test FSMs free it here too).
  raft_free(buf->base);
  return 0;
}

}  // namespace walkv
