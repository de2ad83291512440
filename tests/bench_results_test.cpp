// Google Benchmark results as the reports read them: parsing (NaN
// counters, time units, errors, aggregates), the order-statistic interval
// of the median, and which device ceiling a fio cell is held against.
#include "diobench/reports/bench_results.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace diobench {
namespace {

// A row as Google Benchmark 1.7 writes it.
std::string row(const std::string& run_name, const std::string& type, double time,
                const std::string& unit, const std::string& extra) {
  return "{\"name\": \"" + run_name + "\", \"run_name\": \"" + run_name + "\", \"run_type\": \"" +
         type + "\", \"repetitions\": 3, \"threads\": 1, \"iterations\": 10, \"real_time\": " +
         std::to_string(time) + ", \"cpu_time\": 1.0, \"time_unit\": \"" + unit + "\"" + extra +
         "}";
}

std::string doc(const std::vector<std::string>& rows) {
  std::string s =
      "{\"context\": {\"kernel\": \"6.1\", \"num_cpus\": 2, \"load_avg\": [0.5, 1, "
      "2]},\n\"benchmarks\": [";
  for (std::size_t i = 0; i < rows.size(); ++i) s += (i ? ",\n" : "\n") + rows[i];
  return s + "]}";
}

TEST(BenchResults, ReadsRepetitionsNotAggregatesInMicroseconds) {
  const BenchResults b = parse_bench_results(
      doc({row("Ceiling/DirectRead/seq:0/qd:1/bs:4096/manual_time", "iteration", 50000, "ns",
               ", \"items_per_second\": 20000, \"on_block_device\": 0, \"cached_pct_at_start\": "
               "NaN, "
               "\"label\": \"scratch file standing in\""),
           row("Ceiling/DirectRead/seq:0/qd:1/bs:4096/manual_time", "iteration", 70000, "ns",
               ", \"items_per_second\": 14000, \"on_block_device\": 0, \"cached_pct_at_start\": "
               "-nan"),
           row("Ceiling/DirectRead/seq:0/qd:1/bs:4096/manual_time_median", "aggregate", 1, "ns",
               ", \"items_per_second\": 1"),
           row("Ceiling/Memcpy/bs:4096/real_time", "iteration", 0.002, "ms", ""),
           "{\"name\": \"HotFile/BufferedRead/bs:4096/manual_time\", \"run_name\": "
           "\"HotFile/BufferedRead/bs:4096/manual_time\", \"run_type\": \"iteration\", "
           "\"error_occurred\": true, \"error_message\": \"open /x: No such file or directory\", "
           "\"real_time\": 0, \"time_unit\": \"us\"}"}),
      "t.json");
  ASSERT_EQ(b.drivers.size(), 3u);
  const BenchDriver* ceiling = b.find("Ceiling/DirectRead/seq:0/qd:1/bs:4096");
  ASSERT_NE(ceiling, nullptr);
  EXPECT_EQ(ceiling->family, "Ceiling");
  ASSERT_EQ(ceiling->repetitions.size(), 2u) << "the aggregate row is not a repetition";
  EXPECT_DOUBLE_EQ(ceiling->repetitions[0].time_us, 50);
  EXPECT_DOUBLE_EQ(*ceiling->median_of("items_per_second"), 17000);
  EXPECT_FALSE(ceiling->median_of("cached_pct_at_start")) << "NaN is no number";
  EXPECT_EQ(ceiling->label, "scratch file standing in");
  EXPECT_DOUBLE_EQ(b.find("Ceiling/Memcpy/bs:4096")->repetitions[0].time_us, 2);
  const BenchDriver* failed = b.find("HotFile/BufferedRead/bs:4096");
  ASSERT_NE(failed, nullptr);
  EXPECT_TRUE(failed->repetitions.empty());
  EXPECT_EQ(failed->errors, std::vector<std::string>{"open /x: No such file or directory"});
  EXPECT_EQ(b.context.at("kernel"), "6.1");
  EXPECT_EQ(b.context.at("load_avg"), "0.50 1.00 2.00");

  // The failed driver is listed with its message and no number.
  const std::string md = to_markdown(driver_family_document(b, 2));
  EXPECT_NE(md.find("## Drivers that failed"), std::string::npos) << md;
  EXPECT_NE(
      md.find("| `HotFile/BufferedRead/bs:4096` | 0 | error: open /x: No such file or directory |"),
      std::string::npos)
      << md;
}

TEST(BenchResults, BadInputNamesTheFile) {
  for (const std::string& text : {std::string("{\"benchmarks\": [ {\"run_name\": \"A\""),
                                  std::string("[1, 2]"), std::string("{\"benchmarks\": []}"),
                                  std::string("{\"benchmarks\": [{\"name\": \"x\"}]}")}) {
    try {
      parse_bench_results(text, "broken.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ReportError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("broken.json", 0), 0u) << e.what();
    }
  }
  EXPECT_THROW(load_bench_results("/nonexistent/bench.json"), ReportError);
}

// Textbook values: for n = 9 the 95% interval of the median is
// [x(2), x(8)] with coverage 1 - 2 * 10/512 = 96.1%; for n = 6 it is
// [x(1), x(6)] (96.9%); five values cannot give 95%.
TEST(BenchResults, OrderStatisticIntervalOfTheMedian) {
  const auto nine = median_order_interval({9, 1, 8, 2, 7, 3, 6, 4, 5}, 0.95);
  ASSERT_TRUE(nine);
  EXPECT_DOUBLE_EQ(nine->interval.low, 2);
  EXPECT_DOUBLE_EQ(nine->interval.high, 8);
  EXPECT_NEAR(nine->coverage, 1 - 20.0 / 512, 1e-12);
  const auto six = median_order_interval({6, 5, 4, 3, 2, 1}, 0.95);
  ASSERT_TRUE(six);
  EXPECT_DOUBLE_EQ(six->interval.low, 1);
  EXPECT_DOUBLE_EQ(six->interval.high, 6);
  EXPECT_NEAR(six->coverage, 1 - 2.0 / 64, 1e-12);
  EXPECT_FALSE(median_order_interval({1, 2, 3, 4, 5}, 0.95));
  // Many values: the interval stays inside and narrows around the median.
  std::vector<double> many;
  for (int i = 1; i <= 2000; ++i) many.push_back(i);
  const auto wide = median_order_interval(many, 0.95);
  ASSERT_TRUE(wide);
  EXPECT_GT(wide->interval.low, 900);
  EXPECT_LT(wide->interval.high, 1100);
  EXPECT_GE(wide->coverage, 0.95);
}

CellData fio_cell(const std::string& rw, const std::string& bs, const std::string& iodepth,
                  const std::string& numjobs) {
  CellData c;
  c.name = rw + "-" + bs;
  c.axes = {{"rw", rw}, {"bs", bs}, {"iodepth", iodepth}, {"numjobs", numjobs}};
  return c;
}

TEST(BenchResults, EachReadCellMeetsTheCeilingOfItsKind) {
  const BenchResults b = parse_bench_results(
      doc({row("Ceiling/DirectRead/seq:0/qd:1/bs:4096/manual_time", "iteration", 50, "us",
               ", \"items_per_second\": 20000, \"on_block_device\": 1"),
           row("Ceiling/DirectRead/seq:0/qd:32/bs:4096/manual_time", "iteration", 12, "us",
               ", \"items_per_second\": 80000, \"on_block_device\": 0"),
           row("Ceiling/DirectRead/seq:1/qd:32/bs:1048576/manual_time", "iteration", 700, "us",
               ", \"bytes_per_second\": 1.5e9, \"on_block_device\": 0")}),
      "t.json");
  const CeilingShare qd1 = ceiling_share(b, fio_cell("randread", "4k", "1", "1"), 1e6, 10000);
  ASSERT_TRUE(qd1.fraction);
  EXPECT_DOUBLE_EQ(*qd1.fraction, 0.5);
  EXPECT_EQ(qd1.ceiling, "O_DIRECT random 4k QD1") << "read from the device: no stand-in mark";
  // Total depth iodepth x numjobs: 1 x 2 is already a queue.
  const CeilingShare deep = ceiling_share(b, fio_cell("randread", "4k", "1", "2"), 1e6, 40000);
  ASSERT_TRUE(deep.fraction);
  EXPECT_DOUBLE_EQ(*deep.fraction, 0.5);
  EXPECT_EQ(deep.ceiling, "O_DIRECT random 4k QD32 (stand-in file)");
  const CeilingShare seq = ceiling_share(b, fio_cell("read", "128k", "32", "1"), 0.75e9, 1);
  ASSERT_TRUE(seq.fraction);
  EXPECT_DOUBLE_EQ(*seq.fraction, 0.5) << "sequential reads by bandwidth";
  for (const char* rw : {"randwrite", "write"}) {
    const CeilingShare w = ceiling_share(b, fio_cell(rw, "4k", "1", "1"), 1e6, 1e4);
    EXPECT_FALSE(w.fraction) << rw;
    EXPECT_NE(w.note.find("never written"), std::string::npos) << w.note;
  }
  EXPECT_FALSE(ceiling_share(b, fio_cell("randrw", "4k", "1", "1"), 1e6, 1e4).fraction);
  const CeilingShare big = ceiling_share(b, fio_cell("randread", "64k", "1", "1"), 1e6, 1e4);
  EXPECT_FALSE(big.fraction);
  EXPECT_NE(big.note.find("64k"), std::string::npos) << big.note;
  // Without the ceiling's driver there is nothing to hold the cell against.
  const BenchResults none = parse_bench_results(
      doc({row("Ceiling/Memcpy/bs:4096/real_time", "iteration", 1, "us", "")}), "t.json");
  const CeilingShare missing = ceiling_share(none, fio_cell("randread", "4k", "1", "1"), 1e6, 1e4);
  EXPECT_FALSE(missing.fraction);
  EXPECT_NE(missing.note.find("not in the benchmark results"), std::string::npos) << missing.note;
}

}  // namespace
}  // namespace diobench
