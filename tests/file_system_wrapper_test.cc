// FileSystemWrapper and FileWrapper forward every call to their target, with
// its arguments, and hand back the target's answer unchanged.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "wal/file_system.h"

namespace wal {
namespace {

// Logs each call as "name(args)" and answers with a value that names the call.
class RecordingFile final : public File {
 public:
  explicit RecordingFile(std::vector<std::string>* log) : log_(log) {}
  const std::string& path() const override {
    log_->push_back("path()");
    return path_;
  }
  Result<std::size_t> ReadAt(uint64_t offset, std::span<std::byte> out) override {
    log_->push_back("ReadAt(" + std::to_string(offset) + "," + std::to_string(out.size()) + ")");
    return std::size_t{7};
  }
  Status WriteAt(uint64_t offset, std::span<const std::byte> data) override {
    return Log("WriteAt(" + std::to_string(offset) + "," + std::to_string(data.size()) + ")");
  }
  Result<uint64_t> Size() override {
    log_->push_back("Size()");
    return uint64_t{42};
  }
  Status Truncate(uint64_t size) override { return Log("Truncate(" + std::to_string(size) + ")"); }
  Status Allocate(uint64_t size) override { return Log("Allocate(" + std::to_string(size) + ")"); }
  Status Sync() override { return Log("Sync()"); }
  Status TryLock() override { return Log("TryLock()"); }
  Status Lock() override { return Log("Lock()"); }
  Status Close() override { return Log("Close()"); }
  Result<std::shared_ptr<const FileMapping>> Map() override { return Log("Map()"); }

 private:
  // Each call fails with its own text, so the test sees the answer came back.
  Status Log(const std::string& call) {
    log_->push_back(call);
    return Status(StatusCode::kIoError, call);
  }
  std::vector<std::string>* log_;
  std::string path_ = "/recorded";
};

class RecordingFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& options) override {
    log.push_back("Open(" + path + "," + std::to_string(options.mode) + ")");
    return std::unique_ptr<File>(std::make_unique<RecordingFile>(&log));
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    log.push_back("ListDir(" + dir + ")");
    return std::vector<std::string>{"a", "b"};
  }
  Result<FileInfo> Stat(const std::string& path) override {
    log.push_back("Stat(" + path + ")");
    return FileInfo{.is_dir = true, .size = 9, .mode = 0700};
  }
  Status CreateDir(const std::string& path, uint32_t mode) override {
    return Log("CreateDir(" + path + "," + std::to_string(mode) + ")");
  }
  Status RemoveFile(const std::string& path) override { return Log("RemoveFile(" + path + ")"); }
  Status RemoveDir(const std::string& path) override { return Log("RemoveDir(" + path + ")"); }
  Status Rename(const std::string& from, const std::string& to) override {
    return Log("Rename(" + from + "," + to + ")");
  }
  Status SyncDir(const std::string& dir) override { return Log("SyncDir(" + dir + ")"); }

  std::vector<std::string> log;

 private:
  Status Log(const std::string& call) {
    log.push_back(call);
    return Status(StatusCode::kIoError, call);
  }
};

// The answer is the target's: an error carrying the call's own text.
void ExpectAnswer(const Status& s, const std::string& call) {
  EXPECT_EQ(s.code(), StatusCode::kIoError) << call;
  EXPECT_NE(s.ToString().find(call), std::string::npos) << s.ToString();
}

TEST(FileSystemWrapper, ForwardsEveryCall) {
  RecordingFileSystem target;
  FileSystemWrapper fs(&target);
  EXPECT_EQ(fs.target(), &target);

  auto f = fs.Open("/x", OpenOptions{.mode = 0640});
  ASSERT_TRUE(f.has_value());
  auto dir = fs.ListDir("/d");
  ASSERT_TRUE(dir.has_value());
  EXPECT_EQ(*dir, (std::vector<std::string>{"a", "b"}));
  auto info = fs.Stat("/s");
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->is_dir);
  EXPECT_EQ(info->size, 9u);
  ExpectAnswer(fs.CreateDir("/c", 0700), "CreateDir(/c,448)");
  ExpectAnswer(fs.RemoveFile("/rf"), "RemoveFile(/rf)");
  ExpectAnswer(fs.RemoveDir("/rd"), "RemoveDir(/rd)");
  ExpectAnswer(fs.Rename("/from", "/to"), "Rename(/from,/to)");
  ExpectAnswer(fs.SyncDir("/sd"), "SyncDir(/sd)");
  EXPECT_EQ(target.log, (std::vector<std::string>{"Open(/x,416)", "ListDir(/d)", "Stat(/s)",
                                                  "CreateDir(/c,448)", "RemoveFile(/rf)", "RemoveDir(/rd)",
                                                  "Rename(/from,/to)", "SyncDir(/sd)"}));
  // Open hands back the target's file itself: files are wrapped only by a
  // subclass that overrides Open.
  EXPECT_NE(dynamic_cast<RecordingFile*>(f->get()), nullptr);
}

TEST(FileWrapper, ForwardsEveryCall) {
  std::vector<std::string> log;
  auto target = std::make_unique<RecordingFile>(&log);
  File* raw = target.get();
  FileWrapper f(std::move(target));
  EXPECT_EQ(f.target(), raw);

  EXPECT_EQ(f.path(), "/recorded");
  std::byte buf[5];
  auto n = f.ReadAt(3, buf);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 7u);
  const std::byte data[2] = {};
  ExpectAnswer(f.WriteAt(11, data), "WriteAt(11,2)");
  auto size = f.Size();
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(*size, 42u);
  ExpectAnswer(f.Truncate(12), "Truncate(12)");
  ExpectAnswer(f.Allocate(13), "Allocate(13)");
  ExpectAnswer(f.Sync(), "Sync()");
  ExpectAnswer(f.TryLock(), "TryLock()");
  ExpectAnswer(f.Lock(), "Lock()");
  ExpectAnswer(f.Close(), "Close()");
  auto mapped = f.Map();
  ASSERT_FALSE(mapped.has_value());
  ExpectAnswer(mapped.error(), "Map()");
  EXPECT_EQ(log,
            (std::vector<std::string>{"path()", "ReadAt(3,5)", "WriteAt(11,2)", "Size()", "Truncate(12)",
                                      "Allocate(13)", "Sync()", "TryLock()", "Lock()", "Close()", "Map()"}));
}

// A subclass overrides one call and inherits the forwarding of the others.
TEST(FileSystemWrapper, SubclassOverridesOneCall) {
  class RefuseRemovals final : public FileSystemWrapper {
   public:
    using FileSystemWrapper::FileSystemWrapper;
    Status RemoveFile(const std::string& path) override {
      return Status(StatusCode::kPermissionDenied, path);
    }
  };
  RecordingFileSystem target;
  RefuseRemovals fs(&target);
  EXPECT_EQ(fs.RemoveFile("/keep").code(), StatusCode::kPermissionDenied);
  ExpectAnswer(fs.SyncDir("/d"), "SyncDir(/d)");
  EXPECT_EQ(target.log, (std::vector<std::string>{"SyncDir(/d)"}));
}

}  // namespace
}  // namespace wal
