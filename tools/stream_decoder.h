// walctl dump --stream-decoder: etcd-dump-logs' -stream-decoder contract.
// The command (split on spaces, run without a shell, as etcd-dump-logs does)
// reads one line per entry on its stdin, the entry's data in lower-case
// hex, and answers each with one line on its stdout, "<status>|<decoded>".
// Its stderr is walctl's. Every wait is bounded: an answer must come within
// the timeout, a line may be at most kMaxLine bytes, and the decoder must
// exit (with status 0) within the timeout once its stdin is closed.
#ifndef WAL_TOOLS_STREAM_DECODER_H_
#define WAL_TOOLS_STREAM_DECODER_H_

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wal/status.h"

namespace walctl {

// A decoder's answer as etcd-dump-logs splits it on '|': one part is data
// with status "decoder output format is not right, print output anyway";
// more than two parts keep the first as status (with a warning appended) and
// join the rest.
struct DecoderAnswer {
  std::string status;
  std::string data;
};
DecoderAnswer ParseDecoderAnswer(std::string_view line);

class StreamDecoder {
 public:
  static constexpr size_t kMaxLine = 64 << 20;

  // Errors (all kInvalidArgument, exit code 1): an empty command, a program
  // that cannot be started.
  static wal::Result<std::unique_ptr<StreamDecoder>> Start(const std::string& command,
                                                           double timeout_seconds);
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;
  ~StreamDecoder();  // kills the decoder if it still runs

  // Sends `data` (as a hex line) and returns the answer line, without its
  // newline. Errors: the decoder exited or closed its stdout, gave no answer
  // within the timeout, or answered with a line over kMaxLine.
  wal::Result<std::string> Decode(std::string_view data, uint64_t index);

  // Closes the decoder's stdin and waits for it to exit; an error unless it
  // exits with status 0 within the timeout.
  wal::Status Finish();

 private:
  StreamDecoder(std::string command, double timeout_seconds);
  wal::Status Failure(const std::string& what) const;
  // Waits up to `wait_ms` for the decoder to exit, then kills it; false if
  // it had to be killed. `*status` is waitpid's.
  bool Reap(int wait_ms, int* status);
  static std::string StatusText(int status);  // "exited with status N", ...
  // How the decoder ended, once it closed its stdout ("exited with status
  // N", ...); reaps (or kills) it.
  std::string ExitText();
  void CloseInput();

  std::string command_;
  int timeout_ms_;
  pid_t pid_ = -1;
  int in_ = -1;           // the decoder's stdin
  int out_ = -1;          // the decoder's stdout
  std::string buffered_;  // read but not yet answered
  struct sigaction old_sigpipe_ {};
};

}  // namespace walctl

#endif  // WAL_TOOLS_STREAM_DECODER_H_
