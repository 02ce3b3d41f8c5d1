// walctl dump's view of what ReadAll returned: which entries it shows
// (--entry-type, --from, --to), how (--decode etcd|none), with what an
// external --stream-decoder says of each, as text or JSON.
#ifndef WAL_TOOLS_DUMP_VIEW_H_
#define WAL_TOOLS_DUMP_VIEW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/common.h"
#include "tools/etcd_decode.h"
#include "tools/stream_decoder.h"
#include "tools/text.h"
#include "wal/status.h"
#include "wal/types.h"

namespace walctl {

struct DumpView {
  // --decode etcd (default): etcd's payloads decoded, IDs in hex, entry types
  // by name in JSON. --decode none: the raw view, as walctl printed it
  // before it knew etcd's messages.
  bool decode = true;
  std::optional<etcd::EntryTypeFilter> entry_type;
  std::optional<uint64_t> from;  // inclusive
  std::optional<uint64_t> to;    // inclusive
  std::string stream_decoder;    // empty: none
  double stream_decoder_timeout = 10;
  bool filtered() const { return entry_type.has_value() || from.has_value() || to.has_value(); }
};

struct ShownEntry {
  const wal::Entry* entry = nullptr;
  etcd::Decoded decoded;
  std::optional<DecoderAnswer> answer;  // with --stream-decoder
};

// The entries to show, decoded, with the stream decoder's answers (it runs
// to completion here, before anything is printed, so a failing decoder
// leaves no half-written output).
wal::Result<std::vector<ShownEntry>> SelectEntries(const wal::ReadAllResult& r, const DumpView& v);

void WriteDumpText(const wal::ReadAllResult& r, const std::vector<ShownEntry>& shown, const DumpView& v,
                   DataFormat df, Output* out);
void WriteDumpJson(const wal::ReadAllResult& r, const std::vector<ShownEntry>& shown, const DumpView& v,
                   Output* out);

}  // namespace walctl

#endif  // WAL_TOOLS_DUMP_VIEW_H_
