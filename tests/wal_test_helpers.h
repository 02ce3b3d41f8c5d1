// WAL-specific test helpers (on top of tests/test_util.h): status matchers,
// entry builders, a hand-made segment builder (frames with a chained CRC), a
// record-by-record file dump through the library's own decoder, lock probes
// and a fault-injecting file system.
#ifndef WAL_TESTS_WAL_TEST_HELPERS_H_
#define WAL_TESTS_WAL_TEST_HELPERS_H_

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/proto.h"
#include "src/record_reader.h"
#include "src/segment_names.h"
#include "tests/test_util.h"
#include "wal/wal.h"

namespace wal {

// So that gtest prints "kLocked"-style names instead of raw bytes.
inline void PrintTo(StatusCode c, std::ostream* os) { *os << "k" << StatusCodeName(c); }
inline void PrintTo(const Entry& e, std::ostream* os) {
  *os << "{term " << e.term << ", index " << e.index << ", type " << static_cast<int>(e.type) << ", "
      << e.data.size() << " data bytes";
  if (e.data.size() <= 16) *os << " \"" << e.data << "\"";
  *os << "}";
}
inline void PrintTo(const HardState& s, std::ostream* os) {
  *os << "{term " << s.term << ", vote " << s.vote << ", commit " << s.commit << "}";
}
inline void PrintTo(const Snapshot& s, std::ostream* os) {
  *os << "{index " << s.index << ", term " << s.term << "}";
}

namespace testutil {

// ---- status helpers --------------------------------------------------------

inline ::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <class T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  if (r.has_value()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.error().ToString();
}
inline StatusCode CodeOf(const Status& s) { return s.code(); }
template <class T>
StatusCode CodeOf(const Result<T>& r) {
  return r.has_value() ? StatusCode::kOk : r.error().code();
}
template <class T>
std::string ErrorText(const Result<T>& r) {
  return r.has_value() ? std::string("<value>") : r.error().ToString();
}
inline std::string ErrorText(const Status& s) { return s.ToString(); }

template <class X>
::testing::AssertionResult HasCode(const X& x, StatusCode want) {
  const StatusCode got = CodeOf(x);
  if (got == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got k" << StatusCodeName(got) << ", want k" << StatusCodeName(want) << ": " << ErrorText(x);
}

// All of these accept "<< more context".
#define WAL_ASSERT_OK(expr) ASSERT_TRUE(::wal::testutil::IsOk(expr))
#define WAL_EXPECT_OK(expr) EXPECT_TRUE(::wal::testutil::IsOk(expr))
#define WAL_EXPECT_CODE(expr, want) EXPECT_TRUE(::wal::testutil::HasCode((expr), (want)))
#define WAL_ASSERT_CODE(expr, want) ASSERT_TRUE(::wal::testutil::HasCode((expr), (want)))

// ---- values ----------------------------------------------------------------

inline Entry Ent(uint64_t index, uint64_t term = 0, std::string data = "") {
  Entry e;
  e.index = index;
  e.term = term;
  e.data = std::move(data);
  return e;
}

// Entries [from, to] (inclusive) of `term`, each with a small distinct payload.
inline std::vector<Entry> Ents(uint64_t from, uint64_t to, uint64_t term = 1) {
  std::vector<Entry> v;
  for (uint64_t i = from; i <= to; ++i) v.push_back(Ent(i, term, "data" + std::to_string(i)));
  return v;
}

inline std::vector<uint64_t> Indexes(const std::vector<Entry>& es) {
  std::vector<uint64_t> v;
  for (const auto& e : es) v.push_back(e.index);
  return v;
}

inline std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> v;
  for (uint64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

// Small segments keep tests fast (every Create/cut preallocates one).
inline Options SmallOptions(uint64_t segment_size = 64 * 1024) {
  Options o;
  o.segment_size_bytes = segment_size;
  return o;
}
inline Options WithRule(Options o, TornWriteRule rule) {
  o.torn_write_rule = rule;
  return o;
}

// ---- paths and files -------------------------------------------------------

inline std::string SegPath(const std::string& dir, uint64_t seq, uint64_t index) {
  return dir + "/" + internal::SegmentFileName(seq, index);
}

// Names of the *.wal files in `dir`, sorted.
inline std::vector<std::string> WalNames(const std::string& dir) {
  std::vector<std::string> out;
  auto names = FileSystem::Default()->ListDir(dir);
  if (!names.has_value()) return out;
  for (const auto& n : *names) {
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".wal") == 0) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<std::string> DirNames(const std::string& dir) {
  auto names = FileSystem::Default()->ListDir(dir);
  std::vector<std::string> out = names.has_value() ? *names : std::vector<std::string>{};
  std::sort(out.begin(), out.end());
  return out;
}

inline bool PathExistsPosix(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

inline uint32_t PermBits(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0xFFFFFFFFu;
  return st.st_mode & 07777;
}

inline uint64_t FileSizeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ~uint64_t{0};
  return static_cast<uint64_t>(st.st_size);
}

inline void TruncateFile(const std::string& path, uint64_t size) {
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size)), 0) << path;
}

// Overwrites bytes in place (the file keeps its size unless written past it).
inline void WriteAt(const std::string& path, uint64_t offset, const std::string& bytes) {
  auto f = FileSystem::Default()->Open(path, OpenOptions{.read = true, .write = true});
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  auto s = (*f)->WriteAt(offset, std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE((*f)->Close().ok());
}

// Takes and drops the segment's lock through a separate open file
// description. OFD locks conflict between descriptions even inside one
// process, so this returns kLocked while a WAL in this process holds it.
inline Status ProbeLock(const std::string& path) {
  auto f = FileSystem::Default()->Open(path, OpenOptions{.read = true, .write = true});
  if (!f.has_value()) return f.error();
  Status s = (*f)->TryLock();
  (*f)->Close().IgnoreError();
  return s;
}

// ---- reading segments record by record ------------------------------------

struct DecodedRecord {
  int64_t type = 0;
  uint32_t crc = 0;
  bool has_data = false;
  std::string data;
  uint64_t offset = 0;       // frame offset in its file
  uint64_t frame_bytes = 0;  // header + record + pad
  std::string segment;
};

struct DecodedLog {
  std::vector<DecodedRecord> records;
  Status end;                      // OK for a clean end, else the decoder's error
  uint64_t last_valid_offset = 0;  // in the segment where decoding stopped
  uint32_t crc = 0;                // running CRC at the end
};

// Decodes `paths` in order as one log with the library's decoder.
inline DecodedLog DecodeFiles(const std::vector<std::string>& paths,
                              TornWriteRule rule = Options{}.torn_write_rule) {
  DecodedLog out;
  std::vector<std::unique_ptr<File>> files;
  std::vector<internal::SegmentInput> in;
  for (const auto& p : paths) {
    auto f = FileSystem::Default()->Open(p, OpenOptions{});
    if (!f.has_value()) {
      out.end = f.error();
      return out;
    }
    files.push_back(std::move(f).value());
    in.push_back({p.substr(p.rfind('/') + 1), files.back().get()});
  }
  internal::RecordDecoder d(std::move(in), 4096, rule);
  internal::RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (!r.has_value()) {
      out.end = r.error();
      break;
    }
    if (!*r) break;
    DecodedRecord dr;
    dr.type = rec.type;
    dr.crc = rec.crc;
    dr.has_data = rec.has_data;
    dr.data = std::string(rec.data);
    dr.offset = d.record_offset();
    dr.frame_bytes = d.record_frame_bytes();
    dr.segment = d.segment_name();
    out.records.push_back(std::move(dr));
  }
  out.last_valid_offset = d.last_valid_offset();
  out.crc = d.crc();
  return out;
}
inline DecodedLog DecodeFile(const std::string& path, TornWriteRule rule = Options{}.torn_write_rule) {
  return DecodeFiles({path}, rule);
}

inline std::vector<int64_t> TypesOf(const DecodedLog& log) {
  std::vector<int64_t> v;
  for (const auto& r : log.records) v.push_back(r.type);
  return v;
}

// Offset just past the last valid record of a segment (etcd's tail offset
// after a sync, i.e. where the preallocated zeros begin).
inline uint64_t DataEnd(const std::string& path) {
  DecodedLog log = DecodeFile(path);
  EXPECT_TRUE(log.end.ok()) << log.end.ToString();
  return log.last_valid_offset;
}

// ---- building segments by hand --------------------------------------------

// Builds the bytes of a segment record by record with etcd's framing and a
// chained CRC. Records that "lie" (bad CRC, unpadded frames, raw words) can
// be added for hostile-input tests.
class SegmentBuilder {
 public:
  explicit SegmentBuilder(uint32_t prev_crc = 0) : crc_(prev_crc) {}

  // A crc record holding the running CRC (head of every segment).
  SegmentBuilder& Crc() { return Record(internal::kCrcType, false, ""); }
  // nullopt = Go nil metadata (no data field).
  SegmentBuilder& Metadata(std::optional<std::string> md) {
    return md ? Record(internal::kMetadataType, true, *md) : Record(internal::kMetadataType, false, "");
  }
  SegmentBuilder& Snap(const Snapshot& s) {
    return Record(internal::kSnapshotType, true, internal::EncodeSnapshotToString(s));
  }
  SegmentBuilder& Ent(const Entry& e) {
    return Record(internal::kEntryType, true, internal::EncodeEntryToString(e));
  }
  SegmentBuilder& State(const HardState& s) {
    return Record(internal::kStateType, true, internal::EncodeHardStateToString(s));
  }
  // The usual head of file 0: crc(0), metadata, snapshot{0,0}.
  SegmentBuilder& Head(std::optional<std::string> md) {
    return Crc().Metadata(std::move(md)).Snap(Snapshot{});
  }

  // Any record type; the CRC is chained over `data` unless it is a crc record.
  SegmentBuilder& Record(int64_t type, bool has_data, const std::string& data) {
    uint32_t c = type == internal::kCrcType ? crc_ : internal::Crc32cExtend(crc_, data);
    return RecordWithCrc(type, c, has_data, data, /*advance=*/true);
  }
  // A record with an explicit stored CRC. `advance` = whether the running
  // CRC moves on to the stored value.
  SegmentBuilder& RecordWithCrc(int64_t type, uint32_t stored_crc, bool has_data, const std::string& data,
                                bool advance) {
    std::string rec = internal::EncodeRecordToString(type, stored_crc, has_data, data);
    if (advance && type != internal::kCrcType) crc_ = stored_crc;
    return Frame(rec, padded_);
  }
  // A frame around arbitrary record bytes.
  SegmentBuilder& Frame(const std::string& rec, bool padded) {
    uint64_t word = padded ? internal::EncodeFrameWord(rec.size()) : rec.size();
    Word(word);
    bytes_ += rec;
    if (padded) bytes_.append(internal::PadBytes(rec.size()), '\0');
    return *this;
  }
  SegmentBuilder& Word(uint64_t word) {
    uint8_t b[8];
    internal::EncodeFixed64LE(b, word);
    bytes_.append(reinterpret_cast<const char*>(b), 8);
    return *this;
  }
  SegmentBuilder& Raw(const std::string& bytes) {
    bytes_ += bytes;
    return *this;
  }
  // Pre-3.0 style frames: length word without the padding flag, no pad.
  SegmentBuilder& Unpadded(bool on = true) {
    padded_ = !on;
    return *this;
  }
  SegmentBuilder& ZerosTo(size_t size) {
    if (bytes_.size() < size) bytes_.resize(size, '\0');
    return *this;
  }

  uint32_t crc() const { return crc_; }
  size_t size() const { return bytes_.size(); }
  const std::string& bytes() const { return bytes_; }
  void WriteTo(const std::string& path) const { WriteFile(path, bytes_); }

 private:
  uint32_t crc_;
  bool padded_ = true;
  std::string bytes_;
};

// ---- WAL shortcuts ---------------------------------------------------------

// Open (write mode) + ReadAll + Close.
inline Result<ReadAllResult> OpenReadAll(const std::string& dir, const Snapshot& snap = {},
                                         const Options& o = SmallOptions()) {
  auto w = WAL::Open(dir, snap, o);
  if (!w.has_value()) return w.error();
  auto r = (*w)->ReadAll();
  (*w)->Close().IgnoreError();
  return r;
}
// OpenForRead + ReadAll.
inline Result<ReadAllResult> ReadOnlyReadAll(const std::string& dir, const Snapshot& snap = {},
                                             const Options& o = SmallOptions()) {
  auto w = WAL::OpenForRead(dir, snap, o);
  if (!w.has_value()) return w.error();
  auto r = (*w)->ReadAll();
  (*w)->Close().IgnoreError();
  return r;
}

// ---- fault injection -------------------------------------------------------

// Wraps a FileSystem; before each operation asks `hook(op, path)`: a non-OK
// answer is returned instead of doing the operation. Counts operations.
class FaultInjectionFileSystem final : public FileSystemWrapper {
 public:
  enum class Op {
    kOpen,
    kRead,
    kWrite,
    kSize,
    kTruncate,
    kAllocate,
    kSync,
    kTryLock,
    kLock,
    kClose,
    kListDir,
    kStat,
    kCreateDir,
    kRemoveFile,
    kRemoveDir,
    kRename,
    kSyncDir,
    kCount
  };
  using Hook = std::function<Status(Op, const std::string&)>;

  explicit FaultInjectionFileSystem(FileSystem* base = FileSystem::Default()) : FileSystemWrapper(base) {}

  void SetHook(Hook h) {
    std::lock_guard<std::mutex> l(mu_);
    hook_ = std::move(h);
  }
  int count(Op op) const { return counts_[static_cast<int>(op)].load(); }

  Status Check(Op op, const std::string& path) {
    counts_[static_cast<int>(op)].fetch_add(1);
    std::lock_guard<std::mutex> l(mu_);
    return hook_ ? hook_(op, path) : Status::Ok();
  }

  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& options) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    WAL_RETURN_IF_ERROR(Check(Op::kListDir, dir));
    return FileSystemWrapper::ListDir(dir);
  }
  Result<FileInfo> Stat(const std::string& path) override {
    WAL_RETURN_IF_ERROR(Check(Op::kStat, path));
    return FileSystemWrapper::Stat(path);
  }
  Status CreateDir(const std::string& path, uint32_t mode) override {
    WAL_RETURN_IF_ERROR(Check(Op::kCreateDir, path));
    return FileSystemWrapper::CreateDir(path, mode);
  }
  Status RemoveFile(const std::string& path) override {
    WAL_RETURN_IF_ERROR(Check(Op::kRemoveFile, path));
    return FileSystemWrapper::RemoveFile(path);
  }
  Status RemoveDir(const std::string& path) override {
    WAL_RETURN_IF_ERROR(Check(Op::kRemoveDir, path));
    return FileSystemWrapper::RemoveDir(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    WAL_RETURN_IF_ERROR(Check(Op::kRename, to));
    return FileSystemWrapper::Rename(from, to);
  }
  Status SyncDir(const std::string& dir) override {
    WAL_RETURN_IF_ERROR(Check(Op::kSyncDir, dir));
    return FileSystemWrapper::SyncDir(dir);
  }

 private:
  class FaultFile final : public FileWrapper {
   public:
    FaultFile(FaultInjectionFileSystem* fs, std::unique_ptr<File> f) : FileWrapper(std::move(f)), fs_(fs) {}
    Result<std::size_t> ReadAt(uint64_t offset, std::span<std::byte> out) override {
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kRead, path()));
      return FileWrapper::ReadAt(offset, out);
    }
    Status WriteAt(uint64_t offset, std::span<const std::byte> data) override {
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kWrite, path()));
      return FileWrapper::WriteAt(offset, data);
    }
    // A write, then a sync: each can fail on its own.
    Status WriteAtDurable(uint64_t offset, std::span<const std::byte> data) override {
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kWrite, path()));
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kSync, path()));
      return FileWrapper::WriteAtDurable(offset, data);
    }
    Result<uint64_t> Size() override {
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kSize, path()));
      return FileWrapper::Size();
    }
    Status Truncate(uint64_t size) override {
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kTruncate, path()));
      return FileWrapper::Truncate(size);
    }
    Status Allocate(uint64_t size) override {
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kAllocate, path()));
      return FileWrapper::Allocate(size);
    }
    Status Sync() override {
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kSync, path()));
      return FileWrapper::Sync();
    }
    Status TryLock() override {
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kTryLock, path()));
      return FileWrapper::TryLock();
    }
    Status Lock() override {
      WAL_RETURN_IF_ERROR(fs_->Check(Op::kLock, path()));
      return FileWrapper::Lock();
    }
    Status Close() override {
      fs_->Check(Op::kClose, path()).IgnoreError();  // closing always happens
      return FileWrapper::Close();
    }

   private:
    FaultInjectionFileSystem* fs_;
  };

  std::mutex mu_;
  Hook hook_;
  std::atomic<int> counts_[static_cast<int>(Op::kCount)] = {};
};

inline Result<std::unique_ptr<File>> FaultInjectionFileSystem::Open(const std::string& path,
                                                                    const OpenOptions& options) {
  WAL_RETURN_IF_ERROR(Check(Op::kOpen, path));
  WAL_ASSIGN_OR_RETURN(auto f, FileSystemWrapper::Open(path, options));
  return std::unique_ptr<File>(new FaultFile(this, std::move(f)));
}

}  // namespace testutil
}  // namespace wal

#endif  // WAL_TESTS_WAL_TEST_HELPERS_H_
