#pragma once
// A minimal blocking HTTP/1.1 client for gateway tests (one request per connection).

#include <map>
#include <string>

namespace periscope::gateway::testing {

struct TestResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A blocking TCP connection to 127.0.0.1:port with a 10 s receive timeout; -1 if refused. With
// `from_ip` (another loopback address, e.g. "127.0.0.2") the client appears to come from there.
int ConnectLoopback(int port, const std::string& from_ip = "");

// Sends `raw_request` verbatim and reads until the server closes.
TestResponse SendRaw(int port, const std::string& raw_request, const std::string& from_ip = "");

// Builds a request with Connection: close and the body's Content-Length.
TestResponse Call(int port, const std::string& method, const std::string& target,
                  const std::string& body = "", const std::string& access_token = "",
                  const std::string& from_ip = "");

}  // namespace periscope::gateway::testing
