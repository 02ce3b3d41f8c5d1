// FileSystemConformance: one behaviour suite run against both the POSIX file
// system (in a fresh temp directory) and MemFileSystem, so the fake cannot
// drift from what the WAL sees in production.
// MemFileSystem: the durability model, crash policies and op hook, which only
// the fake has.
#include "wal/file_system.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "wal/mem_file_system.h"
#include "wal/status.h"

namespace wal {
namespace {

#define FS_TEST_CONCAT_INNER_(a, b) a##b
#define FS_TEST_CONCAT_(a, b) FS_TEST_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    const ::wal::Status fs_test_status_ = (expr);                    \
    ASSERT_TRUE(fs_test_status_.ok()) << fs_test_status_.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                              \
  do {                                                               \
    const ::wal::Status fs_test_status_ = (expr);                    \
    EXPECT_TRUE(fs_test_status_.ok()) << fs_test_status_.ToString(); \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(FS_TEST_CONCAT_(fs_test_result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)        \
  auto tmp = (expr);                                      \
  ASSERT_TRUE(tmp.has_value()) << tmp.error().ToString(); \
  lhs = std::move(tmp).value()

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

OpenOptions ReadWrite(bool create = true) {
  OpenOptions o;
  o.read = true;
  o.write = true;
  o.create = create;
  return o;
}

OpenOptions ReadOnly() { return OpenOptions{}; }

// Reads the whole file through the File interface.
Result<std::string> ReadAll(File* f) {
  WAL_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  std::string s(size, '\0');
  WAL_ASSIGN_OR_RETURN(size_t n, f->ReadAt(0, std::as_writable_bytes(std::span<char>(s))));
  s.resize(n);
  return s;
}

Status WriteFile(FileSystem* fs, const std::string& path, std::string_view data) {
  WAL_ASSIGN_OR_RETURN(auto f, fs->Open(path, ReadWrite()));
  WAL_RETURN_IF_ERROR(f->WriteAt(0, Bytes(data)));
  return f->Close();
}

Result<std::string> ReadFile(FileSystem* fs, const std::string& path) {
  WAL_ASSIGN_OR_RETURN(auto f, fs->Open(path, ReadOnly()));
  return ReadAll(f.get());
}

std::set<std::string> ListSet(FileSystem* fs, const std::string& dir) {
  auto names = fs->ListDir(dir);
  if (!names.has_value()) return {"<error: " + names.error().ToString() + ">"};
  return std::set<std::string>(names->begin(), names->end());
}

// ---------------------------------------------------------------------------
// Environments for the conformance suite.

class PosixEnv {
 public:
  PosixEnv() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/wal_fs_test_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char* dir = ::mkdtemp(buf.data());
    if (dir == nullptr) {
      std::fprintf(stderr, "mkdtemp %s: %s\n", tmpl.c_str(), std::strerror(errno));
      std::abort();
    }
    root_ = dir;
  }
  ~PosixEnv() { RemoveAll(fs(), root_).IgnoreError(); }
  FileSystem* fs() { return FileSystem::Default(); }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

class MemEnv {
 public:
  MemEnv() {
    Status s = CreateDirAll(&fs_, root_, 0700);
    if (!s.ok()) std::abort();
  }
  FileSystem* fs() { return &fs_; }
  const std::string& root() const { return root_; }

 private:
  MemFileSystem fs_;
  std::string root_ = "/tmp/wal_fs_test";
};

template <class Env>
class FileSystemConformance : public ::testing::Test {
 protected:
  FileSystem* fs() { return env_.fs(); }
  std::string P(std::string_view name) const { return env_.root() + "/" + std::string(name); }

  Env env_;
};

class EnvNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, PosixEnv> ? "Posix" : "Mem";
  }
};

using Envs = ::testing::Types<PosixEnv, MemEnv>;
TYPED_TEST_SUITE(FileSystemConformance, Envs, EnvNames);

TYPED_TEST(FileSystemConformance, OpenMissingWithoutCreateIsNotFound) {
  auto f = this->fs()->Open(this->P("missing"), ReadOnly());
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kNotFound) << f.error().ToString();
  auto g = this->fs()->Open(this->P("missing"), ReadWrite(/*create=*/false));
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().code(), StatusCode::kNotFound);
}

TYPED_TEST(FileSystemConformance, CreateInMissingDirectoryIsNotFound) {
  auto f = this->fs()->Open(this->P("nodir/file"), ReadWrite());
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kNotFound) << f.error().ToString();
}

TYPED_TEST(FileSystemConformance, PathThroughFileIsNotADirectory) {
  ASSERT_OK(WriteFile(this->fs(), this->P("f"), "x"));
  auto f = this->fs()->Open(this->P("f/g"), ReadWrite());
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kIoError) << f.error().ToString();
  EXPECT_EQ(f.error().sys_errno(), ENOTDIR);
}

TYPED_TEST(FileSystemConformance, CreateExclusive) {
  OpenOptions o = ReadWrite();
  o.exclusive = true;
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), o));
  ASSERT_OK(f->Close());
  auto again = this->fs()->Open(this->P("f"), o);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists) << again.error().ToString();
}

TYPED_TEST(FileSystemConformance, CreateWithoutExclusiveOpensExisting) {
  ASSERT_OK(WriteFile(this->fs(), this->P("f"), "hello"));
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(f.get()));
  EXPECT_EQ(s, "hello");
}

TYPED_TEST(FileSystemConformance, TruncateOnOpen) {
  ASSERT_OK(WriteFile(this->fs(), this->P("f"), "hello"));
  OpenOptions o = ReadWrite();
  o.truncate = true;
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), o));
  ASSERT_OK_AND_ASSIGN(uint64_t size, f->Size());
  EXPECT_EQ(size, 0u);
}

TYPED_TEST(FileSystemConformance, OpenDirectoryForWritingFails) {
  ASSERT_OK(this->fs()->CreateDir(this->P("d"), 0700));
  auto f = this->fs()->Open(this->P("d"), ReadWrite(/*create=*/false));
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kIoError) << f.error().ToString();
  EXPECT_EQ(f.error().sys_errno(), EISDIR);
}

TYPED_TEST(FileSystemConformance, ReadAtIsShortAtEof) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("0123456789")));
  char buf[20];
  auto out = std::as_writable_bytes(std::span<char>(buf));
  ASSERT_OK_AND_ASSIGN(size_t n, f->ReadAt(5, out));
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(std::string_view(buf, n), "56789");
  ASSERT_OK_AND_ASSIGN(n, f->ReadAt(10, out));
  EXPECT_EQ(n, 0u);
  ASSERT_OK_AND_ASSIGN(n, f->ReadAt(1000, out));
  EXPECT_EQ(n, 0u);
  ASSERT_OK_AND_ASSIGN(n, f->ReadAt(0, out.subspan(0, 0)));
  EXPECT_EQ(n, 0u);
}

TYPED_TEST(FileSystemConformance, WriteAtPastEndLeavesZeroHole) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("ab")));
  ASSERT_OK(f->WriteAt(10000, Bytes("xyz")));
  ASSERT_OK_AND_ASSIGN(uint64_t size, f->Size());
  EXPECT_EQ(size, 10003u);
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(f.get()));
  EXPECT_EQ(s, "ab" + std::string(9998, '\0') + "xyz");
}

TYPED_TEST(FileSystemConformance, OverwriteInPlace) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("hello world")));
  ASSERT_OK(f->WriteAt(6, Bytes("WORLD")));
  ASSERT_OK(f->WriteAt(0, Bytes("")));  // an empty write changes nothing
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(f.get()));
  EXPECT_EQ(s, "hello WORLD");
}

TYPED_TEST(FileSystemConformance, WriteAtDurableWritesLikeWriteAt) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("hello world")));
  ASSERT_OK(f->WriteAtDurable(6, Bytes("WORLD!")));
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(f.get()));
  EXPECT_EQ(s, "hello WORLD!");
}

// StartWriteback is a hint: it changes no byte and no size, any range is
// accepted (also past the end), and a closed file ignores it.
TYPED_TEST(FileSystemConformance, StartWritebackChangesNothing) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("hello world")));
  f->StartWriteback(0, 11);
  f->StartWriteback(4, 1 << 20);
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(f.get()));
  EXPECT_EQ(s, "hello world");
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->Close());
  f->StartWriteback(0, 11);
}

// O_DIRECT: aligned blocks from an aligned buffer go through (and read back
// through an ordinary descriptor); a misaligned offset, length or buffer is
// EINVAL. Skipped where the file system has no O_DIRECT (tmpfs).
TYPED_TEST(FileSystemConformance, DirectIoTakesAlignedBlocksOnly) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  OpenOptions o;
  o.read = false;
  o.write = true;
  o.direct = true;
  auto d = this->fs()->Open(this->P("f"), o);
  if (!d.has_value() && d.error().sys_errno() == EINVAL) GTEST_SKIP() << "no O_DIRECT here";
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  constexpr size_t kA = kDirectIoAlignment;
  std::vector<std::byte> mem(3 * kA, std::byte{'d'});
  std::byte* buf = mem.data() + (kA - reinterpret_cast<uintptr_t>(mem.data()) % kA) % kA;
  ASSERT_OK((*d)->WriteAt(kA, std::span(buf, kA)));
  ASSERT_OK((*d)->WriteAtDurable(2 * kA, std::span(buf, 2 * kA)));
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(f.get()));
  EXPECT_EQ(s, std::string(kA, '\0') + std::string(3 * kA, 'd'));
  for (auto [off, p, n] : {std::tuple{uint64_t{100}, buf, kA}, std::tuple{uint64_t{0}, buf, size_t{100}},
                           std::tuple{uint64_t{0}, buf + 1, kA}}) {
    Status st = (*d)->WriteAt(off, std::span<const std::byte>(p, n));
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.sys_errno(), EINVAL) << st.ToString();
  }
}

TYPED_TEST(FileSystemConformance, TruncateShrinksAndExtendsWithZeros) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  std::string data(9000, 'a');
  ASSERT_OK(f->WriteAt(0, Bytes(data)));
  ASSERT_OK(f->Truncate(5000));
  ASSERT_OK_AND_ASSIGN(uint64_t size, f->Size());
  EXPECT_EQ(size, 5000u);
  ASSERT_OK(f->Truncate(9000));  // the cut bytes must come back as zeros
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(f.get()));
  EXPECT_EQ(s, std::string(5000, 'a') + std::string(4000, '\0'));
  ASSERT_OK(f->Truncate(0));
  ASSERT_OK_AND_ASSIGN(size, f->Size());
  EXPECT_EQ(size, 0u);
}

TYPED_TEST(FileSystemConformance, AllocateExtendsWithZerosAndNeverShrinks) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("data")));
  ASSERT_OK(f->Allocate(64 * 1024));
  ASSERT_OK_AND_ASSIGN(uint64_t size, f->Size());
  EXPECT_EQ(size, 64u * 1024);
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(f.get()));
  EXPECT_EQ(s, "data" + std::string(64 * 1024 - 4, '\0'));
  ASSERT_OK(f->Allocate(100));
  ASSERT_OK(f->Allocate(0));
  ASSERT_OK_AND_ASSIGN(size, f->Size());
  EXPECT_EQ(size, 64u * 1024);
}

TYPED_TEST(FileSystemConformance, ReadOnlyFileRejectsWrites) {
  ASSERT_OK(WriteFile(this->fs(), this->P("f"), "abc"));
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadOnly()));
  Status w = f->WriteAt(0, Bytes("x"));
  EXPECT_EQ(w.code(), StatusCode::kIoError) << w.ToString();
  Status t = f->Truncate(0);
  EXPECT_EQ(t.code(), StatusCode::kIoError) << t.ToString();
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(f.get()));
  EXPECT_EQ(s, "abc");
}

TYPED_TEST(FileSystemConformance, ListDir) {
  ASSERT_OK(this->fs()->CreateDir(this->P("d"), 0700));
  EXPECT_EQ(ListSet(this->fs(), this->P("d")), std::set<std::string>{});
  ASSERT_OK(WriteFile(this->fs(), this->P("d/a"), "1"));
  ASSERT_OK(WriteFile(this->fs(), this->P("d/b"), "2"));
  ASSERT_OK(this->fs()->CreateDir(this->P("d/sub"), 0700));
  EXPECT_EQ(ListSet(this->fs(), this->P("d")), (std::set<std::string>{"a", "b", "sub"}));

  auto missing = this->fs()->ListDir(this->P("nope"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  auto file = this->fs()->ListDir(this->P("d/a"));
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code(), StatusCode::kIoError) << file.error().ToString();
  EXPECT_EQ(file.error().sys_errno(), ENOTDIR);
}

TYPED_TEST(FileSystemConformance, PathsAreNormalised) {
  ASSERT_OK(this->fs()->CreateDir(this->P("d"), 0700));
  ASSERT_OK(WriteFile(this->fs(), this->P("d//a"), "x"));
  ASSERT_OK_AND_ASSIGN(std::string s, ReadFile(this->fs(), this->P("./d/./a")));
  EXPECT_EQ(s, "x");
  EXPECT_EQ(ListSet(this->fs(), this->P("d/")), std::set<std::string>{"a"});
  EXPECT_OK(this->fs()->SyncDir(this->P("d/")));
}

TYPED_TEST(FileSystemConformance, StatReportsModesAndSizes) {
  OpenOptions o = ReadWrite();
  o.mode = 0600;
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f600"), o));
  ASSERT_OK(f->WriteAt(0, Bytes("12345")));
  o.mode = 0640;
  ASSERT_OK_AND_ASSIGN(auto g, this->fs()->Open(this->P("f640"), o));
  ASSERT_OK(this->fs()->CreateDir(this->P("d700"), 0700));
  ASSERT_OK(this->fs()->CreateDir(this->P("d750"), 0750));

  ASSERT_OK_AND_ASSIGN(FileInfo fi, this->fs()->Stat(this->P("f600")));
  EXPECT_FALSE(fi.is_dir);
  EXPECT_EQ(fi.size, 5u);
  EXPECT_EQ(fi.mode, 0600u);
  ASSERT_OK_AND_ASSIGN(fi, this->fs()->Stat(this->P("f640")));
  EXPECT_EQ(fi.mode, 0640u);
  ASSERT_OK_AND_ASSIGN(fi, this->fs()->Stat(this->P("d700")));
  EXPECT_TRUE(fi.is_dir);
  EXPECT_EQ(fi.mode, 0700u);
  ASSERT_OK_AND_ASSIGN(fi, this->fs()->Stat(this->P("d750")));
  EXPECT_EQ(fi.mode, 0750u);

  auto missing = this->fs()->Stat(this->P("nope"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(PathExists(this->fs(), this->P("f600")));
  EXPECT_FALSE(PathExists(this->fs(), this->P("nope")));
}

TYPED_TEST(FileSystemConformance, CreateDirErrors) {
  ASSERT_OK(this->fs()->CreateDir(this->P("d"), 0700));
  Status again = this->fs()->CreateDir(this->P("d"), 0700);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  ASSERT_OK(WriteFile(this->fs(), this->P("f"), "x"));
  Status over_file = this->fs()->CreateDir(this->P("f"), 0700);
  EXPECT_EQ(over_file.code(), StatusCode::kAlreadyExists) << over_file.ToString();
  Status no_parent = this->fs()->CreateDir(this->P("a/b"), 0700);
  EXPECT_EQ(no_parent.code(), StatusCode::kNotFound) << no_parent.ToString();
}

TYPED_TEST(FileSystemConformance, RenameReplacesFile) {
  ASSERT_OK(WriteFile(this->fs(), this->P("a"), "new"));
  ASSERT_OK(WriteFile(this->fs(), this->P("b"), "old contents"));
  ASSERT_OK(this->fs()->Rename(this->P("a"), this->P("b")));
  EXPECT_FALSE(PathExists(this->fs(), this->P("a")));
  ASSERT_OK_AND_ASSIGN(std::string s, ReadFile(this->fs(), this->P("b")));
  EXPECT_EQ(s, "new");
  // Renaming a file onto itself is a no-op.
  ASSERT_OK(this->fs()->Rename(this->P("b"), this->P("b")));
  EXPECT_TRUE(PathExists(this->fs(), this->P("b")));

  Status missing = this->fs()->Rename(this->P("nope"), this->P("c"));
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
  Status no_parent = this->fs()->Rename(this->P("b"), this->P("nodir/c"));
  EXPECT_EQ(no_parent.code(), StatusCode::kNotFound) << no_parent.ToString();
}

TYPED_TEST(FileSystemConformance, RenameDirectories) {
  ASSERT_OK(this->fs()->CreateDir(this->P("src"), 0700));
  ASSERT_OK(this->fs()->CreateDir(this->P("src/sub"), 0700));
  ASSERT_OK(WriteFile(this->fs(), this->P("src/sub/f"), "deep"));
  ASSERT_OK(this->fs()->CreateDir(this->P("empty"), 0700));
  ASSERT_OK(this->fs()->CreateDir(this->P("full"), 0700));
  ASSERT_OK(WriteFile(this->fs(), this->P("full/x"), "x"));
  ASSERT_OK(WriteFile(this->fs(), this->P("file"), "x"));

  Status over_full = this->fs()->Rename(this->P("src"), this->P("full"));
  EXPECT_EQ(over_full.code(), StatusCode::kAlreadyExists) << over_full.ToString();
  Status over_file = this->fs()->Rename(this->P("src"), this->P("file"));
  EXPECT_EQ(over_file.code(), StatusCode::kIoError) << over_file.ToString();
  EXPECT_EQ(over_file.sys_errno(), ENOTDIR);
  Status file_over_dir = this->fs()->Rename(this->P("file"), this->P("empty"));
  EXPECT_EQ(file_over_dir.code(), StatusCode::kIoError) << file_over_dir.ToString();
  EXPECT_EQ(file_over_dir.sys_errno(), EISDIR);
  Status into_itself = this->fs()->Rename(this->P("src"), this->P("src/sub/inner"));
  EXPECT_EQ(into_itself.code(), StatusCode::kIoError) << into_itself.ToString();
  EXPECT_EQ(into_itself.sys_errno(), EINVAL);

  // Over an empty directory is fine and moves the whole subtree.
  ASSERT_OK(this->fs()->Rename(this->P("src"), this->P("empty")));
  EXPECT_FALSE(PathExists(this->fs(), this->P("src")));
  ASSERT_OK_AND_ASSIGN(std::string s, ReadFile(this->fs(), this->P("empty/sub/f")));
  EXPECT_EQ(s, "deep");
  ASSERT_OK(this->fs()->Rename(this->P("empty"), this->P("moved")));
  ASSERT_OK_AND_ASSIGN(s, ReadFile(this->fs(), this->P("moved/sub/f")));
  EXPECT_EQ(s, "deep");
}

TYPED_TEST(FileSystemConformance, RemoveFile) {
  ASSERT_OK(WriteFile(this->fs(), this->P("f"), "x"));
  ASSERT_OK(this->fs()->RemoveFile(this->P("f")));
  EXPECT_FALSE(PathExists(this->fs(), this->P("f")));
  Status again = this->fs()->RemoveFile(this->P("f"));
  EXPECT_EQ(again.code(), StatusCode::kNotFound) << again.ToString();
  ASSERT_OK(this->fs()->CreateDir(this->P("d"), 0700));
  Status dir = this->fs()->RemoveFile(this->P("d"));
  EXPECT_FALSE(dir.ok());
}

TYPED_TEST(FileSystemConformance, RemoveDir) {
  ASSERT_OK(this->fs()->CreateDir(this->P("d"), 0700));
  ASSERT_OK(WriteFile(this->fs(), this->P("d/f"), "x"));
  Status non_empty = this->fs()->RemoveDir(this->P("d"));
  EXPECT_EQ(non_empty.code(), StatusCode::kAlreadyExists) << non_empty.ToString();
  ASSERT_OK(this->fs()->RemoveFile(this->P("d/f")));
  ASSERT_OK(this->fs()->RemoveDir(this->P("d")));
  EXPECT_FALSE(PathExists(this->fs(), this->P("d")));
  Status missing = this->fs()->RemoveDir(this->P("d"));
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
  ASSERT_OK(WriteFile(this->fs(), this->P("f"), "x"));
  Status file = this->fs()->RemoveDir(this->P("f"));
  EXPECT_EQ(file.code(), StatusCode::kIoError) << file.ToString();
  EXPECT_EQ(file.sys_errno(), ENOTDIR);
}

TYPED_TEST(FileSystemConformance, CreateDirAllAndRemoveAll) {
  ASSERT_OK(CreateDirAll(this->fs(), this->P("a/b/c"), 0700));
  ASSERT_OK_AND_ASSIGN(FileInfo fi, this->fs()->Stat(this->P("a/b/c")));
  EXPECT_TRUE(fi.is_dir);
  EXPECT_EQ(fi.mode, 0700u);
  ASSERT_OK_AND_ASSIGN(fi, this->fs()->Stat(this->P("a")));
  EXPECT_EQ(fi.mode, 0700u);
  ASSERT_OK(CreateDirAll(this->fs(), this->P("a/b/c"), 0700));  // existing: fine
  ASSERT_OK(WriteFile(this->fs(), this->P("a/f"), "x"));
  ASSERT_OK(WriteFile(this->fs(), this->P("a/b/c/g"), "y"));
  Status over_file = CreateDirAll(this->fs(), this->P("a/f"), 0700);
  EXPECT_EQ(over_file.code(), StatusCode::kAlreadyExists) << over_file.ToString();

  ASSERT_OK(RemoveAll(this->fs(), this->P("a")));
  EXPECT_FALSE(PathExists(this->fs(), this->P("a")));
  ASSERT_OK(RemoveAll(this->fs(), this->P("a")));  // missing: fine
  ASSERT_OK(WriteFile(this->fs(), this->P("lone"), "x"));
  ASSERT_OK(RemoveAll(this->fs(), this->P("lone")));
  EXPECT_FALSE(PathExists(this->fs(), this->P("lone")));
}

TYPED_TEST(FileSystemConformance, SyncDirAndSync) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("x")));
  EXPECT_OK(f->Sync());
  EXPECT_OK(this->fs()->SyncDir(this->env_.root()));
  Status missing = this->fs()->SyncDir(this->P("nope"));
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
}

TYPED_TEST(FileSystemConformance, OpenFileSurvivesRenameAndUnlink) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("a"), ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("one")));
  ASSERT_OK(this->fs()->Rename(this->P("a"), this->P("b")));
  ASSERT_OK(f->WriteAt(3, Bytes("two")));
  ASSERT_OK_AND_ASSIGN(std::string s, ReadFile(this->fs(), this->P("b")));
  EXPECT_EQ(s, "onetwo");
  ASSERT_OK(this->fs()->RemoveFile(this->P("b")));
  ASSERT_OK(f->WriteAt(6, Bytes("three")));
  ASSERT_OK_AND_ASSIGN(s, ReadAll(f.get()));
  EXPECT_EQ(s, "onetwothree");
  EXPECT_OK(f->Sync());
}

// Map: the file's bytes at the time of the call, readable after the file is
// closed and removed; an empty file maps to no bytes.
TYPED_TEST(FileSystemConformance, MapShowsTheBytesAndOutlivesTheFile) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("m"), ReadWrite()));
  ASSERT_OK_AND_ASSIGN(auto empty, f->Map());
  EXPECT_EQ(empty->bytes().size(), 0u);
  ASSERT_OK(f->WriteAt(0, Bytes("mapped bytes")));
  ASSERT_OK(f->Allocate(10000));
  ASSERT_OK_AND_ASSIGN(auto m, f->Map());
  ASSERT_EQ(m->bytes().size(), 10000u);
  ASSERT_OK(f->Close());
  ASSERT_OK(this->fs()->RemoveFile(this->P("m")));
  const auto* p = reinterpret_cast<const char*>(m->bytes().data());
  EXPECT_EQ(std::string(p, 12), "mapped bytes");
  EXPECT_EQ(std::count(p + 12, p + 10000, '\0'), 10000 - 12);
  // A closed file cannot be mapped.
  EXPECT_FALSE(f->Map().has_value());
}

TYPED_TEST(FileSystemConformance, TryLockConflictsBetweenOpensAndCloseReleases) {
  ASSERT_OK_AND_ASSIGN(auto a, this->fs()->Open(this->P("lock"), ReadWrite()));
  ASSERT_OK_AND_ASSIGN(auto b, this->fs()->Open(this->P("lock"), ReadWrite()));
  ASSERT_OK(a->TryLock());
  ASSERT_OK(a->TryLock());  // the holder may lock again
  Status conflict = b->TryLock();
  EXPECT_EQ(conflict.code(), StatusCode::kLocked) << conflict.ToString();
  ASSERT_OK(a->Close());
  ASSERT_OK(b->TryLock());
  ASSERT_OK_AND_ASSIGN(auto c, this->fs()->Open(this->P("lock"), ReadWrite()));
  EXPECT_EQ(c->TryLock().code(), StatusCode::kLocked);
  b.reset();  // destroying the File releases too
  EXPECT_OK(c->TryLock());
}

TYPED_TEST(FileSystemConformance, LockWaitsForRelease) {
  ASSERT_OK_AND_ASSIGN(auto a, this->fs()->Open(this->P("lock"), ReadWrite()));
  ASSERT_OK_AND_ASSIGN(auto b, this->fs()->Open(this->P("lock"), ReadWrite()));
  ASSERT_OK(a->Lock());
  std::atomic<bool> acquired{false};
  Status waiter_status;
  std::thread waiter([&] {
    waiter_status = b->Lock();
    acquired = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(acquired.load());
  ASSERT_OK(a->Close());
  waiter.join();
  EXPECT_TRUE(acquired.load());
  EXPECT_OK(waiter_status);
}

TYPED_TEST(FileSystemConformance, CloseIsIdempotentAndLaterCallsFail) {
  ASSERT_OK_AND_ASSIGN(auto f, this->fs()->Open(this->P("f"), ReadWrite()));
  ASSERT_OK(f->Close());
  ASSERT_OK(f->Close());
  EXPECT_EQ(f->WriteAt(0, Bytes("x")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(f->Size().error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(f->Sync().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(f->TryLock().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(f->path(), this->P("f"));
}

// ---------------------------------------------------------------------------
// MemFileSystem only: durability, crashes, the op hook.

constexpr char kDir[] = "/wal";

// A MemFileSystem with a durable directory /wal.
void MakeDurableDir(MemFileSystem& fs) {
  ASSERT_OK(fs.CreateDir(kDir, 0700));
  ASSERT_OK(fs.SyncDir("/"));
}

// Creates /wal/<name> with `durable` synced (file and entry), then writes
// `unsynced` at `offset` without syncing.
void MakeFile(MemFileSystem& fs, const std::string& name, std::string_view durable, uint64_t offset,
              std::string_view unsynced) {
  auto f = fs.Open(std::string(kDir) + "/" + name, ReadWrite());
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  ASSERT_OK((*f)->WriteAt(0, Bytes(durable)));
  ASSERT_OK((*f)->Sync());
  ASSERT_OK(fs.SyncDir(kDir));
  if (!unsynced.empty()) ASSERT_OK((*f)->WriteAt(offset, Bytes(unsynced)));
}

std::string Read(MemFileSystem& fs, const std::string& path) {
  auto s = fs.ReadFileToString(path);
  return s.has_value() ? *s : "<error: " + s.error().ToString() + ">";
}

TEST(MemFileSystem, UnsyncedDataIsLostOnDropUnsynced) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "f", "durable", 7, "-volatile");
  EXPECT_EQ(Read(fs, "/wal/f"), "durable-volatile");
  ASSERT_OK_AND_ASSIGN(std::string d, fs.ReadDurableFileToString("/wal/f"));
  EXPECT_EQ(d, "durable");
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/wal/f"), "durable");
}

// RWF_DSYNC: the range written is durable, nothing written before it is.
TEST(MemFileSystem, WriteAtDurableMakesOnlyItsRangeDurable) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "f", "durable", 7, "-volatile");
  ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal/f", ReadWrite(false)));
  ASSERT_OK(f->WriteAtDurable(20, Bytes("DSYNC")));
  ASSERT_OK_AND_ASSIGN(std::string d, fs.ReadDurableFileToString("/wal/f"));
  EXPECT_EQ(d, "durable" + std::string(13, '\0') + "DSYNC");
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/wal/f"), "durable" + std::string(13, '\0') + "DSYNC");
}

TEST(MemFileSystem, SyncedDataSurvives) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "f", "durable", 0, "");
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/wal/f"), "durable");
  EXPECT_EQ(fs.ListAllFiles(), std::vector<std::string>{"/wal/f"});
}

TEST(MemFileSystem, UnsyncedTruncateAndAllocateAreUndone) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "f", std::string(10000, 'a'), 0, "");
  ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal/f", ReadWrite()));
  ASSERT_OK(f->Truncate(100));
  ASSERT_OK(f->Allocate(20000));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/wal/f"), std::string(10000, 'a'));
}

TEST(MemFileSystem, ShrinkThenSyncIsDurable) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "f", std::string(10000, 'a'), 0, "");
  ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal/f", ReadWrite()));
  ASSERT_OK(f->Truncate(5000));
  ASSERT_OK(f->Truncate(12000));
  ASSERT_OK(f->Sync());
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/wal/f"), std::string(5000, 'a') + std::string(7000, '\0'));
}

TEST(MemFileSystem, FileCreatedWithoutSyncDirDisappears) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal/new", ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("data")));
  ASSERT_OK(f->Sync());  // the data is durable, the name is not
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_FALSE(PathExists(&fs, "/wal/new"));
  EXPECT_TRUE(fs.ListAllFiles().empty());
}

TEST(MemFileSystem, SyncDirWithoutFileSyncKeepsEmptyFile) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal/new", ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("data")));
  ASSERT_OK(fs.SyncDir(kDir));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/wal/new"), "");
}

TEST(MemFileSystem, DirectoryCreatedWithoutParentSyncDisappearsWithSubtree) {
  MemFileSystem fs;
  ASSERT_OK(fs.CreateDir("/d", 0700));
  ASSERT_OK(fs.CreateDir("/d/e", 0700));
  ASSERT_OK(WriteFile(&fs, "/d/e/f", "x"));
  ASSERT_OK(fs.SyncDir("/d"));
  ASSERT_OK(fs.SyncDir("/d/e"));  // everything below /d is durable, /d itself is not
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_FALSE(PathExists(&fs, "/d"));
  EXPECT_EQ(ListSet(&fs, "/"), std::set<std::string>{});
}

TEST(MemFileSystem, RenameWithoutSyncDirIsUndone) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "a.tmp", "payload", 0, "");
  ASSERT_OK(fs.Rename("/wal/a.tmp", "/wal/a"));
  EXPECT_EQ(fs.ListAllFiles(), std::vector<std::string>{"/wal/a"});
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(fs.ListAllFiles(), std::vector<std::string>{"/wal/a.tmp"});
  EXPECT_EQ(Read(fs, "/wal/a.tmp"), "payload");
}

TEST(MemFileSystem, RenameWithSyncDirIsKept) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "a.tmp", "payload", 0, "");
  ASSERT_OK(fs.Rename("/wal/a.tmp", "/wal/a"));
  ASSERT_OK(fs.SyncDir(kDir));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(fs.ListAllFiles(), std::vector<std::string>{"/wal/a"});
  EXPECT_EQ(Read(fs, "/wal/a"), "payload");
}

TEST(MemFileSystem, DirectoryRenameNeedsParentSync) {
  // The WAL's Create: build wal.tmp, then rename it to wal and sync the parent.
  MemFileSystem fs;
  ASSERT_OK(fs.CreateDir("/wal.tmp", 0700));
  ASSERT_OK(WriteFile(&fs, "/wal.tmp/0.wal", "seg"));
  ASSERT_OK(fs.SyncDir("/wal.tmp"));
  ASSERT_OK(fs.SyncDir("/"));
  ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal.tmp/0.wal", ReadWrite(false)));
  ASSERT_OK(f->Sync());
  ASSERT_OK(fs.Rename("/wal.tmp", "/wal"));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(fs.ListAllFiles(), std::vector<std::string>{"/wal.tmp/0.wal"});

  ASSERT_OK(fs.Rename("/wal.tmp", "/wal"));
  ASSERT_OK(fs.SyncDir("/"));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(fs.ListAllFiles(), std::vector<std::string>{"/wal/0.wal"});
  EXPECT_EQ(Read(fs, "/wal/0.wal"), "seg");
}

TEST(MemFileSystem, RemoveWithoutSyncDirIsUndone) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "f", "keep", 0, "");
  ASSERT_OK(fs.RemoveFile("/wal/f"));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/wal/f"), "keep");
  ASSERT_OK(fs.RemoveFile("/wal/f"));
  ASSERT_OK(fs.SyncDir(kDir));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_FALSE(PathExists(&fs, "/wal/f"));
}

TEST(MemFileSystem, CrossDirectoryRenameWithOnlyDestinationSyncedLeavesTwoNames) {
  MemFileSystem fs;
  ASSERT_OK(fs.CreateDir("/a", 0700));
  ASSERT_OK(fs.CreateDir("/b", 0700));
  ASSERT_OK(fs.SyncDir("/"));
  ASSERT_OK(fs.WriteFileFromString("/a/f", "x"));
  ASSERT_OK(fs.Rename("/a/f", "/b/f"));
  ASSERT_OK(fs.SyncDir("/b"));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(fs.ListAllFiles(), (std::vector<std::string>{"/a/f", "/b/f"}));
}

TEST(MemFileSystem, KeepAllKeepsEverythingButNotDurability) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "f", "durable", 7, "+live");
  ASSERT_OK(WriteFile(&fs, "/wal/unsynced", "u"));
  ASSERT_OK(fs.CreateDir("/wal/sub", 0700));
  fs.SimulateCrash({CrashMode::kKeepAll});
  EXPECT_EQ(Read(fs, "/wal/f"), "durable+live");
  EXPECT_EQ(Read(fs, "/wal/unsynced"), "u");
  EXPECT_TRUE(PathExists(&fs, "/wal/sub"));
  // A process crash does not sync anything: a power loss afterwards still
  // loses what was never synced.
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/wal/f"), "durable");
  EXPECT_FALSE(PathExists(&fs, "/wal/unsynced"));
  EXPECT_FALSE(PathExists(&fs, "/wal/sub"));
}

TEST(MemFileSystem, CrashInvalidatesOpenFilesAndDropsLocks) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "f", "x", 0, "");
  ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal/f", ReadWrite()));
  ASSERT_OK(f->TryLock());
  fs.SimulateCrash({CrashMode::kKeepAll});
  Status w = f->WriteAt(0, Bytes("y"));
  EXPECT_EQ(w.code(), StatusCode::kIoError);
  EXPECT_NE(w.message().find("file invalidated by crash"), std::string_view::npos) << w.ToString();
  EXPECT_EQ(f->Size().error().code(), StatusCode::kIoError);
  EXPECT_EQ(f->Sync().code(), StatusCode::kIoError);
  ASSERT_OK_AND_ASSIGN(auto g, fs.Open("/wal/f", ReadWrite()));
  EXPECT_OK(g->TryLock());
  EXPECT_OK(f->Close());  // closing a dead file is fine and must not drop g's lock
  ASSERT_OK_AND_ASSIGN(auto h, fs.Open("/wal/f", ReadWrite()));
  EXPECT_EQ(h->TryLock().code(), StatusCode::kLocked);
}

TEST(MemFileSystem, CrashWakesLockWaiter) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  ASSERT_OK_AND_ASSIGN(auto a, fs.Open("/wal/lock", ReadWrite()));
  ASSERT_OK_AND_ASSIGN(auto b, fs.Open("/wal/lock", ReadWrite()));
  ASSERT_OK(a->Lock());
  Status waiter_status;
  std::thread waiter([&] { waiter_status = b->Lock(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  fs.SimulateCrash({CrashMode::kKeepAll});
  waiter.join();
  EXPECT_EQ(waiter_status.code(), StatusCode::kIoError) << waiter_status.ToString();
}

TEST(MemFileSystem, WriteFileFromStringIsDurable) {
  MemFileSystem fs;
  ASSERT_OK(fs.WriteFileFromString("/x/y/seg.wal", "fixture", 0644));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/x/y/seg.wal"), "fixture");
  ASSERT_OK_AND_ASSIGN(FileInfo fi, fs.Stat("/x/y/seg.wal"));
  EXPECT_EQ(fi.mode, 0644u);
  ASSERT_OK(fs.WriteFileFromString("/x/y/seg.wal", "replaced"));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  EXPECT_EQ(Read(fs, "/x/y/seg.wal"), "replaced");
  EXPECT_EQ(fs.op_count(), 0u);
  EXPECT_EQ(fs.ReadFileToString("/x/nope").error().code(), StatusCode::kNotFound);
}

// Runs the same history on a fresh file system and crashes it with `policy`;
// returns /wal/f afterwards. The durable image is 3000 bytes of 'd'; the
// unsynced change overwrites from 2000 and extends to 2000 + 6000.
std::string CrashedImage(const CrashPolicy& policy) {
  MemFileSystem fs;
  EXPECT_OK(fs.CreateDir(kDir, 0700));
  EXPECT_OK(fs.SyncDir("/"));
  auto f = fs.Open("/wal/f", ReadWrite());
  EXPECT_TRUE(f.has_value());
  EXPECT_OK((*f)->WriteAt(0, Bytes(std::string(3000, 'd'))));
  EXPECT_OK((*f)->Sync());
  EXPECT_OK(fs.SyncDir(kDir));
  EXPECT_OK((*f)->WriteAt(2000, Bytes(std::string(6000, 'L'))));
  fs.SimulateCrash(policy);
  return Read(fs, "/wal/f");
}

TEST(MemFileSystem, RandomPrefixIsReproducibleAndKeepsDurableBytes) {
  std::set<size_t> sizes;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    std::string a = CrashedImage({CrashMode::kKeepRandomPrefix, seed});
    std::string b = CrashedImage({CrashMode::kKeepRandomPrefix, seed});
    ASSERT_EQ(a, b) << "seed " << seed;
    ASSERT_GE(a.size(), 3000u);
    ASSERT_LE(a.size(), 8000u);
    sizes.insert(a.size());
    // Durable bytes before the first change are untouched; then a prefix of
    // the live bytes; then what remains of the durable image.
    EXPECT_EQ(a.substr(0, 2000), std::string(2000, 'd'));
    size_t live_end = a.find_first_not_of('L', 2000);
    if (live_end == std::string::npos) live_end = a.size();
    EXPECT_EQ(a.substr(live_end), std::string(std::max<size_t>(3000, live_end) - live_end, 'd'))
        << "seed " << seed;
  }
  EXPECT_GT(sizes.size(), 3u) << "the kept prefix should vary with the seed";
}

TEST(MemFileSystem, RandomPrefixPersistsAShrinkOnlyWithTheWholeChange) {
  // Durable: 1100 x 'd'. Live: cut to 1000, then 50 x 'L' appended. The change
  // spans [1000, 1100), so k == n (keep the shrink) has odds 1/101 per seed.
  std::string durable(1100, 'd');
  std::string live = std::string(1000, 'd') + std::string(50, 'L');
  bool saw_live = false, saw_partial = false;
  for (uint64_t seed = 0; seed < 3000 && !(saw_live && saw_partial); ++seed) {
    MemFileSystem fs;
    MakeDurableDir(fs);
    MakeFile(fs, "f", durable, 0, "");
    ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal/f", ReadWrite()));
    ASSERT_OK(f->Truncate(1000));
    ASSERT_OK(f->WriteAt(1000, Bytes(std::string(50, 'L'))));
    fs.SimulateCrash({CrashMode::kKeepRandomPrefix, seed});
    std::string got = Read(fs, "/wal/f");
    if (got == live) {
      saw_live = true;
      continue;
    }
    // Otherwise the shrink is lost and only a prefix of the new bytes landed.
    ASSERT_EQ(got.size(), 1100u) << "seed " << seed;
    size_t kept_end = got.find_first_not_of('L', 1000);
    ASSERT_LE(kept_end, 1050u);
    EXPECT_EQ(got,
              std::string(1000, 'd') + std::string(kept_end - 1000, 'L') + std::string(1100 - kept_end, 'd'));
    if (kept_end > 1000) saw_partial = true;
  }
  EXPECT_TRUE(saw_live);
  EXPECT_TRUE(saw_partial);
}

TEST(MemFileSystem, RandomPrefixOfUnchangedFileIsDurableImage) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  MakeFile(fs, "f", "same", 0, "");
  fs.SimulateCrash({CrashMode::kKeepRandomPrefix, 7});
  EXPECT_EQ(Read(fs, "/wal/f"), "same");
}

TEST(MemFileSystem, TearLastSectorIsReproducibleAndOnlyTouchesUnsyncedBytes) {
  int torn = 0;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    for (bool zeros : {false, true}) {
      CrashPolicy policy{CrashMode::kTearLastSector, seed, zeros};
      std::string a = CrashedImage(policy);
      ASSERT_EQ(a, CrashedImage(policy)) << "seed " << seed;
      std::string prefix = CrashedImage({CrashMode::kKeepRandomPrefix, seed});
      ASSERT_EQ(a.size(), prefix.size()) << "tearing never changes the size";
      EXPECT_EQ(a.substr(0, 2000), std::string(2000, 'd')) << "seed " << seed;
      // Differences from the untorn image lie in one 512-byte sector.
      size_t first = std::string::npos, last = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] != prefix[i]) {
          if (first == std::string::npos) first = i;
          last = i;
        }
      }
      if (first == std::string::npos) continue;
      ++torn;
      EXPECT_EQ(first / 512, last / 512) << "seed " << seed;
      if (zeros) {
        for (size_t i = first; i <= last; ++i) EXPECT_EQ(a[i], '\0');
      }
    }
  }
  EXPECT_GT(torn, 16);
}

TEST(MemFileSystem, TearWithZerosZeroesTheWholeSectorTail) {
  // Find a seed that keeps some but not all of the change and check the
  // exact torn range: from the sector start (but not before the first
  // change) to the end of that sector or file.
  for (uint64_t seed = 0; seed < 64; ++seed) {
    std::string prefix = CrashedImage({CrashMode::kKeepRandomPrefix, seed});
    size_t kept_end = prefix.find_first_not_of('L', 2000);
    if (kept_end == std::string::npos) kept_end = prefix.size();
    if (kept_end == 2000) continue;  // nothing kept: nothing to tear
    std::string torn = CrashedImage({CrashMode::kTearLastSector, seed, /*tear_with_zeros=*/true});
    size_t sector = (kept_end - 1) / 512 * 512;
    size_t begin = std::max<size_t>(sector, 2000);
    size_t end = std::min(sector + 512, torn.size());
    std::string expected = prefix;
    for (size_t i = begin; i < end; ++i) expected[i] = '\0';
    EXPECT_EQ(torn, expected) << "seed " << seed;
  }
}

TEST(MemFileSystem, OpHookSeesOpsAndCanFailThem) {
  MemFileSystem fs;
  std::vector<OpInfo> seen;
  fs.SetOpHook([&](const OpInfo& op) {
    seen.push_back(op);
    if (op.kind == OpKind::kSync) return Status(StatusCode::kIoError, "injected fsync failure");
    if (op.kind == OpKind::kWriteAt && op.offset == 100)
      return Status(StatusCode::kNoSpace, "injected ENOSPC");
    return Status::Ok();
  });
  ASSERT_OK(fs.CreateDir("/d", 0700));
  ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/d/f", ReadWrite()));
  ASSERT_OK(f->WriteAt(0, Bytes("abc")));
  Status nospace = f->WriteAt(100, Bytes("zzz"));
  EXPECT_EQ(nospace.code(), StatusCode::kNoSpace);
  EXPECT_EQ(Read(fs, "/d/f"), "abc") << "a failed op changes nothing";
  Status sync = f->Sync();
  EXPECT_EQ(sync.code(), StatusCode::kIoError);
  EXPECT_EQ(sync.message(), "injected fsync failure");
  ASSERT_OK(fs.SyncDir("/d"));
  ASSERT_OK(fs.Rename("/d/f", "/d/g"));
  ASSERT_OK_AND_ASSIGN(auto r, fs.Open("/d/g", ReadOnly()));  // no create: not an op
  ASSERT_OK(r->Close());

  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(fs.op_count(), 7u);
  const OpKind kinds[] = {OpKind::kCreateDir, OpKind::kOpen,    OpKind::kWriteAt, OpKind::kWriteAt,
                          OpKind::kSync,      OpKind::kSyncDir, OpKind::kRename};
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].kind, kinds[i]) << i << ": " << OpKindName(seen[i].kind);
    EXPECT_EQ(seen[i].index, i);
  }
  EXPECT_EQ(seen[3].path, "/d/f");
  EXPECT_EQ(seen[3].offset, 100u);
  EXPECT_EQ(seen[3].length, 3u);
  EXPECT_EQ(seen[6].path, "/d/f");
  EXPECT_EQ(seen[6].to, "/d/g");

  // The durable image is still empty: the Sync failed.
  fs.SetOpHook(nullptr);
  ASSERT_OK_AND_ASSIGN(std::string durable, fs.ReadDurableFileToString("/d/g"));
  EXPECT_EQ(durable, "");
}

TEST(MemFileSystem, OpHookCanCrashBeforeOpK) {
  // "Crash before op k": the hook itself crashes the file system and fails
  // the op, as a crash-point test harness does.
  for (uint64_t k = 0; k < 6; ++k) {
    MemFileSystem fs;
    fs.SetOpHook([&fs, k](const OpInfo& op) {
      if (op.index != k) return Status::Ok();
      fs.SimulateCrash({CrashMode::kDropUnsynced});
      return Status(StatusCode::kIoError, "crashed");
    });
    // 0 CreateDir, 1 SyncDir, 2 Open, 3 WriteAt, 4 Sync, 5 SyncDir.
    Status s = [&]() -> Status {
      WAL_RETURN_IF_ERROR(fs.CreateDir(kDir, 0700));
      WAL_RETURN_IF_ERROR(fs.SyncDir("/"));
      WAL_ASSIGN_OR_RETURN(auto f, fs.Open("/wal/f", ReadWrite()));
      WAL_RETURN_IF_ERROR(f->WriteAt(0, Bytes("rec")));
      WAL_RETURN_IF_ERROR(f->Sync());
      return fs.SyncDir(kDir);
    }();
    EXPECT_FALSE(s.ok()) << "k=" << k;
    fs.SetOpHook(nullptr);
    EXPECT_EQ(PathExists(&fs, kDir), k >= 2) << "k=" << k;
    EXPECT_FALSE(PathExists(&fs, "/wal/f")) << "k=" << k;  // only op 5 would have made it durable
  }
}

TEST(MemFileSystem, LargePreallocatedFileIsCheapToSync) {
  // A 64 MB segment synced after every small append must not copy 64 MB each
  // time; this runs in milliseconds only if Sync is proportional to the change.
  MemFileSystem fs;
  MakeDurableDir(fs);
  ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal/seg", ReadWrite()));
  ASSERT_OK(f->Allocate(64 << 20));
  ASSERT_OK(f->Sync());
  ASSERT_OK(fs.SyncDir(kDir));
  std::string rec(100, 'r');
  for (uint64_t i = 0; i < 2000; ++i) {
    ASSERT_OK(f->WriteAt(i * rec.size(), Bytes(rec)));
    ASSERT_OK(f->Sync());
  }
  ASSERT_OK(f->WriteAt(2000 * rec.size(), Bytes("unsynced")));
  fs.SimulateCrash({CrashMode::kDropUnsynced});
  ASSERT_OK_AND_ASSIGN(auto g, fs.Open("/wal/seg", ReadOnly()));
  ASSERT_OK_AND_ASSIGN(uint64_t size, g->Size());
  EXPECT_EQ(size, uint64_t{64} << 20);
  std::string buf(200, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, g->ReadAt(1999 * 100, std::as_writable_bytes(std::span<char>(buf))));
  ASSERT_EQ(n, 200u);
  EXPECT_EQ(buf, rec + std::string(100, '\0'));
}

TEST(MemFileSystem, RandomOpsMatchNaiveModel) {
  // The page sharing and dirty-range bookkeeping against two plain strings:
  // live, and durable = live at the last Sync.
  uint64_t rng = 12345;
  auto next = [&rng](uint64_t bound) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % bound;
  };
  for (int round = 0; round < 20; ++round) {
    MemFileSystem fs;
    MakeDurableDir(fs);
    MakeFile(fs, "f", "", 0, "");
    ASSERT_OK_AND_ASSIGN(auto f, fs.Open("/wal/f", ReadWrite()));
    std::string live, durable;
    for (int step = 0; step < 200; ++step) {
      uint64_t op = next(10);
      if (op < 5) {
        uint64_t offset = next(20000);
        std::string data(next(6000), static_cast<char>('a' + next(26)));
        ASSERT_OK(f->WriteAt(offset, Bytes(data)));
        if (!data.empty()) {
          if (live.size() < offset + data.size()) live.resize(offset + data.size(), '\0');
          live.replace(offset, data.size(), data);
        }
      } else if (op < 7) {
        uint64_t size = next(24000);
        ASSERT_OK(f->Truncate(size));
        live.resize(size, '\0');
      } else if (op < 8) {
        uint64_t size = next(24000);
        ASSERT_OK(f->Allocate(size));
        if (live.size() < size) live.resize(size, '\0');
      } else {
        ASSERT_OK(f->Sync());
        durable = live;
      }
      ASSERT_EQ(Read(fs, "/wal/f"), live) << "round " << round << " step " << step;
      ASSERT_OK_AND_ASSIGN(std::string d, fs.ReadDurableFileToString("/wal/f"));
      ASSERT_EQ(d, durable) << "round " << round << " step " << step;
    }
    fs.SimulateCrash({CrashMode::kDropUnsynced});
    ASSERT_EQ(Read(fs, "/wal/f"), durable);
  }
}

TEST(MemFileSystem, ConcurrentWritersOnDistinctFiles) {
  MemFileSystem fs;
  MakeDurableDir(fs);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&fs, t] {
      auto f = fs.Open("/wal/f" + std::to_string(t), ReadWrite());
      if (!f.has_value()) return;
      for (int i = 0; i < 200; ++i) {
        (*f)->WriteAt(static_cast<uint64_t>(i), Bytes("x")).IgnoreError();
        if (i % 10 == 0) (*f)->Sync().IgnoreError();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(fs.ListAllFiles().size(), 4u);
  for (int t = 0; t < 4; ++t) EXPECT_EQ(Read(fs, "/wal/f" + std::to_string(t)), std::string(200, 'x'));
}

TEST(MemFileSystem, FilesOutliveTheFileSystem) {
  std::unique_ptr<File> f;
  {
    MemFileSystem fs;
    auto r = fs.Open("/f", ReadWrite());
    ASSERT_TRUE(r.has_value());
    f = std::move(r).value();
  }
  EXPECT_OK(f->WriteAt(0, Bytes("x")));
  EXPECT_OK(f->Close());
}

}  // namespace
}  // namespace wal
