#include "core/dataset/LabelMap.h"

#include <gtest/gtest.h>

#include "core/Errors.h"

namespace tlab::core {
namespace {

Dataset animals() {
  Dataset ds;
  ds.source = "animals";
  ds.classNames = {"cat", "dog", "kitten", "wolf"};
  for (int32_t label : {0, 1, 2, 3, 2, 0}) {
    Sample s;
    s.label = label;
    s.path = std::to_string(label);
    ds.samples.push_back(s);
  }
  return ds;
}

TEST(LabelMap, MergesRenamesAndDrops) {
  Dataset ds = animals();
  const size_t dropped = applyLabelMap(ds, {{{"kitten", "cat"}, {"wolf", ""}, {"dog", "canine"}}});
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(ds.classNames, (std::vector<std::string>{"canine", "cat"}));
  std::vector<int32_t> labels;
  for (const auto& s : ds.samples) labels.push_back(s.label);
  EXPECT_EQ(labels, (std::vector<int32_t>{1, 0, 1, 1, 1}));
}

TEST(LabelMap, UnknownClassIsAnError) {
  Dataset ds = animals();
  EXPECT_THROW(applyLabelMap(ds, {{{"horse", "x"}}}), InvalidArgument);
  EXPECT_EQ(ds.size(), 6u);  // untouched
}

}  // namespace
}  // namespace tlab::core
