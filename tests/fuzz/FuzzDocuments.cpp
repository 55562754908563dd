// JSON documents the application opens: project files, checkpoint state and bundle model.json
// (the first byte picks which). A bundle gets a small valid weights file beside it.
#include "FuzzFile.h"
#include "core/Errors.h"
#include "core/project/Project.h"
#include "core/train/Checkpoint.h"
#include "core/train/ModelBundle.h"
#include "core/weights/StateDict.h"

TLAB_FUZZ_TARGET(documents) {
  if (size < 1) return 0;
  using namespace tlab;
  try {
    switch (data[0] % 3) {
      case 0:
        (void)core::loadProject(fuzz::writeInput("p.tlproj", data + 1, size - 1));
        break;
      case 1:
        fuzz::writeInput("ckpt/state.json", data + 1, size - 1);
        (void)core::readCheckpointState(fuzz::scratchDir() / "ckpt");
        break;
      default: {
        const auto dir = fuzz::scratchDir() / "bundle";
        fuzz::writeInput("bundle/model.json", data + 1, size - 1);
        static const bool weights = [&] {
          core::writeSafetensors(dir / "model.safetensors", {{"x", torch::zeros({4})}});
          return true;
        }();
        (void)weights;
        (void)core::loadModelBundle(dir);
      }
    }
  } catch (const core::Error&) {
  } catch (const c10::Error&) {
  }
  return 0;
}
