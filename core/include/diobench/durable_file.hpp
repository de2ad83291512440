// Result files that survive a crash whole or not at all, and that never
// write through a link someone planted.
//
// Every file the suite keeps (plan.json, current.json, the undo journal,
// report files, a program's output put in place) is written through these
// functions: the directory is opened once and everything else happens
// relative to its descriptor (openat with O_NOFOLLOW), and the data and
// then the directory entry are fsynced before the call returns.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace diobench {

// Replaces `path` with `content`: a new file of a name nobody can predict
// is created beside it (O_CREAT | O_EXCL | O_NOFOLLOW), written, fsynced,
// renamed over `path`, and the directory fsynced. A reader or a crash sees
// the old file or the whole new one. Throws std::system_error naming
// `path` (ENOSPC included); the temporary file is gone then.
void write_file_durably(const std::string& path, std::string_view content, mode_t mode = 0644);

// Puts the complete file `from` in place as `to` (same directory): fsyncs
// it, renames it, fsyncs the directory. For output another program wrote,
// once that program's exit status says it is complete. Neither name is
// followed if it is a symbolic link. Throws std::system_error.
void publish_file_durably(const std::string& from, const std::string& to);

// Appends `text` to `path` (created with `mode` if missing, never through
// a link) and fsyncs it; a newly created file's directory entry is fsynced
// too. Throws std::system_error naming `path`.
void append_durably(const std::string& path, std::string_view text, mode_t mode = 0600);

// fsyncs the directory `dir` (e.g. after removing a file in it).
void sync_directory(const std::string& dir);

}  // namespace diobench
