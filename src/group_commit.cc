#include "src/group_commit.h"

#include <algorithm>
#include <iterator>

namespace wal::internal {

Status GroupCommit::Stop(Status s) {
  if (stopped_.ok()) stopped_ = s;
  for (auto& w : waiters_) w->cv.notify_one();  // every waiter returns the error
  syncer_cv_.notify_all();                      // outstanding tickets are reported failed
  return s;
}

Status GroupCommit::StoppedError() const {
  return stopped_.WithContext("wal: stopped after an earlier write or sync failure");
}

void GroupCommit::MarkDurable(uint64_t lsn) {
  if (lsn <= durable_lsn_) return;
  durable_lsn_ = lsn;
  while (!pending_.empty() && pending_.front().first <= lsn) {
    durable_index_ = pending_.front().second;
    pending_.pop_front();
  }
  AdvanceTickets();
  if (MustReportIndex()) syncer_cv_.notify_all();
}

// Moves durable_ticket_ past every ticket whose records are durable.
void GroupCommit::AdvanceTickets() {
  while (!tickets_.empty() && tickets_.front().lsn <= durable_lsn_) {
    durable_ticket_ = tickets_.front().ticket;
    tickets_.pop_front();
  }
  if (MustReportTickets()) syncer_cv_.notify_all();
}

uint64_t GroupCommit::IssueTicket() {
  const uint64_t t = ++issued_ticket_;
  tickets_.push_back(TicketLsn{t, appended_lsn_});
  AdvanceTickets();  // nothing new to sync: durable at once
  return t;
}

uint64_t GroupCommit::LsnOfTicket(uint64_t ticket) const {
  if (ticket <= durable_ticket_ || tickets_.empty()) return 0;
  // Outstanding tickets are consecutive: tickets_[k] is front + k.
  return tickets_[static_cast<size_t>(ticket - tickets_.front().ticket)].lsn;
}

// Tickets up to this one are to be reported: the durable ones, or, once
// stopped, every one issued (those not durable with the error).
uint64_t GroupCommit::ReportableTicket() const { return stopped_.ok() ? durable_ticket_ : issued_ticket_; }
bool GroupCommit::MustReportTickets() const { return on_ticket_ && reported_ticket_ < ReportableTicket(); }
bool GroupCommit::MustReportIndex() const { return on_durable_ && durable_index_ != reported_index_; }
bool GroupCommit::MustSync() const { return requested_lsn_ > durable_lsn_ && stopped_.ok(); }

// Hands the pending ticket reports to on_ticket_, without mu, in order.
void GroupCommit::ReportTickets() {
  auto cb = on_ticket_;
  const uint64_t from = reported_ticket_ + 1;
  const uint64_t ok_to = durable_ticket_;
  const uint64_t to = ReportableTicket();
  const Status err = stopped_.ok() ? Status::Ok() : StoppedError();
  reported_ticket_ = to;
  mu.Unlock();
  for (uint64_t t = from; t <= to; ++t) cb(t, t <= ok_to ? Status::Ok() : err);
  mu.Lock();
}

// Whoever made it durable (the syncer, a Save, WaitDurable, a cut), the
// callback runs on the syncer thread, without mu.
void GroupCommit::ReportIndex() {
  auto cb = on_durable_;
  const uint64_t idx = durable_index_;
  reported_index_ = idx;
  mu.Unlock();
  cb(idx);
  mu.Lock();
}

Status GroupCommit::SyncTo(uint64_t lsn) {
  lsn = std::min(lsn, appended_lsn_);  // a ticket from the future cannot be waited for
  if (!stopped_.ok()) return StoppedError();
  if (durable_lsn_ >= lsn) return Status::Ok();
  auto me = std::make_shared<Waiter>();
  me->lsn = lsn;
  waiters_.push_back(me);
  Status s = WaitOrLead(*me);
  auto it = std::find(waiters_.begin(), waiters_.end(), me);
  if (it != waiters_.end()) waiters_.erase(it);
  if (gatherer_ == me.get()) gatherer_ = nullptr;
  if (!sync_running_ && gatherer_ == nullptr) WakeNextLeader();
  return s;
}

Status GroupCommit::WaitOrLead(Waiter& me) {
  while (true) {
    if (!stopped_.ok()) return StoppedError();
    if (durable_lsn_ >= me.lsn) return Status::Ok();
    if (sync_running_) {
      mu.Wait(me.cv);
    } else if (unsafe_no_fsync_ || waiters_.size() >= gather_target_ ||
               std::chrono::steady_clock::now() >= gather_deadline_) {
      WAL_RETURN_IF_ERROR(RunRound());
    } else if (gatherer_ == nullptr || gatherer_ == &me) {
      gatherer_ = &me;
      mu.WaitUntil(me.cv, gather_deadline_);
    } else {
      mu.Wait(me.cv);
    }
  }
}

// The first waiter not yet durable, if any, leads or gathers next.
void GroupCommit::WakeNextLeader() {
  if (!waiters_.empty()) waiters_.front()->cv.notify_one();
}

void GroupCommit::WaitForRound() {
  while (sync_running_) mu.Wait(sync_cv_);
}

// One round: PrepareRound under mu, SyncRound without it; then everything
// appended before it is durable.
Status GroupCommit::RunRound() {
  Status s = PrepareRound();
  if (!s.ok()) return Stop(s);
  const uint64_t target = appended_lsn_;
  gatherer_ = nullptr;
  sync_running_ = true;
  RoundStats rs;
  if (unsafe_no_fsync_) {
    s = SyncRound(&rs);  // renames only; nothing to wait for
  } else {
    mu.Unlock();
    s = SyncRound(&rs);
    mu.Lock();
  }
  sync_running_ = false;
  FinishRound(rs, s.ok());
  sync_cv_.notify_all();
  if (!s.ok()) return Stop(s);
  MarkDurable(target);
  // Wake whoever this round covered, and one other caller to lead or
  // gather the next round, which waits for as many callers as are here
  // now; notified without mu.
  gather_target_ = waiters_.size();
  gather_deadline_ =
      std::chrono::steady_clock::now() + std::chrono::microseconds(std::min<uint64_t>(rs.sync_micros, 2000));
  std::vector<std::shared_ptr<Waiter>> wake;
  const uint64_t durable = durable_lsn_;
  auto covered =
      std::stable_partition(waiters_.begin(), waiters_.end(),
                            [durable](const std::shared_ptr<Waiter>& w) { return w->lsn <= durable; });
  wake.assign(std::make_move_iterator(waiters_.begin()), std::make_move_iterator(covered));
  waiters_.erase(waiters_.begin(), covered);
  if (!waiters_.empty()) wake.push_back(waiters_.front());
  mu.Unlock();
  for (auto& w : wake) w->cv.notify_one();
  mu.Lock();
  return Status::Ok();
}

void GroupCommit::RequestSync() {
  if (appended_lsn_ > durable_lsn_) {
    requested_lsn_ = std::max(requested_lsn_, appended_lsn_);
    syncer_cv_.notify_all();
  }
  if (appended_lsn_ > durable_lsn_ || on_ticket_) StartSyncer();
}

void GroupCommit::SetTicketCallback(TicketCallback cb, bool appending) {
  on_ticket_ = std::move(cb);
  reported_ticket_ = ReportableTicket();
  if (on_ticket_ && appending) StartSyncer();
}

void GroupCommit::SetDurableCallback(DurableCallback cb, bool appending) {
  on_durable_ = std::move(cb);
  reported_index_ = durable_index_;
  if (on_durable_ && appending) StartSyncer();
}

void GroupCommit::StartSyncer() {
  if (!syncer_.joinable()) syncer_ = std::thread([this] { RunSyncer(); });
}

// The SaveAsync syncer: makes requested_lsn_ durable, then reports.
void GroupCommit::RunSyncer() {
  MutexLock l(&mu);
  while (true) {
    while (!syncer_stop_ && !MustSync() && !MustReportIndex() && !MustReportTickets()) mu.Wait(syncer_cv_);
    if (MustSync()) SyncTo(requested_lsn_).IgnoreError();  // a failure stops the WAL; callers see it
    if (MustReportTickets()) {
      ReportTickets();
      continue;
    }
    if (MustReportIndex()) {
      ReportIndex();
      continue;
    }
    if (syncer_stop_ && !MustSync() && !MustReportTickets()) return;
  }
}

void GroupCommit::StopSyncer() {
  if (!syncer_.joinable()) return;
  syncer_stop_ = true;
  syncer_cv_.notify_all();
  mu.Unlock();
  syncer_.join();
  mu.Lock();
}

}  // namespace wal::internal
