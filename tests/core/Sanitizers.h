#pragma once
// Whether this test binary was built with AddressSanitizer (GCC or clang): some tests skip
// work that is only slow there, or that the sanitizer's shadow memory would distort.
namespace tlab::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace tlab::test
