#include "diobench/runner/fleet.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include "diobench/child_process.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

bool is_port(const std::string& text, unsigned& port) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  port = static_cast<unsigned>(std::stoul(text));
  return port >= 1 && port <= 65535;
}

// A host name (RFC 1123 labels: letters, digits, '-', not at either end
// of a label) or a dotted IPv4 address, which is made of such labels too.
bool is_host_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  std::istringstream labels(name);
  std::string label;
  std::size_t count = 0;
  while (std::getline(labels, label, '.')) {
    ++count;
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    if (label.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != std::string::npos)
      return false;
  }
  return count > 0 && name.back() != '.';
}

// An IPv6 address as the C library reads it (inet_pton: no zone id, no
// brackets), written back in its one form (inet_ntop: "fd00:db::2" for
// "FD00:DB:0::0002"), so that a host has one name. An IPv4-mapped address
// (::ffff:10.0.0.2) is refused: that host is spelled as IPv4.
bool ipv6_address(const std::string& text, std::string& canonical) {
  in6_addr a{};
  char out[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET6, text.c_str(), &a) != 1 || IN6_IS_ADDR_V4MAPPED(&a) ||
      !::inet_ntop(AF_INET6, &a, out, sizeof out))
    return false;
  canonical = out;
  return true;
}

std::string read_text(const std::string& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

HostSpec parse_host_spec(const std::string& text) {
  HostSpec h;
  std::string address, port;  // the text split at its port's ':'
  bool port_given = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close != std::string::npos) address = text.substr(1, close - 1);
    port_given = close != std::string::npos && close + 1 < text.size();
    if (port_given && text[close + 1] == ':') port = text.substr(close + 2);
    if (close == std::string::npos || (port_given && text[close + 1] != ':') ||
        !ipv6_address(address, h.name)) {
      throw std::invalid_argument("invalid host '" + text +
                                  "' (expected [ADDR] or [ADDR]:PORT: an IPv6 address as "
                                  "inet_pton reads it, without a zone id; an IPv4 address as "
                                  "a.b.c.d, without brackets, not ::ffff:a.b.c.d)");
    }
  } else {
    const auto colon = text.find(':');
    h.name = text.substr(0, colon);
    port_given = colon != std::string::npos;
    if (port_given) port = text.substr(colon + 1);
    // Two ':' or more: an IPv6 address without its brackets (or junk).
    if (!is_host_name(h.name) || colon != text.rfind(':')) {
      throw std::invalid_argument(
          "invalid host '" + text +
          "' (expected HOST or HOST:PORT: a host name or IPv4 address; an IPv6 address in "
          "brackets: [ADDR] or [ADDR]:PORT)");
    }
  }
  if (port_given && !is_port(port, h.port)) {
    throw std::invalid_argument("invalid host '" + text + "' (its port '" + port +
                                "': a port from 1 to 65535)");
  }
  return h;
}

std::vector<HostSpec> parse_host_specs(const std::vector<std::string>& texts) {
  std::vector<HostSpec> hosts;
  std::set<std::string> seen;
  for (const std::string& t : texts) {
    HostSpec h = parse_host_spec(t);
    // By name: two servers of one host would share its scratch file.
    if (!seen.insert(h.name).second) {
      throw std::invalid_argument("invalid host '" + t + "': " + h.name + " is named twice");
    }
    hosts.push_back(std::move(h));
  }
  return hosts;
}

std::vector<std::string> HostShell::split_command(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty()) throw std::invalid_argument("invalid --ssh value '" + text + "' (empty)");
  return words;
}

bool HostShell::is_ssh() const { return fs::path(ssh.front()).filename() == "ssh"; }

void HostShell::share_connections(const std::string& dir) {
  ssh.insert(ssh.end(), {"-o", "ControlMaster=auto", "-o", "ControlPath=" + dir + "/%C", "-o",
                         "ControlPersist=60"});
}

void HostPaths::check() const {
  if (dir.empty() || dir.front() != '/') {
    throw std::invalid_argument("invalid host scratch directory '" + dir +
                                "' (an absolute path, the same on every host)");
  }
  if (run.empty() || run.front() == '.' ||
      run.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
          std::string::npos) {
    throw std::invalid_argument("invalid run name '" + run +
                                "' (letters, digits, '-', '_', '.'; not starting with '.')");
  }
}

std::string shell_quote(const std::string& word) {
  std::string q = "'";
  for (char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::vector<HostReply> on_every_host(const HostShell& shell, const std::vector<HostSpec>& hosts,
                                     const std::vector<std::string>& args, double timeout_s,
                                     const std::string& log_dir) {
  std::string remote = shell_quote(shell.diobench) + " host";
  for (const std::string& a : args) remote += " " + shell_quote(a);
  std::vector<std::unique_ptr<ChildProcess>> running;
  std::vector<HostReply> replies(hosts.size());
  std::vector<std::string> logs;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    ChildCommand c;
    c.argv = shell.ssh;
    // ssh -p PORT is the ssh port, not fio's: the host's name alone here.
    c.argv.insert(c.argv.end(), {"--", hosts[i].name, remote});
    c.timeout_s = timeout_s;
    c.capture_output = true;
    c.log_file = (fs::path(log_dir) / (hosts[i].label() + ".log")).string();
    logs.push_back(c.log_file);
    try {
      running.push_back(std::make_unique<ChildProcess>(c));
    } catch (const std::exception& e) {
      running.push_back(nullptr);
      replies[i].error = std::string("cannot start ") + shell.ssh.front() + ": " + e.what();
    }
  }
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (!running[i]) continue;
    const ChildExit exit = running[i]->wait();
    replies[i].ok = exit.ok();
    replies[i].output = exit.output;
    if (!exit.ok()) {
      const std::string said = trimmed(read_text(logs[i]));
      replies[i].error = said.empty() ? shell.ssh.front() + " " + exit.reason() : said;
    }
  }
  return replies;
}

std::string render_job(const std::string& job_template,
                       const std::map<std::string, std::string>& values) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const auto open = job_template.find("${", at);
    if (open == std::string::npos) break;
    const auto close = job_template.find('}', open);
    if (close == std::string::npos) break;
    const std::string name = job_template.substr(open + 2, close - open - 2);
    const auto it = values.find(name);
    out += job_template.substr(at, open - at);
    out += it == values.end() ? job_template.substr(open, close + 1 - open) : it->second;
    at = close + 1;
  }
  return out + job_template.substr(at);
}

std::string fio_host_message(const std::string& log, const std::string& host) {
  auto part_of_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
  };
  std::istringstream in(log);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    for (auto at = line.find(host); at != std::string::npos; at = line.find(host, at + 1)) {
      const std::size_t end = at + host.size();
      // Before it, not a ':' either: "db::2" is not "fd00:db::2" (after
      // it, fio may write ":PORT").
      if ((at == 0 || (!part_of_name(line[at - 1]) && line[at - 1] != ':')) &&
          (end == line.size() || !part_of_name(line[end]))) {
        out += (out.empty() ? "" : "; ") + line;
        break;
      }
    }
  }
  return out;
}

}  // namespace diobench
