#pragma once
// PostgreSQL array literals for text-mode parameters ("{1,2,3}", {"a","b\"c"}), so that one
// statement can carry many values: WHERE id = ANY($1::bigint[]), or INSERT ... SELECT FROM
// unnest($1::text[], $2::text[]).

#include <cstdint>
#include <string>
#include <vector>

namespace periscope::pg {

// "{1,2,3}".
std::string ArrayLiteral(const std::vector<int64_t>& values);
// Every element double-quoted with '"' and '\' escaped, so that any string (including "NULL",
// "", commas and braces) arrives as itself.
std::string ArrayLiteral(const std::vector<std::string>& values);

}  // namespace periscope::pg
