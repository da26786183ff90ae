#include "pkg/matrix/canonical_json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

absl::Status NotJson(size_t pos, absl::string_view what) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kNotJson,
                     absl::StrCat("Invalid JSON at byte ", pos, ": ", what));
}

absl::Status BadJson(size_t pos, absl::string_view what) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                     absl::StrCat("Disallowed JSON at byte ", pos, ": ", what));
}

// Length of the UTF-8 sequence starting at s[i] if it is well formed (no overlongs, no
// surrogates, nothing above U+10FFFF), else 0.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = byte(i);
  if (c < 0x80) return 1;
  auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    uint8_t c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    uint8_t c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A recursive-descent parser; recursion depth is bounded by limits.max_depth.
class Parser {
 public:
  Parser(absl::string_view text, const JsonLimits& limits) : s_(text), limits_(limits) {}

  absl::StatusOr<Json> ParseDocument() {
    SkipWhitespace();
    Json value;
    PERISCOPE_RETURN_IF_ERROR(ParseValue(value, 0));
    SkipWhitespace();
    if (pos_ != s_.size()) return NotJson(pos_, "unexpected data after the value");
    return value;
  }

 private:
  void SkipWhitespace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Consume(absl::string_view literal) {
    if (s_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  absl::Status ParseValue(Json& out, int depth) {
    if (pos_ >= s_.size()) return NotJson(pos_, "unexpected end of input");
    char c = s_[pos_];
    switch (c) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"': {
        std::string str;
        PERISCOPE_RETURN_IF_ERROR(ParseString(str));
        out = std::move(str);
        return absl::OkStatus();
      }
      case 't':
        if (Consume("true")) return (out = true, absl::OkStatus());
        break;
      case 'f':
        if (Consume("false")) return (out = false, absl::OkStatus());
        break;
      case 'n':
        if (Consume("null")) return (out = nullptr, absl::OkStatus());
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
    }
    return NotJson(pos_, "expected a value");
  }

  absl::Status CheckDepth(int depth) {
    if (depth > limits_.max_depth) {
      return BadJson(pos_, absl::StrCat("nested deeper than ", limits_.max_depth, " levels"));
    }
    return absl::OkStatus();
  }

  absl::Status ParseObject(Json& out, int depth) {
    PERISCOPE_RETURN_IF_ERROR(CheckDepth(depth));
    ++pos_;  // '{'
    out = Json::object();
    SkipWhitespace();
    if (Consume("}")) return absl::OkStatus();
    while (true) {
      SkipWhitespace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return NotJson(pos_, "expected an object key");
      size_t key_pos = pos_;
      std::string key;
      PERISCOPE_RETURN_IF_ERROR(ParseString(key));
      SkipWhitespace();
      if (!Consume(":")) return NotJson(pos_, "expected ':'");
      SkipWhitespace();
      Json value;
      PERISCOPE_RETURN_IF_ERROR(ParseValue(value, depth));
      if (!out.emplace(std::move(key), std::move(value)).second) {
        return BadJson(key_pos, "duplicate object key");
      }
      SkipWhitespace();
      if (Consume("}")) return absl::OkStatus();
      if (!Consume(",")) return NotJson(pos_, "expected ',' or '}'");
    }
  }

  absl::Status ParseArray(Json& out, int depth) {
    PERISCOPE_RETURN_IF_ERROR(CheckDepth(depth));
    ++pos_;  // '['
    out = Json::array();
    SkipWhitespace();
    if (Consume("]")) return absl::OkStatus();
    while (true) {
      SkipWhitespace();
      Json value;
      PERISCOPE_RETURN_IF_ERROR(ParseValue(value, depth));
      out.push_back(std::move(value));
      SkipWhitespace();
      if (Consume("]")) return absl::OkStatus();
      if (!Consume(",")) return NotJson(pos_, "expected ',' or ']'");
    }
  }

  absl::StatusOr<uint32_t> ParseHex4() {
    if (pos_ + 4 > s_.size()) return NotJson(pos_, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = s_[pos_ + i];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= static_cast<uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        v |= static_cast<uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        v |= static_cast<uint32_t>(h - 'A' + 10);
      } else {
        return NotJson(pos_ + i, "bad hex digit in \\u escape");
      }
    }
    pos_ += 4;
    return v;
  }

  absl::Status ParseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return NotJson(pos_, "unterminated string");
      uint8_t c = static_cast<uint8_t>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return absl::OkStatus();
      }
      if (c < 0x20) return NotJson(pos_, "unescaped control character in a string");
      if (c == '\\') {
        PERISCOPE_RETURN_IF_ERROR(ParseEscape(out));
        continue;
      }
      size_t n = Utf8SequenceLength(s_, pos_);
      if (n == 0) return BadJson(pos_, "invalid UTF-8");
      out.append(s_.data() + pos_, n);
      pos_ += n;
    }
  }

  absl::Status ParseEscape(std::string& out) {
    if (pos_ + 1 >= s_.size()) return NotJson(pos_, "truncated escape");
    char e = s_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"':
        out.push_back('"');
        return absl::OkStatus();
      case '\\':
        out.push_back('\\');
        return absl::OkStatus();
      case '/':
        out.push_back('/');
        return absl::OkStatus();
      case 'b':
        out.push_back('\b');
        return absl::OkStatus();
      case 'f':
        out.push_back('\f');
        return absl::OkStatus();
      case 'n':
        out.push_back('\n');
        return absl::OkStatus();
      case 'r':
        out.push_back('\r');
        return absl::OkStatus();
      case 't':
        out.push_back('\t');
        return absl::OkStatus();
      case 'u':
        break;
      default:
        return NotJson(pos_ - 1, "unknown escape");
    }
    size_t escape_pos = pos_ - 2;
    PERISCOPE_ASSIGN_OR_RETURN(uint32_t cp, ParseHex4());
    if (cp >= 0xDC00 && cp <= 0xDFFF) return BadJson(escape_pos, "lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (!Consume("\\u")) return BadJson(escape_pos, "lone high surrogate");
      PERISCOPE_ASSIGN_OR_RETURN(uint32_t low, ParseHex4());
      if (low < 0xDC00 || low > 0xDFFF) return BadJson(escape_pos, "lone high surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(out, cp);
    return absl::OkStatus();
  }

  // number = -? int frac? exp?; accepted only if its exact value is an integer in range.
  absl::Status ParseNumber(Json& out) {
    size_t start = pos_;
    bool negative = Consume("-");
    std::string digits;  // significant digits: integer part then fraction part
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
      digits = "0";
    } else if (pos_ < s_.size() && s_[pos_] >= '1' && s_[pos_] <= '9') {
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') digits.push_back(s_[pos_++]);
    } else {
      return NotJson(pos_, "bad number");
    }
    int64_t exponent = 0;  // value = digits * 10^exponent
    if (Consume(".")) {
      size_t before = digits.size();
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') digits.push_back(s_[pos_++]);
      if (digits.size() == before) return NotJson(pos_, "bad fraction");
      exponent -= static_cast<int64_t>(digits.size() - before);
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      bool exp_negative = false;
      if (Consume("-")) {
        exp_negative = true;
      } else {
        Consume("+");
      }
      int64_t e = 0;
      size_t exp_start = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (e < 100000) e = e * 10 + (s_[pos_] - '0');
        ++pos_;
      }
      if (pos_ == exp_start) return NotJson(pos_, "bad exponent");
      exponent += exp_negative ? -e : e;
    }
    // Normalise: strip leading zeros, then trailing zeros into the exponent.
    size_t first = digits.find_first_not_of('0');
    if (first == std::string::npos) {
      out = 0;  // 0, -0, 0.0, 0e5 ...
      return absl::OkStatus();
    }
    digits.erase(0, first);
    while (digits.size() > 1 && digits.back() == '0') {
      digits.pop_back();
      ++exponent;
    }
    if (exponent < 0)
      return BadJson(start, "floats are not allowed (the number is not an integer)");
    // Beyond 16 digits the value exceeds 2^53 - 1 (9007199254740991, 16 digits).
    if (static_cast<int64_t>(digits.size()) + exponent > 16) {
      return BadJson(start, "integer out of the range [-(2^53)+1, (2^53)-1]");
    }
    int64_t v = 0;
    for (char d : digits) v = v * 10 + (d - '0');
    for (int64_t i = 0; i < exponent; ++i) v *= 10;
    if (v > kMaxSafeInteger) {
      return BadJson(start, "integer out of the range [-(2^53)+1, (2^53)-1]");
    }
    out = negative ? -v : v;
    return absl::OkStatus();
  }

  absl::string_view s_;
  const JsonLimits& limits_;
  size_t pos_ = 0;
};

absl::Status AppendString(std::string& out, const std::string& s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(s, i);
      if (n == 0) return BadJson(i, "string is not valid UTF-8");
      out.append(s, i, n);
      i += n;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
  return absl::OkStatus();
}

absl::Status Encode(const Json& v, std::string& out) {
  switch (v.type()) {
    case Json::value_t::null:
      out += "null";
      return absl::OkStatus();
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return absl::OkStatus();
    case Json::value_t::number_integer: {
      int64_t i = v.get<int64_t>();
      if (i > kMaxSafeInteger || i < -kMaxSafeInteger)
        return BadJson(out.size(), "integer out of range");
      absl::StrAppend(&out, i);
      return absl::OkStatus();
    }
    case Json::value_t::number_unsigned: {
      uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(kMaxSafeInteger))
        return BadJson(out.size(), "integer out of range");
      absl::StrAppend(&out, u);
      return absl::OkStatus();
    }
    case Json::value_t::number_float:
      return BadJson(out.size(), "floats are not allowed");
    case Json::value_t::string:
      return AppendString(out, v.get_ref<const std::string&>());
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const Json& item : v) {
        if (!first) out.push_back(',');
        first = false;
        PERISCOPE_RETURN_IF_ERROR(Encode(item, out));
      }
      out.push_back(']');
      return absl::OkStatus();
    }
    case Json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.items()) {  // std::map: byte = code-point order
        if (!first) out.push_back(',');
        first = false;
        PERISCOPE_RETURN_IF_ERROR(AppendString(out, key));
        out.push_back(':');
        PERISCOPE_RETURN_IF_ERROR(Encode(item, out));
      }
      out.push_back('}');
      return absl::OkStatus();
    }
    default:
      return BadJson(out.size(), "unsupported JSON value");
  }
}

}  // namespace

absl::StatusOr<Json> ParseJson(absl::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kTooLarge,
                       absl::StrCat("JSON larger than ", limits.max_bytes, " bytes"));
  }
  return Parser(text, limits).ParseDocument();
}

absl::StatusOr<std::string> EncodeCanonicalJson(const Json& value) {
  std::string out;
  PERISCOPE_RETURN_IF_ERROR(Encode(value, out));
  return out;
}

}  // namespace periscope::matrix
