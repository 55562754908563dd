// The GUI and the CLI start a run from the same settings: a new project's config equals the
// CLI's config without flags, and picking each strategy in the Train page's form gives exactly
// the config `transferlab-cli train --strategy NAME` would run (core::withStrategyDefaults).
#include <gtest/gtest.h>

#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <QComboBox>
#include <QProcess>
#include <nlohmann/json.hpp>

#include "core/project/Project.h"
#include "core/train/TrainConfig.h"
#include "ui/widgets/TrainSettingsForm.h"

using namespace tlab;
using nlohmann::json;

namespace {

json cliConfig(const QStringList& extra) {
  QProcess cli;
  cli.start(QStringLiteral(TLAB_CLI_PATH),
            QStringList{QStringLiteral("train"), QStringLiteral("--print-config")} + extra);
  EXPECT_TRUE(cli.waitForFinished(60000));
  EXPECT_EQ(cli.exitCode(), 0) << cli.readAllStandardError().toStdString();
  return json::parse(cli.readAllStandardOutput().toStdString());
}

}  // namespace

TEST(FrontEndAgreement, NewProjectStartsFromTheCliDefaults) {
  EXPECT_EQ(core::toJson(core::Project{}.config), cliConfig({}));
}

TEST(FrontEndAgreement, EachStrategyPickedInTheFormEqualsTheCliFlag) {
  for (const auto s : {core::Strategy::LinearProbe, core::Strategy::FinetuneLast,
                       core::Strategy::Full, core::Strategy::LpFt, core::Strategy::Scratch}) {
    ui::TrainSettingsForm form;
    form.setConfig(core::Project{}.config);
    auto* box = form.findChild<QComboBox*>();  // the strategy box comes first
    ASSERT_NE(box, nullptr);
    const int index = box->findData(int(s));
    ASSERT_GE(index, 0);
    // Start from another strategy so that picking `s` is a real change in the form.
    box->setCurrentIndex(index == 0 ? 1 : 0);
    box->setCurrentIndex(index);
    ASSERT_EQ(form.config().strategy, s);
    const json gui = core::toJson(form.config());
    const json cli =
        cliConfig({QStringLiteral("--strategy"), QString::fromLatin1(core::strategyName(s))});
    EXPECT_EQ(gui, cli) << core::strategyName(s) << "\nGUI: " << gui.dump()
                        << "\nCLI: " << cli.dump();
  }
}

TEST(FrontEndAgreement, ExplicitConfigKeysWinOverTheStrategyDefaults) {
  const auto c = core::trainConfigFromJson({{"strategy", "linear-probe"}, {"epochs", 3}}, "test");
  EXPECT_EQ(c.epochs, 3);
  EXPECT_DOUBLE_EQ(c.lr, 1e-2);  // linear-probe's default, not TrainConfig's 1e-3
  const auto d = core::trainConfigFromJson({{"strategy", "full"}, {"lr", 0.05}}, "test");
  EXPECT_DOUBLE_EQ(d.lr, 0.05);
  EXPECT_DOUBLE_EQ(d.backboneLrMultiplier, 0.1);
}
