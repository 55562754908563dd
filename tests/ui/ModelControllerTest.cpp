#include "ui/controllers/ModelController.h"

#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QUndoStack>

#include "ui/controllers/ProjectController.h"
#include "ui/models/LayerTreeModel.h"

namespace tlab::ui {
namespace {

// small_cnn: block1, block2, block3 (stages) and the head fc.
struct Fixture {
  ProjectController project;
  std::unique_ptr<ModelController> model;
  explicit Fixture(core::Strategy s, int stages = 2) {
    core::TrainConfig c;
    c.backbone = "small_cnn";
    c.strategy = s;
    c.finetuneStages = stages;
    project.setConfig(c, "set up");
    model = std::make_unique<ModelController>(&project);
    QSignalSpy built(model.get(), &ModelController::built);
    EXPECT_TRUE(built.wait(20000));
  }
  QModelIndex at(const char* path) { return model->model()->indexOf(path); }
  Qt::CheckState state(const char* path) {
    return Qt::CheckState(model->model()->data(at(path), Qt::CheckStateRole).toInt());
  }
};

TEST(ModelController, TreeShowsTheStrategysFreezeStateAndTotals) {
  Fixture f(core::Strategy::FinetuneLast, 2);
  LayerTreeModel* m = f.model->model();
  ASSERT_EQ(m->rowCount(), 4);  // block1..3, fc
  EXPECT_EQ(m->data(m->index(3, LayerTreeModel::kName), Qt::DisplayRole).toString(), "fc");
  EXPECT_EQ(f.state("block1"), Qt::Checked);
  EXPECT_EQ(f.state("block2"), Qt::Unchecked);
  EXPECT_EQ(f.state("fc"), Qt::Unchecked);
  EXPECT_EQ(m->data(m->index(0, LayerTreeModel::kShape), Qt::DisplayRole).toString(),
            "[1, 32, 14, 14]");
  const auto& root = m->root();
  EXPECT_EQ(root.params - root.trainableParams, root.find("block1")->params);
}

TEST(ModelController, CheckboxesBecomeUndoableFreezeRules) {
  Fixture f(core::Strategy::Full);
  QSignalSpy totals(f.model.get(), &ModelController::totalsChanged);
  LayerTreeModel* m = f.model->model();
  EXPECT_EQ(f.state("block2"), Qt::Unchecked);
  ASSERT_TRUE(m->setData(f.at("block2"), Qt::Checked, Qt::CheckStateRole));
  ASSERT_EQ(f.project.project().config.freezeRules.size(), 1u);
  EXPECT_EQ(f.project.project().config.freezeRules[0].pattern, "block2");
  EXPECT_TRUE(f.project.project().config.freezeRules[0].frozen);
  EXPECT_EQ(f.state("block2"), Qt::Checked);
  ASSERT_GE(totals.count(), 1);
  const qint64 trainable = totals.last().at(0).toLongLong();
  EXPECT_EQ(trainable, m->root().params - m->root().find("block2")->params);

  // Freezing one conv inside block3 leaves block3 partly frozen: a tri-state parent.
  ASSERT_TRUE(m->setData(f.at("block3.0"), Qt::Checked, Qt::CheckStateRole));
  EXPECT_EQ(f.state("block3"), Qt::PartiallyChecked);
  EXPECT_EQ(f.state("block3.0"), Qt::Checked);

  f.project.undoStack()->undo();
  f.project.undoStack()->undo();
  EXPECT_EQ(f.state("block2"), Qt::Unchecked);
  EXPECT_EQ(f.state("block3"), Qt::Unchecked);
  EXPECT_TRUE(f.project.project().config.freezeRules.empty());

  // Learning-rate multipliers are editable per module.
  ASSERT_TRUE(m->setData(m->index(2, LayerTreeModel::kLr), 0.25, Qt::EditRole));
  ASSERT_EQ(f.project.project().config.lrRules.size(), 1u);
  EXPECT_EQ(f.project.project().config.lrRules[0].pattern, "block3");
  EXPECT_DOUBLE_EQ(
      m->data(f.at("block3.0").siblingAtColumn(LayerTreeModel::kLr), Qt::DisplayRole).toDouble(),
      0.25);
}

TEST(ModelController, QuickActionsAndGradualUnfreezingTimeline) {
  Fixture f(core::Strategy::Full);
  f.model->freezeBackbone();
  EXPECT_EQ(f.project.project().config.strategy, core::Strategy::LinearProbe);
  EXPECT_EQ(f.state("block3"), Qt::Checked);
  EXPECT_EQ(f.state("fc"), Qt::Unchecked);
  f.model->unfreezeLastStages(1);
  EXPECT_EQ(f.state("block3"), Qt::Unchecked);
  EXPECT_EQ(f.state("block2"), Qt::Checked);

  core::TrainConfig c = f.project.project().config;
  c.strategy = core::Strategy::Full;
  c.epochs = 6;
  c.gradualUnfreezeEvery = 2;
  f.project.setConfig(c, "gradual");
  const auto timeline = f.model->unfreezeTimeline();
  ASSERT_EQ(timeline.size(), 3u);
  EXPECT_EQ(timeline[2].first, "block3");
  EXPECT_EQ(timeline[2].second, 1);  // the top stage trains from the first epoch
  EXPECT_EQ(timeline[1].second, 3);
  EXPECT_EQ(timeline[0].second, 5);
}

// Found by a new user: with a 10-class task the tree showed the backbone's own head
// (EfficientNet's "_fc [1, 1000]") and its 1,281,000 parameters as trainable.
TEST(ModelController, TheTreeShowsTheHeadTrainingAttachesForTheDatasetsClasses) {
  Fixture f(core::Strategy::LinearProbe);
  QSignalSpy built(f.model.get(), &ModelController::built);
  QSignalSpy totals(f.model.get(), &ModelController::totalsChanged);
  f.model->setNumClasses(3);
  ASSERT_TRUE(built.wait(20000));
  LayerTreeModel* m = f.model->model();
  EXPECT_EQ(m->data(f.at("fc").siblingAtColumn(LayerTreeModel::kShape), Qt::DisplayRole).toString(),
            "[1, 3]");
  const int64_t features = f.model->network()->featureDim();
  ASSERT_GE(totals.count(), 1);
  EXPECT_EQ(totals.last().at(0).toLongLong(), features * 3 + 3) << "a linear probe trains the head";

  // An MLP head is what the tree shows once chosen.
  core::TrainConfig c = f.project.project().config;
  c.head = core::HeadSpec::Kind::Mlp;
  c.headHidden = 16;
  f.project.setConfig(c, "mlp head");
  ASSERT_TRUE(built.wait(20000));
  EXPECT_EQ(totals.last().at(0).toLongLong(), features * 16 + 16 + 16 * 3 + 3);
}

TEST(ModelController, TheLayerTreeModelPassesQtsModelTester) {
  Fixture f(core::Strategy::FinetuneLast);
  QAbstractItemModelTester tester(f.model->model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  QSignalSpy built(f.model.get(), &ModelController::built);
  f.model->setNumClasses(5);  // a rebuild replaces the whole tree
  ASSERT_TRUE(built.wait(20000));
  ASSERT_TRUE(f.model->model()->setData(f.at("block2"), Qt::Checked, Qt::CheckStateRole));
  f.project.undoStack()->undo();
}
}  // namespace
}  // namespace tlab::ui
