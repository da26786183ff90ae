// State resolution at scale (issue 13): a fork of a room whose state holds 10,000 members, with
// 100 conflicted state events (two chains of power-level changes and 45 keys set differently on
// each branch) over an auth chain of about 10,000 events. Reports the time of one resolution and
// the growth of the process's peak resident memory across the runs.
// Run: build/bench/state_resolution_bench (numbers go in bench/README.md; never a pass/fail test).

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/state_resolution.h"

namespace periscope::matrix {
namespace {

constexpr char kRoom[] = "!bench:example.org";
constexpr char kAlice[] = "@alice:example.org";

class BenchEvents : public ResolvableEvents {
 public:
  const ResolvableEvent* Find(absl::string_view id) override {
    auto it = events_.find(std::string(id));
    return it == events_.end() ? nullptr : &it->second;
  }
  std::string Add(const std::string& id, const std::string& sender, const std::string& type,
                  const std::string& state_key, Json content, std::vector<std::string> auth,
                  int64_t ts) {
    events_[id] = {Json{{"type", type},
                        {"sender", sender},
                        {"room_id", kRoom},
                        {"state_key", state_key},
                        {"content", std::move(content)},
                        {"auth_events", std::move(auth)},
                        {"prev_events", Json::array()},
                        {"origin_server_ts", ts}},
                   false};
    return id;
  }

 private:
  std::map<std::string, ResolvableEvent> events_;
};

struct Fork {
  BenchEvents events;
  std::vector<StateMap> states;
};

// `members` joined users, then two branches of `chain` power-level changes each followed by
// `keys` state events on the same keys.
Fork BuildFork(int members, int chain, int keys) {
  Fork fork;
  int64_t ts = 0;
  StateMap base;
  auto put = [&](StateMap& state, const std::string& id, const std::string& type,
                 const std::string& key) {
    state[{type, key}] = id;
  };
  std::string create =
      fork.events.Add("$create", kAlice, "m.room.create", "", {{"creator", kAlice}}, {}, ++ts);
  std::string alice = fork.events.Add("$alice", kAlice, "m.room.member", kAlice,
                                      {{"membership", "join"}}, {create}, ++ts);
  std::string pl0 = fork.events.Add("$pl0", kAlice, "m.room.power_levels", "",
                                    {{"users", {{kAlice, 100}}}}, {create, alice}, ++ts);
  std::string jr = fork.events.Add("$jr", kAlice, "m.room.join_rules", "",
                                   {{"join_rule", "public"}}, {create, alice, pl0}, ++ts);
  put(base, create, "m.room.create", "");
  put(base, alice, "m.room.member", kAlice);
  put(base, pl0, "m.room.power_levels", "");
  put(base, jr, "m.room.join_rules", "");
  for (int i = 0; i < members; ++i) {
    std::string user = absl::StrCat("@u", i, ":example.org");
    put(base,
        fork.events.Add(absl::StrCat("$m", i), user, "m.room.member", user,
                        {{"membership", "join"}}, {create, pl0, jr}, ++ts),
        "m.room.member", user);
  }
  for (const char* branch : {"a", "b"}) {
    StateMap state = base;
    std::string pl = pl0;
    for (int i = 0; i < chain; ++i) {
      Json users = {{kAlice, 100}, {absl::StrCat("@u", i, ":example.org"), i + 1}};
      pl = fork.events.Add(absl::StrCat("$pl_", branch, i), kAlice, "m.room.power_levels", "",
                           {{"users", users}}, {create, alice, pl}, ++ts);
    }
    put(state, pl, "m.room.power_levels", "");
    for (int k = 0; k < keys; ++k) {
      put(state,
          fork.events.Add(absl::StrCat("$s_", branch, k), kAlice, "org.example.setting",
                          absl::StrCat("k", k), {{"branch", branch}}, {create, alice, pl}, ++ts),
          "org.example.setting", absl::StrCat("k", k));
    }
    fork.states.push_back(std::move(state));
  }
  return fork;
}

int64_t PeakRssKiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// 10,000 members; 2 x (5 power levels + 45 settings) = 100 conflicted events.
void BM_ResolveForkOf100OverA10kAuthChain(benchmark::State& state) {
  Fork fork = BuildFork(10'000, 5, 45);
  const int64_t before = PeakRssKiB();
  size_t resolved_size = 0;
  for (auto _ : state) {
    absl::StatusOr<StateMap> resolved = ResolveState(kRoom, 10, fork.states, fork.events);
    if (!resolved.ok()) state.SkipWithError(std::string(resolved.status().message()).c_str());
    resolved_size = resolved.ok() ? resolved->size() : 0;
    benchmark::DoNotOptimize(resolved);
  }
  state.counters["state_entries"] = static_cast<double>(resolved_size);
  // Growth past what building the room (10,000 parsed events) already took, and that peak.
  state.counters["peak_rss_growth_KiB"] = static_cast<double>(PeakRssKiB() - before);
  state.counters["peak_rss_MiB"] = static_cast<double>(PeakRssKiB()) / 1024;
}
BENCHMARK(BM_ResolveForkOf100OverA10kAuthChain)->Unit(benchmark::kMillisecond);

// The same room state on both sides: nothing is conflicted, so only the maps are compared.
void BM_Resolve10kStatesWithoutConflict(benchmark::State& state) {
  Fork fork = BuildFork(10'000, 0, 0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ResolveState(kRoom, 10, fork.states, fork.events));
  }
}
BENCHMARK(BM_Resolve10kStatesWithoutConflict)->Unit(benchmark::kMillisecond);

// A small room's fork with the same 100 conflicted events: what the 10,000 members cost.
void BM_ResolveForkOf100InASmallRoom(benchmark::State& state) {
  Fork fork = BuildFork(10, 5, 45);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ResolveState(kRoom, 10, fork.states, fork.events));
  }
}
BENCHMARK(BM_ResolveForkOf100InASmallRoom)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace periscope::matrix

BENCHMARK_MAIN();
