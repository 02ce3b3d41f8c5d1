// walkv: a replicated key-value server, canonical raft 0.15 on our WAL. See README.md
// ("A replicated key-value store") for how to run a cluster and what a 200 guarantees.
//
//   walkv --id N --data DIR --raft HOST:PORT --http HOST:PORT --peers 1=HOST:PORT,2=...,3=...
//         [--peers-http 1=HOST:PORT,...] [--snapshot-every N] [--segment-bytes N]
//         [--storage wal|uv] [--timeout-ms N]
//
// HTTP: PUT /v1/kv/KEY (body = value), GET /v1/kv/KEY, GET /v1/status.
#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "examples/walkv/node.h"

namespace {

// Parses "1=host:port,2=host:port" into id -> address; false on a malformed list.
bool ParsePeers(const std::string& text, std::map<uint64_t, std::string>* out, std::string* error) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      *error = "malformed peer '" + item + "' (want ID=HOST:PORT)";
      return false;
    }
    char* rest = nullptr;
    unsigned long long id = std::strtoull(item.c_str(), &rest, 10);
    if (rest != item.c_str() + eq || id == 0) {
      *error = "malformed peer id in '" + item + "' (want a number > 0)";
      return false;
    }
    if (!out->emplace(id, item.substr(eq + 1)).second) {
      *error = "peer id " + std::to_string(id) + " given twice";
      return false;
    }
    start = end + 1;
  }
  return true;
}

// Splits HOST:PORT; false when there is no numeric port.
bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  char* rest = nullptr;
  long p = std::strtol(address.c_str() + colon + 1, &rest, 10);
  if (*rest != '\0' || p <= 0 || p > 65535) return false;
  *host = address.substr(0, colon);
  *port = static_cast<int>(p);
  return true;
}

void Send(httplib::Response& res, const walkv::Reply& reply) {
  res.status = reply.status;
  if (!reply.location.empty()) res.set_header("Location", reply.location);
  res.set_content(reply.body, reply.content_type.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  // A peer killed mid-write must not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"walkv: a replicated key-value server (canonical raft on the wal WAL)"};
  walkv::NodeOptions opts;
  std::string http_address, peers_text, peers_http_text, storage = "wal";
  unsigned timeout_ms = 5000;
  app.add_option("--id", opts.id, "this node's raft id (> 0)")->required();
  app.add_option("--data", opts.data_dir, "data directory (empty or missing: bootstrap)")->required();
  app.add_option("--raft", opts.raft_address, "raft HOST:PORT to listen on")->required();
  app.add_option("--http", http_address, "HTTP HOST:PORT to listen on")->required();
  app.add_option("--peers", peers_text, "raft addresses of all voters: 1=HOST:PORT,2=...")->required();
  app.add_option("--peers-http", peers_http_text,
                 "HTTP addresses of the voters (1=HOST:PORT,...), for Location headers");
  app.add_option("--snapshot-every", opts.snapshot_every, "entries between snapshots")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 30));
  app.add_option("--segment-bytes", opts.segment_bytes, "WAL segment size in bytes")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{4096}, uint64_t{1} << 34));
  app.add_option("--storage", storage, "raft storage: wal (ours) or uv (raft_uv)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wal", "uv"}));
  app.add_option("--timeout-ms", timeout_ms, "how long a request waits for raft before 504")
      ->capture_default_str()
      ->check(CLI::Range(1u, 600000u));
  CLI11_PARSE(app, argc, argv);
  opts.storage = storage == "uv" ? walkv::Storage::kUv : walkv::Storage::kWal;

  std::string error;
  if (!ParsePeers(peers_text, &opts.peers, &error) ||
      (!peers_http_text.empty() && !ParsePeers(peers_http_text, &opts.peers_http, &error))) {
    std::fprintf(stderr, "walkv: %s\n", error.c_str());
    return 2;
  }
  std::string http_host;
  int http_port = 0;
  if (!SplitHostPort(http_address, &http_host, &http_port)) {
    std::fprintf(stderr, "walkv: --http %s is not HOST:PORT\n", http_address.c_str());
    return 2;
  }

  httplib::Server server;
  // Every keep-alive connection holds a worker thread: size the pool for a loaded benchmark
  // (wrk's 32 connections) and do not close connections after httplib's default 5 requests.
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  server.set_keep_alive_max_count(1u << 30);
  server.set_payload_max_length(1u << 20);
  server.set_tcp_nodelay(true);
  if (!server.bind_to_port(http_host, http_port)) {
    std::fprintf(stderr, "walkv: cannot listen on --http %s (in use?)\n", http_address.c_str());
    return 1;
  }

  std::unique_ptr<walkv::Node> node = walkv::Node::Create(opts, &error);
  if (node == nullptr) {
    std::fprintf(stderr, "walkv: %s\n", error.c_str());
    return 1;
  }
  const std::chrono::milliseconds timeout(timeout_ms);
  walkv::Node* n = node.get();
  server.Put(R"(/v1/kv/(.+))", [n, timeout](const httplib::Request& req, httplib::Response& res) {
    Send(res, n->Put(req.matches[1], req.body, timeout));
  });
  server.Get(R"(/v1/kv/(.+))", [n, timeout](const httplib::Request& req, httplib::Response& res) {
    Send(res, n->Get(req.matches[1], timeout));
  });
  server.Get("/v1/status", [n, timeout](const httplib::Request&, httplib::Response& res) {
    Send(res, n->Status(timeout));
  });

  std::thread http([&server] { server.listen_after_bind(); });
  std::fprintf(stderr, "walkv: node %llu up: raft %s, http %s, storage %s, data %s\n",
               static_cast<unsigned long long>(opts.id), opts.raft_address.c_str(), http_address.c_str(),
               storage.c_str(), opts.data_dir.c_str());
  int rc = node->Run();
  server.stop();
  http.join();
  std::fprintf(stderr, "walkv: node %llu stopped\n", static_cast<unsigned long long>(opts.id));
  return rc;
}
