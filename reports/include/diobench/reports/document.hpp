// A small document model for report sections that appear both in
// report.md and in index.html: headings, paragraphs, code blocks and
// tables, written once and rendered as Markdown or as HTML.
//
// Text may carry `backticks` for code; the HTML rendering turns them into
// <code> and escapes everything else.
#pragma once

#include <string>
#include <vector>

namespace diobench {

struct Table {
  std::string id;  // HTML id (may be empty)
  std::vector<std::string> header;
  std::vector<bool> numeric;  // per column: right-aligned
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row_class;  // HTML class per row (may be shorter than rows)
};

struct Block {
  enum class Kind { Heading, Paragraph, Code, Table, Banner, List };
  Kind kind = Kind::Paragraph;
  int level = 2;  // headings: 2 = ##
  std::string text;
  diobench::Table table;
  // A list: its items, an HTML class per item (may be shorter) and the
  // list's HTML id (may be empty).
  std::vector<std::string> items, item_class;
  std::string id;
};

using Document = std::vector<Block>;

// One number through a printf format (e.g. "%.1f"); "-" for a value that
// is not a number, so no report prints "nan".
std::string format_number(const char* format, double v);

Block heading(const std::string& text, int level = 2);
Block paragraph(const std::string& text);
Block code_block(const std::string& text);
Block banner(const std::string& text);  // a warning shown prominently
Block table_block(Table t);
Block list_block(std::vector<std::string> items, std::vector<std::string> item_class = {},
                 std::string id = "");

std::string to_markdown(const Document& doc);
std::string to_html(const Document& doc);
// A table as aligned plain text for a terminal: a header line, then a line
// per row, numeric columns right-aligned, `backticks` kept.
std::string to_text(const Table& t);

// HTML-escaped text (<, >, &, ").
std::string html_escaped(const std::string& s);

}  // namespace diobench
