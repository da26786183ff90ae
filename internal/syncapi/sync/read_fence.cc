#include "internal/syncapi/sync/read_fence.h"

#include "pkg/logging/logging.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace periscope::syncapi {

struct ReadFence::Metrics {
  explicit Metrics(prometheus::Registry& r)
      : family(prometheus::BuildCounter()
                   .Name("periscope_syncapi_read_catchups_total")
                   .Help("Client reads of a room that first waited for syncapi to apply the "
                         "room's committed writes, by outcome (caught_up, timed_out, "
                         "unavailable: answered with what syncapi had).")
                   .Register(r)),
        caught_up(family.Add({{"outcome", "caught_up"}})),
        timed_out(family.Add({{"outcome", "timed_out"}})),
        unavailable(family.Add({{"outcome", "unavailable"}})) {}
  prometheus::Family<prometheus::Counter>& family;
  prometheus::Counter& caught_up;
  prometheus::Counter& timed_out;
  prometheus::Counter& unavailable;
};

ReadFence::ReadFence(RoomSequenceSource* source, AppliedSequences& applied, absl::Duration bound,
                     prometheus::Registry* registry)
    : source_(source), applied_(applied), bound_(bound) {
  if (registry != nullptr) metrics_ = std::make_unique<Metrics>(*registry);
}

ReadFence::~ReadFence() = default;

void ReadFence::CatchUp(const std::string& room_id) {
  if (source_ == nullptr) return;
  absl::StatusOr<int64_t> latest = source_->LatestSequence(room_id);
  if (!latest.ok()) {
    logging::Warn("syncapi.read_catchup_unavailable",
                  {{"room_id", room_id}, {"error", latest.status()}});
    if (metrics_) metrics_->unavailable.Increment();
    return;
  }
  if (applied_.WaitFor(room_id, *latest, bound_)) {
    if (metrics_) metrics_->caught_up.Increment();
    return;
  }
  logging::Warn("syncapi.read_catchup_timed_out", {{"room_id", room_id}, {"sequence", *latest}});
  if (metrics_) metrics_->timed_out.Increment();
}

}  // namespace periscope::syncapi
