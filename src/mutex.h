// A mutex that clang's thread-safety analysis understands (-Wthread-safety:
// scripts/test.sh builds the library with it and -Werror). std::mutex
// carries no capability attributes in libstdc++, so fields cannot name it in
// WAL_GUARDED_BY. Waits on a std::condition_variable go through the mutex,
// so that the analysis sees the lock held before and after them.
#ifndef WAL_SRC_MUTEX_H_
#define WAL_SRC_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define WAL_TSA(x) __attribute__((x))
#else
#define WAL_TSA(x)
#endif
#define WAL_CAPABILITY(x) WAL_TSA(capability(x))
#define WAL_SCOPED_CAPABILITY WAL_TSA(scoped_lockable)
#define WAL_GUARDED_BY(x) WAL_TSA(guarded_by(x))
#define WAL_REQUIRES(...) WAL_TSA(requires_capability(__VA_ARGS__))
#define WAL_EXCLUDES(...) WAL_TSA(locks_excluded(__VA_ARGS__))
#define WAL_ACQUIRE(...) WAL_TSA(acquire_capability(__VA_ARGS__))
#define WAL_RELEASE(...) WAL_TSA(release_capability(__VA_ARGS__))

namespace wal::internal {

class WAL_CAPABILITY("mutex") Mutex {
 public:
  void Lock() WAL_ACQUIRE() { mu_.lock(); }
  void Unlock() WAL_RELEASE() { mu_.unlock(); }

  // cv.wait / wait_until with this mutex held: released while waiting,
  // held again on return (spurious wake-ups included: callers loop).
  void Wait(std::condition_variable& cv) WAL_REQUIRES(this) {
    std::unique_lock<std::mutex> lk(mu_, std::adopt_lock);
    cv.wait(lk);
    lk.release();
  }
  void WaitUntil(std::condition_variable& cv, std::chrono::steady_clock::time_point t) WAL_REQUIRES(this) {
    std::unique_lock<std::mutex> lk(mu_, std::adopt_lock);
    cv.wait_until(lk, t);
    lk.release();
  }

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class WAL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) WAL_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() WAL_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

}  // namespace wal::internal

#endif  // WAL_SRC_MUTEX_H_
