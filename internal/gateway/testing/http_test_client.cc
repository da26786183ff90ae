#include "internal/gateway/testing/http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace periscope::gateway::testing {

int ConnectLoopback(int port, const std::string& from_ip) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (!from_ip.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (inet_pton(AF_INET, from_ip.c_str(), &local.sin_addr) != 1 ||
        bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      close(fd);
      return -1;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TestResponse SendRaw(int port, const std::string& raw_request, const std::string& from_ip) {
  TestResponse out;
  int fd = ConnectLoopback(port, from_ip);
  if (fd < 0) return out;
  size_t sent = 0;
  while (sent < raw_request.size()) {
    ssize_t n = send(fd, raw_request.data() + sent, raw_request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may refuse early (e.g. 413) and close
    sent += static_cast<size_t>(n);
  }
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t header_end = data.find("\r\n\r\n");
  if (header_end == std::string::npos) return out;
  std::vector<std::string> lines = absl::StrSplit(data.substr(0, header_end), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() >= 2) (void)absl::SimpleAtoi(status_line[1], &out.status);
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    out.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  out.body = data.substr(header_end + 4);
  return out;
}

TestResponse Call(int port, const std::string& method, const std::string& target,
                  const std::string& body, const std::string& access_token,
                  const std::string& from_ip) {
  std::string req = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: localhost\r\n",
                                 "Connection: close\r\nContent-Type: application/json\r\n");
  if (!access_token.empty()) absl::StrAppend(&req, "Authorization: Bearer ", access_token, "\r\n");
  absl::StrAppend(&req, "Content-Length: ", body.size(), "\r\n\r\n", body);
  return SendRaw(port, req, from_ip);
}

}  // namespace periscope::gateway::testing
