// Every file the library creates is 0600 and every directory 0700, whatever
// the umask: segments, the prepared N.tmp segments, .broken copies, the WAL
// directory and the parents Create makes.
#include <sys/stat.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/segment_names.h"
#include "tests/test_util.h"
#include "wal/wal.h"

namespace wal {
namespace {

uint32_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(FileModes, FilesAre0600AndDirectories0700WhateverTheUmask) {
  const mode_t old = ::umask(0);  // the most permissive umask: modes must still be exact
  testutil::TempDir tmp;
  const std::string parent = tmp.path() + "/a/b";
  const std::string dir = parent + "/wal";
  Options o;
  o.segment_size_bytes = 16 * 1024;
  o.background_segment_preparation = false;
  {
    auto w = WAL::Create(dir, "m", o);
    ASSERT_TRUE(w.has_value()) << w.error().ToString();
    for (uint64_t i = 1; i <= 100; ++i)
      ASSERT_TRUE((*w)->Save(HardState{1, 1, i},
                             std::vector<Entry>{Entry{1, i, EntryType::kNormal, std::string(500, 'm')}})
                      .ok());
    ASSERT_GT((*w)->stats().cuts, 0u);
    // Mid-life, with a prepared segment present (synchronous preparation
    // leaves none; make one the way the pipeline does through a reopen).
    ASSERT_TRUE((*w)->Close().ok());
  }
  Options bg = o;
  bg.background_segment_preparation = true;
  auto w = WAL::Open(dir, Snapshot{}, bg);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->ReadAll().has_value());
  ASSERT_TRUE((*w)->Sync().ok());
  bool saw_tmp = false;
  for (int i = 0; i < 200 && !saw_tmp; ++i) {  // the background thread makes 0.tmp
    saw_tmp = PathExists(FileSystem::Default(), dir + "/0.tmp");
    if (!saw_tmp) ::usleep(5000);
  }
  ASSERT_TRUE(saw_tmp);
  EXPECT_EQ(ModeOf(dir + "/0.tmp"), 0600u);
  ASSERT_TRUE((*w)->Close().ok());

  EXPECT_EQ(ModeOf(tmp.path() + "/a"), 0700u);
  EXPECT_EQ(ModeOf(parent), 0700u);
  EXPECT_EQ(ModeOf(dir), 0700u);
  auto segs = internal::ListSegments(FileSystem::Default(), dir);
  ASSERT_TRUE(segs.has_value());
  ASSERT_GE(segs->size(), 2u);
  for (const auto& s : *segs) EXPECT_EQ(ModeOf(dir + "/" + s.name), 0600u) << s.name;

  // A .broken copy from Repair.
  const std::string last = dir + "/" + segs->back().name;
  std::string b = testutil::ReadFile(last);
  b.resize(b.find_last_not_of('\0') + 1 - 2);
  testutil::WriteFile(last, b);
  auto r = Repair(dir, o);
  ASSERT_TRUE(r.has_value() && *r);
  EXPECT_EQ(ModeOf(last + ".broken"), 0600u);
  ::umask(old);
}

}  // namespace
}  // namespace wal
