#include "diobench/runner/fleet.hpp"

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
  const auto colon = text.find(':');
  h.name = text.substr(0, colon);
  const bool port_ok = colon == std::string::npos || is_port(text.substr(colon + 1), h.port);
  if (!is_host_name(h.name) || !port_ok) {
    throw std::invalid_argument("invalid host '" + text +
                                "' (expected HOST or HOST:PORT: a host name or IPv4 address, a "
                                "port from 1 to 65535; IPv6 addresses are not supported)");
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
      if ((at == 0 || !part_of_name(line[at - 1])) &&
          (end == line.size() || !part_of_name(line[end]))) {
        out += (out.empty() ? "" : "; ") + line;
        break;
      }
    }
  }
  return out;
}

}  // namespace diobench
