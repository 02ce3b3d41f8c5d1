// Micro-benchmarks of the hot paths: CRC, record encoding, decoding.
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "src/crc32c.h"
#include "src/proto.h"

namespace wal {
namespace {

std::string Bytes(size_t n) {
  std::mt19937_64 rng(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

void BM_Crc32cIsal(benchmark::State& state) {
  std::string buf = Bytes(static_cast<size_t>(state.range(0)));
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = internal::Crc32cExtend(crc, buf);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cIsal)->Arg(100)->Arg(4096)->Arg(1 << 20);

void BM_Crc32cPortable(benchmark::State& state) {
  std::string buf = Bytes(static_cast<size_t>(state.range(0)));
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = internal::Crc32cExtendPortable(crc, buf.data(), buf.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cPortable)->Arg(100)->Arg(4096)->Arg(1 << 20);

void BM_EncodeEntryRecord(benchmark::State& state) {
  Entry e{.term = 5, .index = 123456789, .data = Bytes(static_cast<size_t>(state.range(0)))};
  std::vector<uint8_t> buf(internal::EntryEncodedSize(e) + 64);
  for (auto _ : state) {
    size_t n = internal::EntryEncodedSize(e);
    uint8_t* payload = buf.data() + 32;
    internal::EncodeEntry(e, payload);
    uint32_t crc = internal::Crc32cExtend(7, payload, n);
    internal::EncodeRecordPrefix(internal::kEntryType, crc, true, n, buf.data());
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EncodeEntryRecord)->Arg(100)->Arg(1000);

void BM_DecodeEntryRecord(benchmark::State& state) {
  Entry e{.term = 5, .index = 123456789, .data = Bytes(static_cast<size_t>(state.range(0)))};
  std::string payload = internal::EncodeEntryToString(e);
  std::string rec = internal::EncodeRecordToString(internal::kEntryType, 99, true, payload);
  for (auto _ : state) {
    internal::RecordView v;
    Entry out;
    benchmark::DoNotOptimize(internal::DecodeRecord(rec, &v).ok());
    benchmark::DoNotOptimize(internal::DecodeEntry(v.data, &out).ok());
    benchmark::DoNotOptimize(out.index);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeEntryRecord)->Arg(100)->Arg(1000);

// What ReadAllArena does per record before its single copy of the data:
// the fields, with the data left in place.
void BM_DecodeEntryRecordView(benchmark::State& state) {
  Entry e{.term = 5, .index = 123456789, .data = Bytes(static_cast<size_t>(state.range(0)))};
  std::string payload = internal::EncodeEntryToString(e);
  std::string rec = internal::EncodeRecordToString(internal::kEntryType, 99, true, payload);
  for (auto _ : state) {
    internal::RecordView v;
    EntryView out;
    benchmark::DoNotOptimize(internal::DecodeRecord(rec, &v).ok());
    benchmark::DoNotOptimize(internal::DecodeEntryView(v.data, &out).ok());
    benchmark::DoNotOptimize(out.data.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeEntryRecordView)->Arg(100)->Arg(1000);

}  // namespace
}  // namespace wal
