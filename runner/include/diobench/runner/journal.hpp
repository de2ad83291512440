// The undo journal: every change the runner makes to the machine (a
// scratch file, a loop device, a dataset property) is written here and
// fsynced *before* it is made, so that `diobench restore` can undo what a
// killed run (kill -9, power loss) left behind. Normal clean-up records the
// undo too; restore acts only on changes with no recorded undo.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace diobench {

class Journal {
 public:
  explicit Journal(std::string path);  // appends to an existing journal
  const std::string& path() const { return path_; }

  // Appends one entry and fsyncs it (and, the first time, the directory).
  // Throws std::system_error when the journal cannot be written: a change
  // that cannot be journaled must not be made.
  void record(const nlohmann::json& entry);

  void scratch_file_created(const std::string& path);  // call before creating
  void scratch_file_removed(const std::string& path);
  void loop_attaching(const std::string& backing);  // call before attaching
  void loop_detached(const std::string& backing);
  // A directory inside the scratch area handed to another program (the
  // bench drivers) for its own files and loop devices: restore detaches
  // loop devices backed by anything under it and removes it whole.
  void scratch_dir_created(const std::string& path);  // call before creating
  void scratch_dir_removed(const std::string& path);
  // Call before the first change of a dataset property; `old` is restored
  // (with `inherit`: by `zfs inherit`, the value was not the dataset's own).
  void zfs_property_changing(const std::string& dataset, const std::string& property,
                             const std::string& old, bool inherit = false);
  void zfs_property_restored(const std::string& dataset, const std::string& property);

  // A fleet run's directory for ssh's shared connections (its control
  // sockets), outside any scratch area: restore ends their masters and
  // removes it.
  void ssh_control_dir_created(const std::string& path);  // call before creating
  void ssh_control_dir_removed(const std::string& path);

  // zfs backend: a dataset the run creates to work in (call before
  // creating it), tagged with `token` in its user property diobench:run;
  // restore destroys it only while it carries that token.
  void zfs_dataset_creating(const std::string& dataset, const std::string& token);
  void zfs_dataset_destroyed(const std::string& dataset);

  // zfs backend, --arc-drop export: the pool goes away between these two.
  void pool_exporting(const std::string& pool, const std::vector<std::string>& devices);
  void pool_imported(const std::string& pool);

  static std::vector<nlohmann::json> read(const std::string& path);
  // The same from its text. Only well-formed entries: a line that does
  // not parse or is not an entry as record() writes it is skipped, so
  // every field restore reads has its type; with `skipped`, each skipped
  // line is added to it as "line N: TEXT" (restore says so).
  static std::vector<nlohmann::json> parse(const std::string& text,
                                           std::vector<std::string>* skipped = nullptr);

 private:
  std::string path_;
};

// Removes a directory of ssh's control sockets that a fleet run made
// (the name begins with kSshControlDirPrefix; it holds nothing but
// sockets), each socket's ssh master asked to end first; the reason when
// it is left alone. A missing one is removed.
inline constexpr const char* kSshControlDirPrefix = "diobench-ssh.";
std::optional<std::string> remove_ssh_control_dir(const std::string& dir);

struct RestoreReport {
  std::vector<std::string> detached;   // loop devices
  std::vector<std::string> removed;    // scratch files and directories
  std::vector<std::string> reset;      // dataset properties set back, pools imported
  std::vector<std::string> destroyed;  // datasets the run created
  std::vector<std::string> problems;   // what could not be undone
  std::vector<std::string> skipped;    // journal lines that are not entries ("line N: TEXT")
};

// A journal restore will not act on, with the reason and its path: bad
// input (a journal anyone else could have written).
class JournalRefused : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Undoes every change in the journal that has no recorded undo, then
// removes the journal if nothing is left to undo. An undo is recorded only
// when it succeeded, so a second restore retries what failed. Loop devices
// are detached only when their backing file is one the journal names, and
// files are removed only inside a scratch area with diobench's marker (and
// only once no loop device uses them).
// Acts only on a journal it can trust, else throws JournalRefused: a
// regular file (not a link) owned by the user running diobench, mode 0600,
// in a directory owned by that user and not writable by group or others.
RestoreReport restore_journal(const std::string& path);

// Detaches the loop devices bound to the file `backing` and waits (up to
// 5 s) for the kernel to let go. Returns what could not be detached.
std::vector<std::string> detach_loops_backed_by(const std::string& backing);

// The run directories under `runs_dir` that hold a journal (for restore
// without arguments), and the entries refused with the reason (a symbolic
// link). Throws JournalRefused when `runs_dir` itself is not to be
// trusted (a link, another user's, writable by group or others).
struct JournalSearch {
  std::vector<std::string> run_dirs;
  std::vector<std::string> refused;
};
JournalSearch find_journals(const std::string& runs_dir);

}  // namespace diobench
