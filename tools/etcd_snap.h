// etcd's snapshot files (member/snap/<term>-<index>.snap): reading the
// header etcd's snapshotter wrote (index, term, conf state), with its CRC
// checked as etcd checks it when it loads the file at startup.
#ifndef WAL_TOOLS_ETCD_SNAP_H_
#define WAL_TOOLS_ETCD_SNAP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "wal/status.h"

namespace walctl {

struct SnapHeader {
  uint64_t index = 0;
  uint64_t term = 0;
  std::vector<uint64_t> voters;
  std::vector<uint64_t> learners;
  uint64_t data_bytes = 0;  // the raft snapshot's payload (etcd's v2 store)
};

// Reads and checks the file: kCorruption (with what is wrong) for an
// empty file, a CRC mismatch or bytes that do not decode, as etcd's
// snapshotter refuses them (and renames the file .broken).
wal::Result<SnapHeader> ReadSnapFile(const std::string& path);

// The bytes of a .snap file holding {index, term, voters} and `data`
// (for tests; etcd's snapshotter writes the same).
std::string EncodeSnapFile(uint64_t index, uint64_t term, const std::vector<uint64_t>& voters,
                           const std::string& data);

// "index=12 term=1 voters=[2e1259d415f2a040] learners=[]".
std::string SnapHeaderText(const SnapHeader& h);

}  // namespace walctl

#endif  // WAL_TOOLS_ETCD_SNAP_H_
