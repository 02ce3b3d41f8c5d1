#include "tools/stream_decoder.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "tools/text.h"

extern char** environ;

namespace walctl {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> SplitOnSpaces(const std::string& s) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

std::string SecondsText(int ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s", ms / 1000.0);
  return buf;
}

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

DecoderAnswer ParseDecoderAnswer(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t bar; (bar = line.find('|', start)) != std::string_view::npos; start = bar + 1)
    parts.push_back(line.substr(start, bar - start));
  parts.push_back(line.substr(start));
  if (parts.size() == 1)
    return {"decoder output format is not right, print output anyway", std::string(line)};
  if (parts.size() == 2) return {std::string(parts[0]), std::string(parts[1])};
  DecoderAnswer a{std::string(parts[0]) + "(*WARNING: data might contain deliminator used by etcd-dump-logs)",
                  ""};
  for (size_t i = 1; i < parts.size(); ++i) a.data += parts[i];
  return a;
}

StreamDecoder::StreamDecoder(std::string command, double timeout_seconds)
    : command_(std::move(command)), timeout_ms_(static_cast<int>(timeout_seconds * 1000)) {}

wal::Status StreamDecoder::Failure(const std::string& what) const {
  return wal::Status(wal::StatusCode::kInvalidArgument, "stream decoder " + what + ": " + command_);
}

wal::Result<std::unique_ptr<StreamDecoder>> StreamDecoder::Start(const std::string& command,
                                                                 double timeout_seconds) {
  std::unique_ptr<StreamDecoder> d(new StreamDecoder(command, timeout_seconds));
  const std::vector<std::string> words = SplitOnSpaces(command);
  if (words.empty()) return d->Failure("is an empty command");
  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return d->Failure(std::string("pipe: ") + std::strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return d->Failure(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::vector<char*> argv;
  for (const std::string& w : words) argv.push_back(const_cast<char*>(w.c_str()));
  argv.push_back(nullptr);
  const int rc = posix_spawnp(&d->pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  d->in_ = in[1];
  d->out_ = out[0];
  if (rc != 0) {
    d->pid_ = -1;
    return d->Failure(std::string("cannot be started (") + std::strerror(rc) + ")");
  }
  fcntl(d->in_, F_SETFL, fcntl(d->in_, F_GETFL) | O_NONBLOCK);
  fcntl(d->out_, F_SETFL, fcntl(d->out_, F_GETFL) | O_NONBLOCK);
  // A decoder that stops reading makes write() fail with EPIPE instead of
  // killing walctl.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &d->old_sigpipe_);
  return d;
}

StreamDecoder::~StreamDecoder() {
  CloseInput();
  if (out_ >= 0) close(out_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  sigaction(SIGPIPE, &old_sigpipe_, nullptr);
}

void StreamDecoder::CloseInput() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

bool StreamDecoder::Reap(int wait_ms, int* status) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  pid_t r;
  while ((r = waitpid(pid_, status, WNOHANG)) == 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (r == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, status, 0);
  }
  pid_ = -1;
  return r != 0;
}

std::string StreamDecoder::StatusText(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "exited";
}

std::string StreamDecoder::ExitText() {
  if (pid_ <= 0) return "exited";
  int status = 0;
  // It closed its stdout; give it a moment to exit.
  if (!Reap(std::min(timeout_ms_, 1000), &status)) return "closed its stdout";
  return StatusText(status);
}

wal::Result<std::string> StreamDecoder::Decode(std::string_view data, uint64_t index) {
  const std::string entry = "entry index " + std::to_string(index);
  std::string pending = Hex(data) + "\n";
  size_t written = 0;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
  size_t scanned = 0;
  while (true) {
    const size_t nl = buffered_.find('\n', scanned);
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      if (written < pending.size()) {
        return Failure("answered " + entry + " before reading all of it (one output line per input line)");
      }
      return line;
    }
    scanned = buffered_.size();
    if (buffered_.size() > kMaxLine) {
      return Failure("printed a line over " + std::to_string(kMaxLine) + " bytes for " + entry);
    }
    pollfd fds[2] = {{out_, POLLIN, 0}, {in_, POLLOUT, 0}};
    const nfds_t n = written < pending.size() && in_ >= 0 ? 2 : 1;
    const int left = MillisLeft(deadline);
    const int p = left == 0 ? 0 : poll(fds, n, left);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) return Failure(std::string("poll: ") + std::strerror(errno));
    if (p == 0) {
      return Failure("gave no answer line for " + entry + " within " + SecondsText(timeout_ms_) +
                     " (it must print and flush one line per input line)");
    }
    if (n == 2 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t w = write(in_, pending.data() + written, pending.size() - written);
      if (w > 0) {
        written += static_cast<size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        // It stopped reading (EPIPE): it may still answer or exit.
        CloseInput();
      }
    }
    if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      char buf[65536];
      const ssize_t r = read(out_, buf, sizeof(buf));
      if (r > 0) {
        buffered_.append(buf, static_cast<size_t>(r));
      } else if (r == 0) {
        return Failure(ExitText() + " without answering " + entry);
      } else if (errno != EAGAIN && errno != EINTR) {
        return Failure(std::string("read: ") + std::strerror(errno));
      }
    }
  }
}

wal::Status StreamDecoder::Finish() {
  CloseInput();
  if (pid_ <= 0) return wal::Status();
  int status = 0;
  if (!Reap(timeout_ms_, &status))
    return Failure("did not exit within " + SecondsText(timeout_ms_) + " of the end of its input");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return wal::Status();
  return Failure(StatusText(status));
}

}  // namespace walctl
