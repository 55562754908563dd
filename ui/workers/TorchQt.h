#pragma once
// LibTorch declares a member function named slots(), and Qt defines `slots` as a macro. A UI
// file that needs LibTorch types includes this header before any Qt or core header, so the
// first (and only) expansion of the LibTorch headers happens with the macro out of the way.
#pragma push_macro("slots")
#undef slots
#include <torch/torch.h>
#pragma pop_macro("slots")
