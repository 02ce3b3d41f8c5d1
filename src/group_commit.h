// Group commit: when appended records become durable, and who hears of it.
//
// Positions are LSNs: frame bytes appended since the WAL object was created
// or opened, across segments. Callers that need their records durable wait
// in SyncTo; one of them at a time leads a round (flush under the mutex,
// then the syncs WITHOUT it, so others keep appending and the next round
// covers all of them with one fdatasync). SaveAsync's syncer thread does
// the same for tickets and reports them, in order, through callbacks.
//
// The WAL (wal.cc) derives from this class: it supplies what a round does
// (PrepareRound / SyncRound / FinishRound) and shares `mu`, the one mutex
// that guards the whole WAL's state.
#ifndef WAL_SRC_GROUP_COMMIT_H_
#define WAL_SRC_GROUP_COMMIT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "src/mutex.h"
#include "wal/status.h"

namespace wal::internal {

// What the syncs of one round (or of one stand-alone sync) cost.
struct RoundStats {
  uint64_t syncs = 0;
  uint64_t slow_syncs = 0;
  uint64_t max_sync_micros = 0;
  uint64_t sync_micros = 0;
};

class GroupCommit {
 public:
  using TicketCallback = std::function<void(uint64_t ticket, const Status& status)>;
  using DurableCallback = std::function<void(uint64_t index)>;

  // unsafe_no_fsync: rounds run with `mu` held (there is nothing to wait
  // for) and start at once.
  explicit GroupCommit(bool unsafe_no_fsync) : unsafe_no_fsync_(unsafe_no_fsync) {}
  virtual ~GroupCommit() = default;
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  Mutex mu;  // guards everything of the WAL that changes after Open

  // The sticky first write or sync failure; every waiter and every
  // outstanding ticket hears of it. Returns s.
  Status Stop(Status s) WAL_REQUIRES(mu);
  const Status& stopped() const WAL_REQUIRES(mu) { return stopped_; }
  Status StoppedError() const WAL_REQUIRES(mu);

  // Records of `frame_bytes` were appended (buffered, not yet durable).
  void Appended(uint64_t frame_bytes) WAL_REQUIRES(mu) { appended_lsn_ += frame_bytes; }
  // The Save whose records end here carries entries up to raft index `index`.
  void NoteSaveEnd(uint64_t index) WAL_REQUIRES(mu) { pending_.emplace_back(appended_lsn_, index); }
  uint64_t appended_lsn() const WAL_REQUIRES(mu) { return appended_lsn_; }
  uint64_t durable_lsn() const WAL_REQUIRES(mu) { return durable_lsn_; }
  // Everything up to `lsn` is durable: advances DurableIndex and tickets.
  void MarkDurable(uint64_t lsn) WAL_REQUIRES(mu);
  uint64_t durable_index() const WAL_REQUIRES(mu) { return durable_index_; }
  void set_durable_index(uint64_t i) WAL_REQUIRES(mu) { durable_index_ = i; }

  // Returns once everything up to `lsn` is durable (or the WAL stopped),
  // leading rounds as needed.
  Status SyncTo(uint64_t lsn) WAL_REQUIRES(mu);
  // Waits until no round is in its syncs.
  void WaitForRound() WAL_REQUIRES(mu);

  // Tickets (SaveAsync): issued 1, 2, 3, ... for the records appended so far.
  uint64_t IssueTicket() WAL_REQUIRES(mu);
  uint64_t issued_ticket() const WAL_REQUIRES(mu) { return issued_ticket_; }
  uint64_t durable_ticket() const WAL_REQUIRES(mu) { return durable_ticket_; }
  // The LSN that makes `ticket` durable (0 if it already is).
  uint64_t LsnOfTicket(uint64_t ticket) const WAL_REQUIRES(mu);
  // Asks the syncer thread to make everything appended durable (starting it
  // when there is something to sync or report).
  void RequestSync() WAL_REQUIRES(mu);

  // Callbacks run on the syncer thread, without mu, in order. Setting one
  // starts the syncer when `appending`.
  void SetTicketCallback(TicketCallback cb, bool appending) WAL_REQUIRES(mu);
  void SetDurableCallback(DurableCallback cb, bool appending) WAL_REQUIRES(mu);
  // Joins the syncer after it has synced what was requested and reported.
  void StopSyncer() WAL_REQUIRES(mu);

 protected:
  // A round, in three steps. Under mu: write out what is buffered and
  // capture what the round must sync.
  virtual Status PrepareRound() WAL_REQUIRES(mu) = 0;
  // Without mu (with it under unsafe_no_fsync): the syncs, touching only
  // what PrepareRound captured.
  virtual Status SyncRound(RoundStats* rs) = 0;
  // Under mu, after SyncRound, whether it failed or not.
  virtual void FinishRound(const RoundStats& rs, bool ok) WAL_REQUIRES(mu) = 0;

 private:
  struct Waiter {
    uint64_t lsn = 0;
    std::condition_variable cv;
  };
  struct TicketLsn {
    uint64_t ticket = 0;
    uint64_t lsn = 0;
  };

  Status WaitOrLead(Waiter& me) WAL_REQUIRES(mu);
  Status RunRound() WAL_REQUIRES(mu);
  void WakeNextLeader() WAL_REQUIRES(mu);
  void AdvanceTickets() WAL_REQUIRES(mu);
  uint64_t ReportableTicket() const WAL_REQUIRES(mu);
  bool MustReportTickets() const WAL_REQUIRES(mu);
  bool MustReportIndex() const WAL_REQUIRES(mu);
  bool MustSync() const WAL_REQUIRES(mu);
  void ReportTickets() WAL_REQUIRES(mu);
  void ReportIndex() WAL_REQUIRES(mu);
  void StartSyncer() WAL_REQUIRES(mu);
  void RunSyncer() WAL_EXCLUDES(mu);

  const bool unsafe_no_fsync_;
  Status stopped_ WAL_GUARDED_BY(mu);

  uint64_t appended_lsn_ WAL_GUARDED_BY(mu) = 0;
  uint64_t durable_lsn_ WAL_GUARDED_BY(mu) = 0;
  bool sync_running_ WAL_GUARDED_BY(mu) = false;  // a leader is in a round's syncs, without mu
  std::condition_variable sync_cv_;               // a round ended

  // Callers blocked in SyncTo, not yet covered by a round, in arrival
  // order; each woken individually (no thundering herd on few cores): when
  // a round covers it, or to lead the next round. Shared so that a leader
  // can notify the callers it covered after it let go of mu (they then find
  // mu free instead of waking up only to block on it).
  std::vector<std::shared_ptr<Waiter>> waiters_ WAL_GUARDED_BY(mu);
  // Gathering: after a round, the next one starts once as many callers wait
  // as took part in the last one (those it released append again and join
  // within tens of microseconds), or once gather_deadline_ (the last
  // round's sync time, at most 2 ms) passes: a caller that does not come
  // back costs one such wait, then the target adapts. Starting at once
  // would split steady writers into two groups that alternate, each synced
  // by half the fdatasyncs. One waiter (the gatherer) sleeps until the
  // deadline; the arrival that completes the group leads without waiting.
  // (Half the sync time was too short: 8 writers on 2 cores need ~70 us to
  // gather, and 12% of rounds left without a straggler, who then waited a
  // whole round.)
  size_t gather_target_ WAL_GUARDED_BY(mu) = 1;
  std::chrono::steady_clock::time_point gather_deadline_ WAL_GUARDED_BY(mu);
  Waiter* gatherer_ WAL_GUARDED_BY(mu) = nullptr;

  // Pipelined durability: (lsn, last raft index of that save), in order.
  std::deque<std::pair<uint64_t, uint64_t>> pending_ WAL_GUARDED_BY(mu);
  uint64_t durable_index_ WAL_GUARDED_BY(mu) = 0;
  DurableCallback on_durable_ WAL_GUARDED_BY(mu);
  uint64_t reported_index_ WAL_GUARDED_BY(mu) = 0;  // last value handed to on_durable_

  // Tickets not yet durable wait in tickets_ with the LSN that covers them,
  // in order. on_ticket_ hears of (reported, durable] as durable, and of
  // (reported, issued] with the stop error once stopped.
  std::deque<TicketLsn> tickets_ WAL_GUARDED_BY(mu);
  uint64_t issued_ticket_ WAL_GUARDED_BY(mu) = 0;
  uint64_t durable_ticket_ WAL_GUARDED_BY(mu) = 0;
  uint64_t reported_ticket_ WAL_GUARDED_BY(mu) = 0;
  TicketCallback on_ticket_ WAL_GUARDED_BY(mu);

  // The syncer thread makes requested_lsn_ durable and reports.
  uint64_t requested_lsn_ WAL_GUARDED_BY(mu) = 0;
  std::thread syncer_;  // started and joined under mu
  bool syncer_stop_ WAL_GUARDED_BY(mu) = false;
  std::condition_variable syncer_cv_;
};

}  // namespace wal::internal

#endif  // WAL_SRC_GROUP_COMMIT_H_
