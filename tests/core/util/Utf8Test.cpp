#include "core/util/Utf8.h"

#include <gtest/gtest.h>

namespace tlab::core {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"));
  EXPECT_TRUE(isValidUtf8(""));
}

TEST(Utf8, RejectsMalformedSequences) {
  EXPECT_FALSE(isValidUtf8("caf\xE9"));           // Latin-1
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xE6\x97"));          // truncated
  EXPECT_FALSE(isValidUtf8("\x80"));              // lone continuation
}

TEST(Utf8, StripsBom) { EXPECT_EQ(stripBom("\xEF\xBB\xBFhi"), "hi"); }

}  // namespace
}  // namespace tlab::core
