// Found by a new user: the fourth Train chart was an empty frame with a stray legend box until
// runs were ticked. It now says what it is for, and shows its legend once it has curves.
#include <gtest/gtest.h>

#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <qcustomplot.h>

#include "core/project/Project.h"
#include "ui/widgets/TrainCharts.h"

using namespace tlab;

TEST(TrainCharts, ComparisonChartExplainsItselfUntilRunsAreTicked) {
  ui::TrainCharts charts;
  EXPECT_TRUE(charts.compareHintShown());
  EXPECT_FALSE(charts.comparePlot()->legend->visible());
  core::RunRecord run;
  run.id = "run-1";
  run.name = "linear probe";
  core::EpochMetrics e;
  e.epoch = 1;
  e.valAccuracy = 0.5;
  run.history = {e};
  charts.setOverlays({run});
  EXPECT_FALSE(charts.compareHintShown());
  EXPECT_TRUE(charts.comparePlot()->legend->visible());
  EXPECT_EQ(charts.comparePlot()->graphCount(), 1);
  charts.setOverlays({});
  EXPECT_TRUE(charts.compareHintShown());
  EXPECT_FALSE(charts.comparePlot()->legend->visible());
}
