// The Calibration tab: ECE before and after the run's temperature on hand-computed predictions,
// and what it says when the run applied none.
#include <gtest/gtest.h>

#include <cmath>

#include "ui/widgets/CalibrationView.h"

namespace tlab::ui {
namespace {

TEST(CalibrationView, EceBeforeAndAfterTheTemperatureAndWhatItSaysWithoutOne) {
  // Four rows with logits [2, 0], three labelled 0: confidence sigmoid(2) = 0.881 at T = 1 against
  // accuracy 0.75 (ECE 0.131); at T = 2 / ln 3 the confidence is 0.75 (ECE 0).
  const std::vector<float> logits{2, 0, 2, 0, 2, 0, 2, 0};
  const std::vector<int32_t> labels{0, 0, 0, 1};
  CalibrationView view;
  view.setData(logits, labels, 2, 2.0 / std::log(3.0), QStringLiteral("run-1 \u00b7 val split"));
  EXPECT_NEAR(view.eceBefore(), 1 / (1 + std::exp(-2.0)) - 0.75, 1e-6);
  EXPECT_NEAR(view.eceAfter(), 0, 1e-6);
  EXPECT_TRUE(view.summaryText().contains(QStringLiteral("Temperature 1.820 fitted")))
      << view.summaryText().toStdString();

  view.setData(logits, labels, 2, 1.0, QStringLiteral("run-2 \u00b7 val split"));
  EXPECT_DOUBLE_EQ(view.eceAfter(), view.eceBefore());
  EXPECT_TRUE(view.summaryText().contains(QStringLiteral("No temperature scaling")))
      << view.summaryText().toStdString();
}

}  // namespace
}  // namespace tlab::ui
