// View -> Presenter Mode: larger text and chart lines and a simpler Train page for a projector;
// turning it off restores the normal look exactly, and the choice is remembered.
#include "ui/pages/TrainPage.h"  // first: LibTorch before Qt

#include <gtest/gtest.h>

#include <qcustomplot.h>
#include <QApplication>
#include <QPlainTextEdit>
#include <QSettings>
#include <QTreeWidget>

#include "ui/pages/MainWindow.h"
#include "ui/widgets/TrainCharts.h"
#include "ui/widgets/TrainSettingsForm.h"

namespace tlab::ui {
namespace {

double smoothedLossWidth(const TrainCharts* charts) {
  return charts->lossPlot()->graph(1)->pen().widthF();  // train (smoothed)
}

TEST(PresenterMode, EnlargesTextAndLinesSimplifiesTrainingAndRestoresEverything) {
  core::RuntimeReport runtime;
  const QFont before = QApplication::font();
  {
    MainWindow window(runtime);
    window.setPresenterMode(false);
    window.show();
    TrainPage* train = window.trainPage();
    TrainCharts* charts = train->charts();
    const double width = smoothedLossWidth(charts);
    const double tickFont = charts->lossPlot()->xAxis->tickLabelFont().pointSizeF();
    ASSERT_FALSE(train->settingsForm()->isHidden());
    ASSERT_FALSE(train->log()->isHidden());

    window.setPresenterMode(true);
    EXPECT_TRUE(window.presenterMode());
    EXPECT_NEAR(QApplication::font().pointSizeF(), before.pointSizeF() * 1.5, 0.01);
    EXPECT_DOUBLE_EQ(smoothedLossWidth(charts), 2 * width);
    EXPECT_NEAR(charts->lossPlot()->xAxis->tickLabelFont().pointSizeF(), tickFont * 1.5, 0.01);
    EXPECT_TRUE(train->settingsForm()->isHidden());
    EXPECT_TRUE(train->log()->isHidden());
    EXPECT_FALSE(charts->lossPlot()->isHidden());
    EXPECT_FALSE(charts->accuracyPlot()->isHidden());
    EXPECT_TRUE(charts->comparePlot()->isHidden());
    EXPECT_TRUE(train->runList()->isColumnHidden(2));  // State: the progress bar says it
    // Overlays added while it is on get the presenter's lines too.
    core::RunRecord run;
    run.id = "run-1";
    run.name = "probe";
    run.history.resize(2);
    run.history[0].epoch = 1;
    run.history[1].epoch = 2;
    charts->setOverlays({run});
    ASSERT_EQ(charts->comparePlot()->graphCount(), 1);
    EXPECT_DOUBLE_EQ(charts->comparePlot()->graph(0)->pen().widthF(), 4);

    window.setPresenterMode(false);
    EXPECT_FALSE(window.presenterMode());
    EXPECT_EQ(QApplication::font(), before);
    EXPECT_DOUBLE_EQ(smoothedLossWidth(charts), width);
    EXPECT_DOUBLE_EQ(charts->lossPlot()->xAxis->tickLabelFont().pointSizeF(), tickFont);
    EXPECT_DOUBLE_EQ(charts->comparePlot()->graph(0)->pen().widthF(), 2);
    EXPECT_FALSE(train->settingsForm()->isHidden());
    EXPECT_FALSE(train->log()->isHidden());
    EXPECT_FALSE(charts->comparePlot()->isHidden());
    EXPECT_FALSE(train->runList()->isColumnHidden(2));

    window.setPresenterMode(true);
    EXPECT_TRUE(window.close());  // remembered on close
  }
  EXPECT_EQ(QApplication::font(), before);  // a window that goes away gives the font back
  {
    MainWindow reopened(runtime);
    EXPECT_TRUE(reopened.presenterMode());
    reopened.setPresenterMode(false);
    EXPECT_TRUE(reopened.close());
  }
  EXPECT_FALSE(QSettings().value(QStringLiteral("view/presenter")).toBool());
  EXPECT_EQ(QApplication::font(), before);
}

}  // namespace
}  // namespace tlab::ui
