#include "internal/gateway/http/http_message.h"

#include <atomic>

#include "absl/strings/str_split.h"

namespace periscope::gateway {

const std::string* HttpRequest::QueryParam(absl::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::vector<std::string> HttpRequest::QueryParams(absl::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.push_back(v);
  }
  return out;
}

const std::string* HttpRequest::Header(absl::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? nullptr : &it->second;
}

struct Responder::State {
  explicit State(SendFn s) : send(std::move(s)) {}
  ~State() {
    if (!sent.exchange(true)) {
      send(HttpResponse{500,
                        "application/json",
                        R"({"errcode":"M_UNKNOWN","error":"The request was not answered"})",
                        {}});
    }
  }
  SendFn send;
  std::atomic<bool> sent{false};
};

Responder::Responder(SendFn send) : state_(std::make_shared<State>(std::move(send))) {}

void Responder::operator()(HttpResponse response) const {
  if (state_->sent.exchange(true)) return;  // a second answer is dropped
  state_->send(std::move(response));
}

bool Responder::done() const { return state_->sent.load(); }

bool PercentDecode(absl::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '%') {
      out->push_back(c);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    auto hex = [](char h) -> int {
      if (h >= '0' && h <= '9') return h - '0';
      if (h >= 'a' && h <= 'f') return h - 'a' + 10;
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      return -1;
    };
    int hi = hex(in[i + 1]);
    int lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    std::string k(kv.first), v(kv.second);
    std::replace(k.begin(), k.end(), '+', ' ');
    std::replace(v.begin(), v.end(), '+', ' ');
    std::string dk, dv;
    if (!PercentDecode(k, &dk) || !PercentDecode(v, &dv)) continue;  // drop malformed pairs
    out.emplace_back(std::move(dk), std::move(dv));
  }
  return out;
}

}  // namespace periscope::gateway
