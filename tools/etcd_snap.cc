#include "tools/etcd_snap.h"

#include <isa-l/crc.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "raft.pb.h"
#include "snap.pb.h"

namespace walctl {

namespace {

// Go's crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), b).
uint32_t Castagnoli(const std::string& b) {
  return ~crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(b.data())),
                      static_cast<int>(b.size()), 0xFFFFFFFFu);
}

std::string IdList(const google::protobuf::RepeatedField<uint64_t>& ids) {
  std::string out = "[";
  for (int i = 0; i < ids.size(); ++i) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%s%" PRIx64, i ? " " : "", ids.Get(i));
    out += buf;
  }
  return out + "]";
}

}  // namespace

wal::Result<SnapHeader> ReadSnapFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return wal::Status(wal::StatusCode::kIoError, "cannot read the snapshot file: " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  auto bad = [&](const std::string& what) {
    return wal::Status(wal::StatusCode::kCorruption, "snapshot file " + what + ": " + path);
  };
  if (bytes.empty()) return bad("is empty");
  if (bytes.size() > (1u << 31)) return bad("is larger than 2 GiB");
  snappb::snapshot frame;
  if (!frame.ParseFromString(bytes) || !frame.has_data()) return bad("does not decode as snappb.snapshot");
  if (Castagnoli(frame.data()) != frame.crc()) return bad("has a crc mismatch");
  raftpb::Snapshot snap;
  if (!snap.ParseFromString(frame.data())) return bad("holds no raftpb.Snapshot");
  SnapHeader h;
  h.index = snap.metadata().index();
  h.term = snap.metadata().term();
  h.voters.assign(snap.metadata().conf_state().voters().begin(), snap.metadata().conf_state().voters().end());
  h.learners.assign(snap.metadata().conf_state().learners().begin(),
                    snap.metadata().conf_state().learners().end());
  h.data_bytes = snap.data().size();
  return h;
}

std::string EncodeSnapFile(uint64_t index, uint64_t term, const std::vector<uint64_t>& voters,
                           const std::string& data) {
  raftpb::Snapshot snap;
  snap.set_data(data);
  snap.mutable_metadata()->set_index(index);
  snap.mutable_metadata()->set_term(term);
  for (uint64_t v : voters) snap.mutable_metadata()->mutable_conf_state()->add_voters(v);
  snappb::snapshot frame;
  frame.set_data(snap.SerializeAsString());
  frame.set_crc(Castagnoli(frame.data()));
  return frame.SerializeAsString();
}

std::string SnapHeaderText(const SnapHeader& h) {
  raftpb::ConfState cs;
  for (uint64_t v : h.voters) cs.add_voters(v);
  for (uint64_t l : h.learners) cs.add_learners(l);
  return "index=" + std::to_string(h.index) + " term=" + std::to_string(h.term) +
         " voters=" + IdList(cs.voters()) + " learners=" + IdList(cs.learners());
}

}  // namespace walctl
