// The largest single allocation made while tracking is on (fuzz_util.h).
//
// Under ASan (clang or gcc) the sanitizer's allocator hooks see every malloc
// and operator new; libFuzzer installs one hook itself and the runtime allows
// several. Without a sanitizer (the gcc corpus-replay build) the global
// operator new/delete are replaced instead; the library allocates only
// through std containers, i.e. operator new.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "fuzz/fuzz_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define WALFUZZ_SANITIZER_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WALFUZZ_SANITIZER_HOOKS 1
#endif
#endif

namespace {

std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_max{0};

void Note(size_t n) {
  if (!g_tracking.load(std::memory_order_relaxed)) return;
  size_t cur = g_max.load(std::memory_order_relaxed);
  while (n > cur && !g_max.compare_exchange_weak(cur, n, std::memory_order_relaxed)) {
  }
}

}  // namespace

#ifdef WALFUZZ_SANITIZER_HOOKS
// Declared here rather than through <sanitizer/allocator_interface.h>, which
// gcc does not install; both ASan runtimes (gcc's libasan, clang's) define it.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, size_t),
                                                         void (*free_hook)(const volatile void*));

namespace {
void MallocHook(const volatile void*, size_t n) { Note(n); }
void FreeHook(const volatile void*) {}
}  // namespace

namespace walfuzz {
void BeginAllocTracking() {
  static const bool installed = [] {
    __sanitizer_install_malloc_and_free_hooks(MallocHook, FreeHook);
    return true;
  }();
  (void)installed;
  g_max.store(0);
  g_tracking.store(true);
}
size_t EndAllocTracking() {
  g_tracking.store(false);
  return g_max.load();
}
}  // namespace walfuzz

#else  // !WALFUZZ_SANITIZER_HOOKS

namespace walfuzz {
void BeginAllocTracking() {
  g_max.store(0);
  g_tracking.store(true);
}
size_t EndAllocTracking() {
  g_tracking.store(false);
  return g_max.load();
}
}  // namespace walfuzz

namespace {
void* Allocate(size_t n) {
  Note(n);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) std::abort();  // the fuzz targets never expect bad_alloc
  return p;
}
}  // namespace

void* operator new(size_t n) { return Allocate(n); }
void* operator new[](size_t n) { return Allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  Note(n);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  Note(n);
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

#endif  // WALFUZZ_SANITIZER_HOOKS
