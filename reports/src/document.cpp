#include "diobench/reports/document.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace diobench {

namespace {

Block text_block(Block::Kind kind, const std::string& text) {
  Block b;
  b.kind = kind;
  b.text = text;
  return b;
}

}  // namespace

std::string format_number(const char* format, double v) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

Block heading(const std::string& text, int level) {
  Block b = text_block(Block::Kind::Heading, text);
  b.level = level;
  return b;
}

Block paragraph(const std::string& text) { return text_block(Block::Kind::Paragraph, text); }
Block code_block(const std::string& text) { return text_block(Block::Kind::Code, text); }
Block banner(const std::string& text) { return text_block(Block::Kind::Banner, text); }

Block table_block(Table t) {
  Block b;
  b.kind = Block::Kind::Table;
  b.table = std::move(t);
  return b;
}

Block list_block(std::vector<std::string> items, std::vector<std::string> item_class,
                 std::string id) {
  Block b;
  b.kind = Block::Kind::List;
  b.items = std::move(items);
  b.item_class = std::move(item_class);
  b.id = std::move(id);
  return b;
}

std::string html_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// Escaped, with `code` spans as <code> and **strong** spans as <strong>.
std::string inline_html(const std::string& s) {
  std::string out;
  bool in_code = false, in_strong = false;
  std::string run;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!in_code && c == '*' && i + 1 < s.size() && s[i + 1] == '*') {
      out += html_escaped(run);
      run.clear();
      out += in_strong ? "</strong>" : "<strong>";
      in_strong = !in_strong;
      ++i;
    } else if (c == '`') {
      out += html_escaped(run);
      run.clear();
      out += in_code ? "</code>" : "<code>";
      in_code = !in_code;
    } else {
      run += c;
    }
  }
  out += html_escaped(run);
  if (in_code) out += "</code>";
  if (in_strong) out += "</strong>";
  return out;
}

// A table cell in Markdown: a '|' would end the cell, a newline the row.
std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// Characters on a terminal, not bytes: UTF-8 continuation bytes do not count.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string to_text(const Table& t) {
  std::vector<std::size_t> width(t.header.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], display_width(row[i]));
  };
  widen(t.header);
  for (const auto& row : t.rows) widen(row);
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& row) {
    std::string text;
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      const std::string pad(width[i] - display_width(row[i]), ' ');
      const bool right = i < t.numeric.size() && t.numeric[i];
      text += "  " + (right ? pad + row[i] : row[i] + (i + 1 < row.size() ? pad : ""));
    }
    out << text << "\n";
  };
  line(t.header);
  for (const auto& row : t.rows) line(row);
  return out.str();
}

std::string to_markdown(const Document& doc) {
  std::ostringstream md;
  for (const Block& b : doc) {
    switch (b.kind) {
      case Block::Kind::Heading:
        md << std::string(static_cast<std::size_t>(b.level), '#') << " " << b.text << "\n\n";
        break;
      case Block::Kind::Paragraph:
        md << b.text << "\n\n";
        break;
      case Block::Kind::Banner:
        md << "> **" << b.text << "**\n\n";
        break;
      case Block::Kind::Code:
        md << "```\n"
           << b.text << (b.text.empty() || b.text.back() != '\n' ? "\n" : "") << "```\n\n";
        break;
      case Block::Kind::Table: {
        const Table& t = b.table;
        md << "|";
        for (const auto& h : t.header) md << " " << md_cell(h) << " |";
        md << "\n|";
        for (std::size_t i = 0; i < t.header.size(); ++i) {
          md << (i < t.numeric.size() && t.numeric[i] ? "---:|" : "---|");
        }
        md << "\n";
        for (const auto& row : t.rows) {
          md << "|";
          for (const auto& cell : row) md << " " << md_cell(cell) << " |";
          md << "\n";
        }
        md << "\n";
        break;
      }
      case Block::Kind::List:
        for (const auto& item : b.items) md << "- " << item << "\n";
        md << "\n";
        break;
    }
  }
  return md.str();
}

std::string to_html(const Document& doc) {
  std::ostringstream h;
  for (const Block& b : doc) {
    switch (b.kind) {
      case Block::Kind::Heading:
        h << "<h" << b.level << ">" << inline_html(b.text) << "</h" << b.level << ">\n";
        break;
      case Block::Kind::Paragraph:
        h << "<p>" << inline_html(b.text) << "</p>\n";
        break;
      case Block::Kind::Banner:
        h << "<p class=\"banner\">" << inline_html(b.text) << "</p>\n";
        break;
      case Block::Kind::Code:
        h << "<pre>" << html_escaped(b.text) << "</pre>\n";
        break;
      case Block::Kind::Table: {
        const Table& t = b.table;
        h << "<table" << (t.id.empty() ? "" : " id=\"" + html_escaped(t.id) + "\"") << "><tr>";
        for (const auto& x : t.header) h << "<th>" << inline_html(x) << "</th>";
        h << "</tr>\n";
        for (std::size_t r = 0; r < t.rows.size(); ++r) {
          const auto& row = t.rows[r];
          const bool cls = r < t.row_class.size() && !t.row_class[r].empty();
          h << (cls ? "<tr class=\"" + html_escaped(t.row_class[r]) + "\">" : std::string("<tr>"));
          for (std::size_t i = 0; i < row.size(); ++i) {
            const bool left = !(i < t.numeric.size() && t.numeric[i]);
            h << (left ? "<td class=\"l\">" : "<td>") << inline_html(row[i]) << "</td>";
          }
          h << "</tr>\n";
        }
        h << "</table>\n";
        break;
      }
      case Block::Kind::List:
        h << "<ul" << (b.id.empty() ? "" : " id=\"" + html_escaped(b.id) + "\"") << ">\n";
        for (std::size_t i = 0; i < b.items.size(); ++i) {
          const bool cls = i < b.item_class.size() && !b.item_class[i].empty();
          h << (cls ? "<li class=\"" + html_escaped(b.item_class[i]) + "\">" : std::string("<li>"))
            << inline_html(b.items[i]) << "</li>\n";
        }
        h << "</ul>\n";
        break;
    }
  }
  return h.str();
}

}  // namespace diobench
